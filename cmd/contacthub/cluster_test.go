package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/pgdev"
)

// startNode runs `contacthub serve -cluster` on the shared database and
// returns once it answers /healthz (leader or standby).
func startNode(t *testing.T, bin, dsn, dataDir string) *server {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "-demo", "-cluster", "-data-dir", dataDir, "-http-addr", addr, "-sip-addr", "", "-smtp-addr", "")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "CONTACTHUB_CLUSTER=")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	s := &server{cmd: cmd, addr: addr, output: &syncBuf{}, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.output.WriteString(sc.Text() + "\n")
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); pw.Close(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	s.waitStatus(t, "/healthz", 200, 60*time.Second)
	return s
}

// readyz returns the node's readiness code and body.
func (s *server) readyz() (int, map[string]any) {
	resp, err := http.Get("http://" + s.addr + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// waitLeaderNamed polls a standby's /readyz until it names a leader (its
// first lock attempt runs just after HTTP starts) and returns the answer.
func (s *server) waitLeaderNamed(t *testing.T) (int, map[string]any) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := s.readyz()
		if (body != nil && body["leader"] != "") || time.Now().After(deadline) {
			return code, body
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus polls path until it answers code and returns how long it took.
func (s *server) waitStatus(t *testing.T, path string, code int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		resp, err := http.Get("http://" + s.addr + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == code {
				return time.Since(start)
			}
		}
		select {
		case <-s.done:
			t.Fatalf("node exited:\n%s", s.output.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s of %s not %d within %v:\n%s", path, s.addr, code, within, s.output.String())
	return 0
}

// TestClusterFailover: two nodes on one PostgreSQL; only the leader routes,
// the standby answers 503 naming it. The leader is SIGKILLed with contacts
// waiting; the standby takes the lock, restores the desk from the database
// and serves within seconds, every contact still waiting with its original
// enqueue time, none lost or duplicated, and sessions carry over.
func TestClusterFailover(t *testing.T) {
	base, bin := newDataDir(t)
	ctx := context.Background()
	pg, err := pgdev.Start(ctx, pgdev.Options{DataDir: filepath.Join(base, "pg"), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	dsn := pg.DSN()

	a := startNode(t, bin, dsn, filepath.Join(base, "a"))
	a.waitStatus(t, "/readyz", 200, 60*time.Second) // first leader seeds the demo data
	b := startNode(t, bin, dsn, filepath.Join(base, "b"))
	aURL, bURL := "http://"+a.addr, "http://"+b.addr
	if code, body := b.waitLeaderNamed(t); code != 503 || body["role"] != "standby" || body["leader"] != aURL {
		t.Fatalf("standby readyz: %d %v, want 503 standby with leader %s", code, body, aURL)
	}
	if code, body := a.readyz(); code != 200 || body["role"] != "leader" {
		t.Fatalf("leader readyz: %d %v", code, body)
	}

	sup := login(t, a.addr, "supervisor", "supervisor-demo-pw")
	// The same cookie jar (cookies are per host, not port) on node B.
	supB := &client{t: t, base: bURL, hc: sup.hc}
	// The standby never routes: one writer.
	for _, req := range [][2]string{{"GET", "/api/v1/contacts?open=true"}, {"GET", "/api/v1/queues"},
		{"POST", "/api/v1/contacts"}, {"POST", "/api/v1/login"}, {"GET", "/ws/agent"}} {
		code, body := supB.do(req[0], req[1], `{"channel":"voice","from":{"kind":"phone","value":"+8613700137000"},"external_id":"standby"}`)
		if code != 503 || !strings.Contains(body, "standby node; leader is "+aURL) {
			t.Fatalf("standby %s %s: %d %s, want 503 naming the leader", req[0], req[1], code, body)
		}
	}

	type created struct {
		Contact struct {
			ID         int64  `json:"id"`
			EnqueuedAt string `json:"enqueued_at"`
		} `json:"contact"`
	}
	want := map[int64]string{}
	for i, from := range []string{"+8613700137000", "+8613012345678", "+8613900139000", "+8613800138000", "+8613600136000"} {
		var c created
		sup.must("POST", "/api/v1/contacts", fmt.Sprintf(`{"channel":"voice","from":{"kind":"phone","value":%q},"external_id":"call-%d"}`, from, i), 201, &c)
		want[c.Contact.ID] = c.Contact.EnqueuedAt
	}
	if len(want) != 5 {
		t.Fatalf("created %d distinct contacts, want 5", len(want))
	}

	killed := time.Now()
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	ready := b.waitStatus(t, "/readyz", 200, 10*time.Second)
	// Serving: the session made on A works on B, the desk answers.
	var list openContacts
	supB.must("GET", "/api/v1/contacts?open=true", "", 200, &list)
	serving := time.Since(killed)
	t.Logf("takeover: B ready %v after SIGKILL of A, serving the API %v after", ready.Round(time.Millisecond), serving.Round(time.Millisecond))
	if serving > 10*time.Second {
		t.Fatalf("takeover took %v, want < 10s", serving)
	}
	if code, body := b.readyz(); body["role"] != "leader" || body["leader"] != bURL {
		t.Fatalf("B readyz after takeover: %d %v", code, body)
	}

	assertRestored(t, supB, list, want, "on B after takeover")
	// The caller's retry reaching the new leader does not duplicate.
	var again created
	supB.must("POST", "/api/v1/contacts", `{"channel":"voice","from":{"kind":"phone","value":"+8613700137000"},"external_id":"call-0"}`, 201, &again)
	if want[again.Contact.ID] == "" {
		t.Errorf("retry on B made a new contact %d", again.Contact.ID)
	}
	supB.must("GET", "/api/v1/contacts?open=true", "", 200, &list)
	if len(list.Contacts) != len(want) {
		t.Fatalf("retry created a duplicate: %d open contacts", len(list.Contacts))
	}

	// A comes back: it is now the standby and names B.
	a = startNode(t, bin, dsn, filepath.Join(base, "a"))
	if code, body := a.waitLeaderNamed(t); code != 503 || body["role"] != "standby" || body["leader"] != bURL {
		t.Fatalf("restarted A: %d %v, want standby naming %s", code, body, bURL)
	}

	// An orderly stop of the leader (SIGINT): it releases the lock only after
	// its shutdown, and A takes over with the same contacts waiting.
	stopped := time.Now()
	b.stop(t)
	a.waitStatus(t, "/readyz", 200, 15*time.Second)
	t.Logf("takeover after an orderly stop: A ready %v after SIGINT to B", time.Since(stopped).Round(time.Millisecond))
	supA := &client{t: t, base: "http://" + a.addr, hc: sup.hc}
	supA.must("GET", "/api/v1/contacts?open=true", "", 200, &list)
	if len(list.Contacts) != len(want) {
		t.Fatalf("%d open contacts after the second takeover, want %d", len(list.Contacts), len(want))
	}
	for _, c := range list.Contacts {
		if c.State != "queued" || want[c.ID] == "" {
			t.Errorf("contact %d after the second takeover: state %s", c.ID, c.State)
		}
	}
	a.stop(t)
}
