package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/gorilla/websocket"
)

// benchClients connects n agents (ids 1..n) and counts the frames each gets
// after its hello.
func benchClients(b *testing.B, n int) (*Hub, *atomic.Int64, func()) {
	b.Helper()
	h := New(newFakeDesk(), nil, Options{SendBuffer: 1024})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = h.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id int64
		fmt.Sscan(r.URL.Query().Get("agent"), &id)
		h.ServeAgent(w, r, AgentInfo{ID: contact.AgentID(id)})
	}))
	var got atomic.Int64
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, n)
	for i := range n {
		ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws%s/?agent=%d", strings.TrimPrefix(srv.URL, "http"), i+1), nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ws.ReadMessage(); err != nil { // hello
			b.Fatal(err)
		}
		conns[i] = ws
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				got.Add(1)
			}
		}()
	}
	return h, &got, func() {
		cancel()
		for _, ws := range conns {
			ws.Close()
		}
		wg.Wait()
		srv.Close()
	}
}

func waitCount(b *testing.B, got *atomic.Int64, want int64) {
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", got.Load(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

var benchEnvelope = Envelope{Type: "queue_counts", Data: map[string]int{"sales": 3, "support": 12, "vip": 0}}

// BenchmarkSend sends one envelope per op to one of 1,000 connected agents
// in turn, and counts delivered frames per second.
func BenchmarkSend(b *testing.B) {
	const agents = 1000
	h, got, stop := benchClients(b, agents)
	defer stop()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := h.Send(contact.AgentID(i%agents+1), benchEnvelope); err != nil {
			b.Fatal(err)
		}
	}
	waitCount(b, got, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkBroadcast fans one envelope per op out to 1,000 connected
// agents, in windows smaller than the send buffer, and counts delivered
// frames per second.
func BenchmarkBroadcast(b *testing.B) {
	const agents, window = 1000, 256
	h, got, stop := benchClients(b, agents)
	defer stop()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		h.Broadcast(benchEnvelope)
		if (i+1)%window == 0 {
			waitCount(b, got, int64(i+1-window/2)*agents)
		}
	}
	waitCount(b, got, int64(b.N)*agents)
	b.ReportMetric(float64(b.N)*agents/time.Since(start).Seconds(), "msgs/s")
	if h.Count() != agents {
		b.Fatalf("%d of %d agents still connected", h.Count(), agents)
	}
}
