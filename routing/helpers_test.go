package routing

import (
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// ok fails the test on error: ok(t)(e.Enqueue(...)).
func ok(t *testing.T) func([]Event, error) []Event {
	return func(evs []Event, err error) []Event {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return evs
	}
}

func newEngine(t *testing.T, cfg Config, qs ...Queue) *Engine {
	t.Helper()
	e := New(cfg)
	for _, q := range qs {
		if err := e.AddQueue(q); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// addAgent adds an agent and makes it available at when.
func addAgent(t *testing.T, e *Engine, a Agent, when time.Time) []Event {
	t.Helper()
	evs := ok(t)(e.SetAgent(a, when))
	return append(evs, ok(t)(e.SetAgentState(a.ID, Available, when))...)
}

func members(qs ...contact.QueueName) []Membership {
	var ms []Membership
	for _, q := range qs {
		ms = append(ms, Membership{Queue: q, Level: 1})
	}
	return ms
}

func kinds(evs []Event, k EventKind) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// offered returns the single offered event, failing otherwise.
func offered(t *testing.T, evs []Event) Event {
	t.Helper()
	o := kinds(evs, EventOffered)
	if len(o) != 1 {
		t.Fatalf("want 1 offer, got %d: %+v", len(o), evs)
	}
	return o[0]
}

func noOffer(t *testing.T, evs []Event) {
	t.Helper()
	if o := kinds(evs, EventOffered); len(o) != 0 {
		t.Fatalf("want no offer, got %+v", o)
	}
}

func item(id contact.ID, q contact.QueueName, prio int) Item {
	return Item{Contact: contact.ID(id), Channel: contact.Voice, Queue: q, Priority: prio}
}
