package webhook_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/webhook"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestSignVerify(t *testing.T) {
	now := time.Unix(1764062400, 0)
	body := []byte(`{"event":"contact.created"}`)
	sig := webhook.Sign("s3cret", now.Unix(), body)
	tests := []struct {
		name   string
		secret string
		sig    string
		ts     int64
		body   []byte
		want   bool
	}{
		{"good", "s3cret", sig, now.Unix(), body, true},
		{"wrong secret", "other", sig, now.Unix(), body, false},
		{"tampered body", "s3cret", sig, now.Unix(), []byte(`{"event":"contact.closed"}`), false},
		{"replayed", "s3cret", webhook.Sign("s3cret", now.Add(-time.Hour).Unix(), body), now.Add(-time.Hour).Unix(), body, false},
		{"empty signature", "s3cret", "", now.Unix(), body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := webhook.Verify(tc.secret, tc.sig, tc.ts, tc.body, now, 5*time.Minute); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 20: time.Hour} {
		if got := webhook.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestDeliveredSignedAndRetried: contact events reach a real HTTP endpoint,
// signed; a failing endpoint gets the event again after a backoff.
func TestDeliveredSignedAndRetried(t *testing.T) {
	r := desktest.New(t, 1)
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	fail := true
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		ts, _ := strconv.ParseInt(req.Header.Get("X-ContactHub-Timestamp"), 10, 64)
		if !webhook.Verify("hook-secret", req.Header.Get("X-ContactHub-Signature"), ts, body, time.Now(), 5*time.Minute) {
			t.Errorf("bad signature on %s", req.Header.Get("X-ContactHub-Event"))
		}
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		got = append(got, req.Header.Get("X-ContactHub-Event"))
	}))
	defer recv.Close()
	wh, err := r.Store.CreateWebhook(ctx, store.Webhook{URL: recv.URL, Secret: "hook-secret", Events: []string{"contact.created", "contact.answered"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Available(t, r.Agents[0])
	if _, err := r.Desk.Accept(ctx, contact.Arrival{Channel: contact.Chat, From: contact.Identity{Kind: contact.Visitor, Value: "v1"}}); err != nil {
		t.Fatal(err)
	}
	r.Accept(t, r.Agents[0], r.NextOffer(t, r.Agents[0]))

	d := webhook.New(r.Store, slog.New(slog.DiscardHandler))
	d.Once(ctx) // created fails (503), answered delivered
	// The failed one is due again after its backoff; run as if time passed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		r.Store.Pool.Exec(ctx, `UPDATE webhook_deliveries SET next_at = now() WHERE status = 'pending'`)
		d.Once(ctx)
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("delivered %v, want contact.created and contact.answered", got)
	}
	log, err := r.Store.Deliveries(ctx, wh.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	attempts := 0
	for _, l := range log {
		if l.Status != "delivered" {
			t.Errorf("delivery %d: %s", l.ID, l.Status)
		}
		attempts += l.Attempts
	}
	if attempts != 3 {
		t.Fatalf("%d attempts in the log, want 3 (one retry)", attempts)
	}
}
