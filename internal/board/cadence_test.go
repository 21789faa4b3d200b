package board_test

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestBoardCadence100 connects 100 supervisor websockets while contacts flow
// through a real desk at a steady rate (arrivals, offers accepted, contacts
// wrapped up) and measures the interval between "board" frames each client
// receives. The board must keep its one-second cadence: p99 under 1.25 s.
//
// A load test, so it runs only when asked (not under -race, whose slowdown
// is not what is measured):
//
//	CONTACTHUB_BOARD_LOAD=20 go test -run TestBoardCadence100 -v -count=1 ./internal/board   (seconds of load)
func TestBoardCadence100(t *testing.T) {
	secs, err := strconv.Atoi(os.Getenv("CONTACTHUB_BOARD_LOAD"))
	if err != nil || secs <= 0 {
		t.Skip("set CONTACTHUB_BOARD_LOAD=<seconds> to run the board load test")
	}
	const clients, agents, rate = 100, 10, 20 // rate: arrivals per second
	dur := time.Duration(secs) * time.Second
	e := newBoardEnv(t, agents)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, a := range e.rig.Agents {
		e.rig.Available(t, a)
	}
	var mu sync.Mutex
	var gaps []time.Duration
	var frames, bytes int
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		ws, _, err := e.dial(e.supTok)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(ws *websocket.Conn) {
			defer wg.Done()
			defer ws.Close()
			var last time.Time
			for ctx.Err() == nil {
				_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, b, err := ws.ReadMessage()
				if err != nil {
					return
				}
				now := time.Now()
				var env struct{ Type string }
				_ = json.Unmarshal(b, &env)
				if env.Type != "board" {
					continue
				}
				mu.Lock()
				if !last.IsZero() {
					gaps = append(gaps, now.Sub(last))
				}
				frames++
				bytes += len(b)
				mu.Unlock()
				last = now
			}
		}(ws)
	}
	// The agents: accept every offer, wrap up after 2 s.
	var handled atomic.Int64
	var arrived int
	go func() {
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for ctx.Err() == nil {
			<-tk.C
			snap := e.rig.Desk.Engine().Snapshot()
			for _, o := range snap.Offers {
				_, _ = e.rig.Desk.AcceptOffer(ctx, o.Agent, o.ID)
			}
			for _, a := range snap.Agents {
				for _, as := range a.Assigned {
					if time.Since(as.AcceptedAt) > 2*time.Second {
						if _, err := e.rig.Desk.WrapUp(ctx, a.ID, as.Contact, "resolved", ""); err == nil {
							handled.Add(1)
						}
					}
				}
			}
		}
	}()
	start := time.Now()
	tk := time.NewTicker(time.Second / rate)
	for time.Since(start) < dur {
		<-tk.C
		arrive(t, e)
		arrived++
	}
	tk.Stop()
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) == 0 {
		t.Fatal("no frames")
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	q := func(p float64) time.Duration { return gaps[int(p*float64(len(gaps)-1))] }
	t.Logf("clients=%d duration=%v arrivals=%d handled≈%d frames=%d avg_frame=%dB push interval p50=%v p99=%v max=%v",
		clients, dur, arrived, handled.Load(), frames, bytes/frames, q(0.50), q(0.99), gaps[len(gaps)-1])
	if e.b.Connections() > clients {
		t.Errorf("connections %d", e.b.Connections())
	}
	if q(0.99) > 1250*time.Millisecond {
		t.Errorf("push interval p99 %v over 1.25 s", q(0.99))
	}
}
