package routing

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

func restoreQueues() []Queue {
	return []Queue{
		{Name: "vip", Weight: 2, AgeingRate: 0.5, WrapUp: 30 * time.Second},
		{Name: "gen", AgeingRate: 1, LevelWait: 10 * time.Second},
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	e := newEngine(t, Config{}, restoreQueues()...)
	addAgent(t, e, Agent{ID: 1, Queues: members("vip", "gen"), Skills: map[string]int{"fr": 3}}, at(0))
	addAgent(t, e, Agent{ID: 2, Queues: []Membership{{Queue: "gen", Level: 2}}}, at(0))
	// agent 1 takes contact 1 and completes it (wrap-up to 40), then takes contact 2
	o := offered(t, ok(t)(e.Enqueue(item(1, "vip", 50), at(1))))
	ok(t)(e.Accept(o.Offer, at(2)))
	ok(t)(e.Complete(1, at(10)))
	for i := 2; i <= 12; i++ {
		it := item(contact.ID(i), []contact.QueueName{"vip", "gen"}[i%2], i%4*10)
		it.Attributes = map[string]string{"n": "x"}
		it.Tier = "gold"
		ok(t)(e.Enqueue(it, at(float64(10+i))))
	}
	ok(t)(e.SetAgentState(2, Away("lunch"), at(25)))
	before := e.Snapshot()
	if len(before.Offers) != 0 {
		t.Fatalf("test wants no live offers: %+v", before.Offers)
	}
	// through JSON, as the desk would persist it
	b, err := json.Marshal(before)
	if err != nil {
		t.Fatal(err)
	}
	var saved Snapshot
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}

	r := newEngine(t, Config{}, restoreQueues()...)
	evs := ok(t)(r.Restore(saved.Contacts, saved.Agents, before.At))
	if n := len(kinds(evs, EventEnqueued)); n != len(before.Contacts) {
		t.Fatalf("%d restored enqueues, want %d", n, len(before.Contacts))
	}
	noOffer(t, evs)
	after := r.Snapshot()
	if len(after.Contacts) != len(before.Contacts) {
		t.Fatalf("%d contacts, want %d", len(after.Contacts), len(before.Contacts))
	}
	for i := range before.Contacts {
		x, y := before.Contacts[i], after.Contacts[i]
		if x.Contact != y.Contact || !x.EnqueuedAt.Equal(y.EnqueuedAt) || !x.QueuedAt.Equal(y.QueuedAt) ||
			x.Priority != y.Priority || x.Effective != y.Effective || x.Stage != y.Stage || !reflect.DeepEqual(x.Attributes, y.Attributes) {
			t.Fatalf("contact %d:\n%+v\n%+v", i, x, y)
		}
	}
	for i := range before.Agents {
		x, y := before.Agents[i], after.Agents[i]
		if x.ID != y.ID || x.Presence != y.Presence || x.State != y.State || len(x.Assigned) != len(y.Assigned) ||
			!reflect.DeepEqual(x.Load, y.Load) || !x.WrapUpUntil.Equal(y.WrapUpUntil) {
			t.Fatalf("agent %d:\n%+v\n%+v", i, x, y)
		}
	}
	// both engines continue identically: the wrap-up ends at 40 and agent 1
	// gets the same contact.
	o1 := offered(t, e.Tick(at(45)))
	o2 := offered(t, r.Tick(at(45)))
	if o1.Contact != o2.Contact || o1.Agent != o2.Agent || !o1.At.Equal(o2.At) {
		t.Fatalf("diverged: %+v vs %+v", o1, o2)
	}
}
