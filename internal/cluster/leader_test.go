package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// node runs a Leader until the test ends; done receives Run's result.
type node struct {
	l      *Leader
	cancel context.CancelFunc
	done   chan error
}

func startNode(t *testing.T, dsn, url string) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{l: New(Options{DSN: dsn, Advertise: url, Retry: 100 * time.Millisecond, Ping: 200 * time.Millisecond}),
		cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- n.l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
		n.l.Release()
	})
	return n
}

func waitLeader(t *testing.T, l *Leader, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("not leader within %v", within)
	}
}

func get(t *testing.T, h http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

func TestOneLeaderAndGate(t *testing.T) {
	dsn := dbtest.DSN(t)
	a := startNode(t, dsn, "http://10.0.0.1:8080")
	waitLeader(t, a.l, 5*time.Second)
	b := startNode(t, dsn, "http://10.0.0.2:8080")

	// b keeps trying but never gets the lock while a holds it, and learns
	// who the leader is.
	deadline := time.Now().Add(5 * time.Second)
	for b.l.Current() != "http://10.0.0.1:8080" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // several attempts
	if b.l.IsLeader() {
		t.Fatal("two leaders")
	}
	if got := b.l.Current(); got != "http://10.0.0.1:8080" {
		t.Fatalf("standby sees leader %q", got)
	}

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	ga, gb := a.l.Gate(app), b.l.Gate(app)
	tests := []struct {
		name string
		h    http.Handler
		path string
		code int
		role string
	}{
		{"standby health", gb, "/healthz", http.StatusTeapot, ""},
		{"standby ready", gb, "/readyz", 503, "standby"},
		{"standby api", gb, "/api/v1/contacts", 503, "standby"},
		{"leader not yet serving", ga, "/api/v1/contacts", 503, "leader"},
		{"leader ready before serving", ga, "/readyz", 503, "leader"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, tc.h, tc.path)
			if code != tc.code || (tc.role != "" && body["role"] != tc.role) {
				t.Fatalf("%s: %d %v, want %d role %q", tc.path, code, body, tc.code, tc.role)
			}
		})
	}
	if _, body := get(t, gb, "/api/v1/queues"); body["error"] != "standby node; leader is http://10.0.0.1:8080" {
		t.Fatalf("standby error %v", body["error"])
	}
	b.l.MarkServing() // no effect on a standby
	a.l.MarkServing()
	if code, _ := get(t, gb, "/api/v1/contacts"); code != 503 {
		t.Fatalf("standby served after MarkServing: %d", code)
	}
	if code, _ := get(t, ga, "/api/v1/contacts"); code != http.StatusTeapot {
		t.Fatalf("serving leader: %d", code)
	}
	if code, body := get(t, ga, "/readyz"); code != 200 || body["role"] != "leader" {
		t.Fatalf("leader ready: %d %v", code, body)
	}

	// The leader stops: it keeps the lock until Release (its last writes),
	// then b takes over.
	a.cancel()
	if err := <-a.done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	a.done <- nil // for the cleanup
	if a.l.IsLeader() || a.l.Serving() {
		t.Fatal("stopped node still reports leader")
	}
	if code, _ := get(t, ga, "/api/v1/contacts"); code != 503 {
		t.Fatalf("stopped leader still serves: %d", code)
	}
	time.Sleep(500 * time.Millisecond)
	if b.l.IsLeader() {
		t.Fatal("standby took the lock before the old leader released it")
	}
	start := time.Now()
	a.l.Release()
	waitLeader(t, b.l, 3*time.Second)
	t.Logf("takeover after orderly stop: %v", time.Since(start))
}

// TestLockConnectionLost: when the leader's session is ended under it, the
// leader notices within a ping, steps down with ErrLost, and the standby
// takes the lock.
func TestLockConnectionLost(t *testing.T) {
	dsn := dbtest.DSN(t)
	a := startNode(t, dsn, "http://a")
	waitLeader(t, a.l, 5*time.Second)
	a.l.MarkServing()
	b := startNode(t, dsn, "http://b")

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'contacthub-leader http://a'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminate leader session: %d %v", n, err)
	}
	select {
	case err := <-a.done:
		if !errors.Is(err, ErrLost) {
			t.Fatalf("Run = %v, want ErrLost", err)
		}
		a.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("leader did not notice its lost lock connection")
	}
	if a.l.IsLeader() || a.l.Serving() {
		t.Fatal("node that lost the lock still reports leader")
	}
	waitLeader(t, b.l, 3*time.Second)
}
