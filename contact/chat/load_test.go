package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/gorilla/websocket"
)

// quietTB lets an agent bot use desktest's Recorder.Next from its own
// goroutine: a timeout ends the goroutine instead of failing the test.
type quietTB struct{ testing.TB }

func (quietTB) Helper()               {}
func (quietTB) Fatalf(string, ...any) { runtime.Goexit() }

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) pct(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	return l.d[min(len(l.d)-1, int(float64(len(l.d))*p))]
}

func (l *latencies) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", len(l.d), l.pct(0.50).Round(100*time.Microsecond),
		l.pct(0.99).Round(100*time.Microsecond), l.pct(1).Round(100*time.Microsecond))
}

// TestChatLoad: N concurrent chats, each a visitor bot on a websocket and an
// agent bot on the desk (three chats per agent), exchanging messages for a
// while. Run with CONTACTHUB_CHAT_LOAD=N (see docs/BENCHMARKS.md).
func TestChatLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CONTACTHUB_CHAT_LOAD"))
	if n <= 0 {
		t.Skip("set CONTACTHUB_CHAT_LOAD=number of chats")
	}
	every := 2 * time.Second // each visitor writes every 2 s on average
	if v := os.Getenv("CONTACTHUB_CHAT_LOAD_EVERY"); v != "" {
		every, _ = time.ParseDuration(v)
	}
	dur := 20 * time.Second
	if v := os.Getenv("CONTACTHUB_CHAT_LOAD_FOR"); v != "" {
		dur, _ = time.ParseDuration(v)
	}
	nAgents := (n + 2) / 3
	e := newEnv(t, nAgents, func(c *Config) {
		c.VisitorRate, c.IPRate, c.SessionRate = Rate{Per: -1}, Rate{Per: -1}, Rate{Per: -1}
	})
	ctx := context.Background()
	t0 := time.Now()
	for _, a := range e.r.Agents {
		e.r.Available(t, a)
	}
	var ackLat, inLat, outLat, rtLat latencies
	var accepted, toAgent, toVisitor, acks atomic.Int64

	// Agent bots: accept offers, answer every visitor message at once.
	held := make([]atomic.Int32, nAgents)
	for i, a := range e.r.Agents {
		go func(a contact.AgentID) {
			q := quietTB{}
			for range 3 {
				o := e.r.NextOffer(q, a)
				if o.OfferID == 0 {
					break // no more chats for this agent
				}
				held[i].Add(1)
				if _, err := e.r.Desk.AcceptOffer(ctx, a, o.OfferID); err != nil {
					t.Errorf("accept: %v", err)
					return
				}
				accepted.Add(1)
			}
			for {
				var f struct {
					Message contact.Message `json:"message"`
				}
				_ = json.Unmarshal(e.r.Rec.Next(q, a, "message"), &f)
				m := f.Message
				if m.Direction != contact.Inbound || !strings.HasPrefix(m.Body, "t:") {
					continue
				}
				sent, _ := strconv.ParseInt(m.Body[2:], 10, 64)
				inLat.add(time.Since(time.Unix(0, sent)))
				toAgent.Add(1)
				body := fmt.Sprintf("r:%d:%d", sent, time.Now().UnixNano())
				if _, err := e.r.Desk.Reply(ctx, a, m.ContactID, body); err != nil {
					t.Errorf("reply: %v", err)
					return
				}
			}
		}(a)
	}

	// Visitor bots.
	type bot struct {
		c    *websocket.Conn
		wmu  sync.Mutex
		done chan struct{}
	}
	bots := make([]*bot, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s := e.session(t, map[string]string{"name": fmt.Sprint("Bot ", i)})
			c, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s?token=%s", e.ws, s.Token), nil)
			if err != nil {
				t.Error(err)
				return
			}
			b := &bot{c: c, done: make(chan struct{})}
			bots[i] = b
			go func() {
				defer close(b.done)
				for {
					_, raw, err := c.ReadMessage()
					if err != nil {
						return
					}
					now := time.Now()
					var f struct {
						Type string `json:"type"`
						Data struct {
							Body     string `json:"body"`
							ClientID string `json:"client_id"`
						} `json:"data"`
					}
					_ = json.Unmarshal(raw, &f)
					switch {
					case f.Type == "ack":
						sent, _ := strconv.ParseInt(f.Data.ClientID, 10, 64)
						ackLat.add(now.Sub(time.Unix(0, sent)))
						acks.Add(1)
					case f.Type == "message" && strings.HasPrefix(f.Data.Body, "r:"):
						parts := strings.Split(f.Data.Body, ":")
						sent, _ := strconv.ParseInt(parts[1], 10, 64)
						replied, _ := strconv.ParseInt(parts[2], 10, 64)
						outLat.add(now.Sub(time.Unix(0, replied)))
						rtLat.add(now.Sub(time.Unix(0, sent)))
						toVisitor.Add(1)
					}
				}
			}()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for accepted.Load() < int64(n) {
		if time.Since(t0) > 5*time.Minute {
			t.Fatalf("only %d of %d chats accepted", accepted.Load(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, a := range e.r.Agents {
		if held[i].Load() < 3 {
			_ = e.r.Rec.Send(a, "offer", map[string]int{"offer_id": 0})
		}
	}
	t.Logf("setup: %d chats, %d agents, %d visitor sockets in %v", n, nAgents, e.a.Visitors(), time.Since(t0).Round(time.Millisecond))

	// Steady load: every visitor writes every `every` (jittered) for `dur`.
	start := time.Now()
	stop := start.Add(dur)
	var sent atomic.Int64
	var lw sync.WaitGroup
	for _, b := range bots {
		lw.Add(1)
		go func() {
			defer lw.Done()
			time.Sleep(rand.N(every))
			for time.Now().Before(stop) {
				now := time.Now().UnixNano()
				b.wmu.Lock()
				err := b.c.WriteJSON(map[string]any{"type": "message", "data": map[string]string{
					"client_id": strconv.FormatInt(now, 10), "body": "t:" + strconv.FormatInt(now, 10)}})
				b.wmu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				sent.Add(1)
				time.Sleep(every/2 + rand.N(every))
			}
		}()
	}
	lw.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for toVisitor.Load() < sent.Load() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	for _, b := range bots {
		b.c.Close()
	}
	total := acks.Load() + toVisitor.Load()
	t.Logf("chats=%d agents=%d visitor_messages=%d acked=%d at_agent=%d replies_delivered=%d in %v",
		n, nAgents, sent.Load(), acks.Load(), toAgent.Load(), toVisitor.Load(), elapsed.Round(time.Millisecond))
	t.Logf("throughput: %.0f messages/s (visitor→agent + agent→visitor)", float64(total)/elapsed.Seconds())
	t.Logf("visitor send → ack (committed):   %v", &ackLat)
	t.Logf("visitor send → agent notified:    %v", &inLat)
	t.Logf("agent Reply → visitor socket:     %v", &outLat)
	t.Logf("visitor send → agent reply shown: %v", &rtLat)
	if toVisitor.Load() < sent.Load() {
		t.Errorf("%d of %d replies lost", sent.Load()-toVisitor.Load(), sent.Load())
	}
}
