package routing

import (
	"math"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// TestStatsTimeline checks every figure against a timeline computed by hand.
//
//	t=0  c1 (gold), c2, c3, c5 (gold), c4 enter q (T = 20 s, wrap-up 10 s)
//	t=3  c2 abandons            → short abandon: out of the service level
//	t=10 agent 1 available, takes c1 (wait 10 ≤ T: in SL)
//	t=20 c3 abandons (wait = T: neither answered nor "after T")
//	t=20 agent 2 available, takes c5 (wait 20 = T: in SL, the edge)
//	t=30 c4 abandons            → after T; c6 (silver) enters
//	t=40 agent 1 completes c1 (talk 30), wrap-up until 50, then gets c6
//	t=55 agent 1 accepts c6 (wait 25 > T: answered late)
//	t=65 agent 1 completes c6 (talk 10), ends wrap-up at 70 (5 s)
//	t=80 agent 2 completes c5 (talk 60), wrap-up ends at 90 by the timer
func TestStatsTimeline(t *testing.T) {
	var fromSink []Event
	e := newEngine(t, Config{Sink: func(ev Event) { fromSink = append(fromSink, ev) }},
		Queue{Name: "q", WrapUp: 10 * time.Second, OfferTimeout: time.Minute})
	ok(t)(e.SetAgent(Agent{ID: 1, Queues: members("q")}, at(0)))
	ok(t)(e.SetAgent(Agent{ID: 2, Queues: members("q")}, at(0)))
	tier := map[contact.ID]string{1: "gold", 2: "silver", 3: "silver", 5: "gold", 4: "silver", 6: "silver"}
	for _, id := range []contact.ID{1, 2, 3, 5, 4} {
		it := item(id, "q", 0)
		it.Tier = tier[id]
		ok(t)(e.Enqueue(it, at(0)))
	}
	ok(t)(e.Abandon(2, at(3)))
	o := offered(t, ok(t)(e.SetAgentState(1, Available, at(10))))
	if o.Contact != 1 {
		t.Fatalf("offered %d", o.Contact)
	}
	ok(t)(e.Accept(o.Offer, at(10)))
	ok(t)(e.Abandon(3, at(20)))
	o = offered(t, ok(t)(e.SetAgentState(2, Available, at(20))))
	if o.Contact != 5 {
		t.Fatalf("offered %d", o.Contact)
	}
	ok(t)(e.Accept(o.Offer, at(20)))

	r := e.Stats(at(25))
	if q := r.Queues["q"]; q.Waiting != 1 || q.LongestWaiting != 25*time.Second {
		t.Fatalf("at 25 s: waiting %d longest %v", q.Waiting, q.LongestWaiting)
	}

	ok(t)(e.Abandon(4, at(30)))
	it := item(6, "q", 0)
	it.Tier = "silver"
	ok(t)(e.Enqueue(it, at(30)))
	ok(t)(e.Complete(1, at(40)))
	o = offered(t, e.Tick(at(55)))
	if o.Contact != 6 || !o.At.Equal(at(50)) {
		t.Fatalf("offer %+v", o)
	}
	ok(t)(e.Accept(o.Offer, at(55)))
	ok(t)(e.Complete(6, at(65)))
	ok(t)(e.EndWrapUp(1, at(70)))
	ok(t)(e.Complete(5, at(80)))
	e.Tick(at(100))

	r = e.Stats(at(100))
	q := r.Queues["q"]
	checks := []struct {
		name      string
		got, want float64
	}{
		{"offered", float64(q.Offered), 6},
		{"answered", float64(q.Answered), 3},
		{"answered in SL", float64(q.AnsweredInSL), 2},
		{"abandoned", float64(q.Abandoned), 3},
		{"short abandons", float64(q.ShortAbandons), 1},
		{"abandoned after T", float64(q.AbandonedAfterSL), 1},
		{"service level", q.ServiceLevel, 2.0 / 4.0},
		{"ASA s", q.ASA.Seconds(), (10 + 20 + 25) / 3.0},
		{"handled", float64(q.Handled), 3},
		{"AHT s", q.AHT.Seconds(), (30 + 10 + 10 + 5 + 60 + 10) / 3.0},
		{"abandon rate", q.AbandonRate, 3.0 / 6.0},
		{"waiting", float64(q.Waiting), 0},
		// agent 1: busy 10–50, reserved 50–55, busy 55–70, available 70–100;
		// agent 2: busy 20–90, available 90–100.
		{"occupancy", r.Occupancy, (60.0 + 70.0) / (60 + 30 + 70 + 10)},
		{"queue occupancy", q.Occupancy, (60.0 + 70.0) / (60 + 30 + 70 + 10)},
		{"agent 1 occupancy", r.Agents[1].Occupancy, 60.0 / 90.0},
		{"available agents", float64(r.AgentsByState[StateAvailable]), 2},
		{"gold service level", r.Tiers["gold"].ServiceLevel, 1},
		{"gold answered", float64(r.Tiers["gold"].Answered), 2},
		{"silver service level", r.Tiers["silver"].ServiceLevel, 0},
		{"silver abandon rate", r.Tiers["silver"].AbandonRate, 3.0 / 4.0},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if math.Abs(c.got-c.want) > 1e-9 {
				t.Fatalf("got %v, want %v", c.got, c.want)
			}
		})
	}

	t.Run("rebuilt from the sink's events", func(t *testing.T) {
		s := NewStats(StatsConfig{})
		s.SetQueue("q", 0, 0)
		for _, ev := range fromSink {
			s.Apply(ev)
		}
		got := s.Report(at(100)).Queues["q"]
		if got.ServiceLevel != q.ServiceLevel || got.AHT != q.AHT || got.ASA != q.ASA || got.Offered != q.Offered {
			t.Fatalf("rebuilt %+v\nengine %+v", got, q)
		}
	})
}

func TestStatsServiceLevelEdges(t *testing.T) {
	cases := []struct {
		name    string
		kind    EventKind
		wait    time.Duration
		wantSL  float64
		inBase  bool
		inSL    bool
		isShort bool
	}{
		{"answered at T is in", EventAccepted, 20 * time.Second, 1, true, true, false},
		{"answered just after T is out", EventAccepted, 20*time.Second + time.Millisecond, 0, true, false, false},
		{"abandoned at T is not counted", EventAbandoned, 20 * time.Second, 1, false, false, false},
		{"abandoned after T counts against", EventAbandoned, 21 * time.Second, 0, true, false, false},
		{"abandoned under 5 s is excluded", EventAbandoned, 4999 * time.Millisecond, 1, false, false, true},
		{"abandoned at 5 s is not short", EventAbandoned, 5 * time.Second, 1, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStats(StatsConfig{})
			s.SetQueue("q", 20*time.Second, 0.8)
			s.Apply(Event{Kind: EventEnqueued, At: at(0), Contact: 1, Queue: "q"})
			s.Apply(Event{Kind: c.kind, At: at(0).Add(c.wait), Contact: 1, Queue: "q", Wait: c.wait, QueueWait: c.wait})
			f := s.Report(at(100)).Queues["q"]
			if f.ServiceLevel != c.wantSL {
				t.Fatalf("service level %v, want %v", f.ServiceLevel, c.wantSL)
			}
			if (f.ShortAbandons == 1) != c.isShort || (f.AnsweredInSL == 1) != c.inSL || (f.Answered+f.AbandonedAfterSL == 1) != c.inBase {
				t.Fatalf("figures %+v", f)
			}
		})
	}
}
