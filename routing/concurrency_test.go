package routing

import (
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// TestConcurrentUse hammers one engine from several goroutines; run with
// -race. Each goroutine owns its contacts and the engine serialises calls.
func TestConcurrentUse(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q", OfferTimeout: time.Second})
	for i := 1; i <= 4; i++ {
		addAgent(t, e, Agent{ID: contact.AgentID(i), Queues: members("q")}, at(0))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				id := contact.ID(g*1000 + i + 1)
				now := at(float64(i))
				evs, err := e.Enqueue(item(id, "q", i%3), now)
				if err != nil {
					t.Error(err)
					return
				}
				for _, ev := range evs {
					if ev.Kind == EventOffered {
						if _, err := e.Accept(ev.Offer, now); err == nil {
							e.Complete(ev.Contact, now)
						}
					}
				}
				e.Abandon(id, now)
				e.Snapshot()
				e.Stats(now)
			}
		}(g)
	}
	wg.Wait()
}
