package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Benchmarks run against a steady state: every agent busy, a fixed number
// of contacts waiting. One iteration is: an agent completes its contact
// (the engine picks the agent's next contact: one routing decision), the
// agent accepts the offer, and a new contact arrives (so the number
// waiting stays constant). Engines are built once per size and reused.

const (
	benchAgents = 10_000
	benchQueues = 200
)

type benchWorld struct {
	e      *Engine
	r      *rand.Rand
	now    time.Time
	next   contact.ID
	holds  map[contact.AgentID]contact.ID // agent → contact in hand
	offers map[contact.AgentID]OfferID
	agents []contact.AgentID
	turn   int
}

func (w *benchWorld) note(evs []Event) {
	for _, ev := range evs {
		switch ev.Kind {
		case EventOffered:
			w.offers[ev.Agent] = ev.Offer
		case EventAccepted:
			w.holds[ev.Agent] = ev.Contact
			delete(w.offers, ev.Agent)
		}
	}
}

var (
	benchQueueNames []contact.QueueName
	benchSkills     []map[string]int
)

func init() {
	for i := 0; i < benchQueues; i++ {
		benchQueueNames = append(benchQueueNames, contact.QueueName(fmt.Sprint("q", i)))
	}
	for i := 0; i < 6; i++ {
		benchSkills = append(benchSkills, map[string]int{fmt.Sprint("s", i%3): 1 + i/3})
	}
}

func (w *benchWorld) item() Item {
	w.next++
	it := Item{Contact: w.next, Channel: contact.Voice, Queue: benchQueueNames[w.r.IntN(benchQueues)], Priority: w.r.IntN(10) * 10, Tier: "gold"}
	if w.r.IntN(4) == 0 {
		it.Skills = benchSkills[w.r.IntN(len(benchSkills))]
	}
	return it
}

func (w *benchWorld) acceptAll() {
	for len(w.offers) > 0 {
		ids := make([]contact.AgentID, 0, len(w.offers))
		for a := range w.offers {
			ids = append(ids, a)
		}
		slices.Sort(ids)
		for _, a := range ids {
			if o, ok := w.offers[a]; ok {
				evs, _ := w.e.Accept(o, w.now)
				w.note(evs)
			}
		}
	}
}

func newBenchWorld(waiting int, busy bool) *benchWorld {
	w := &benchWorld{
		e: New(Config{}), r: rand.New(rand.NewPCG(1, 2)), now: t0,
		holds: map[contact.AgentID]contact.ID{}, offers: map[contact.AgentID]OfferID{},
	}
	for i := 0; i < benchQueues; i++ {
		q := Queue{Name: contact.QueueName(fmt.Sprint("q", i)), Weight: 1 + i%3, AgeingRate: float64(i%5) * 0.1, OfferTimeout: time.Hour}
		if i%4 == 0 {
			q.LevelWait = 30 * time.Second
		}
		if err := w.e.AddQueue(q); err != nil {
			panic(err)
		}
	}
	extra := 0
	if busy {
		extra = benchAgents
	}
	for i := 0; i < waiting+extra; i++ {
		if _, err := w.e.Enqueue(w.item(), w.now); err != nil {
			panic(err)
		}
	}
	for i := 1; i <= benchAgents; i++ {
		a := Agent{ID: contact.AgentID(i), Skills: map[string]int{fmt.Sprint("s", i%3): 1 + i%2}}
		for _, k := range w.r.Perm(benchQueues)[:3] {
			a.Queues = append(a.Queues, Membership{Queue: contact.QueueName(fmt.Sprint("q", k)), Level: 1 + w.r.IntN(2)})
		}
		w.e.SetAgent(a, w.now)
		evs, _ := w.e.SetAgentState(a.ID, Available, w.now)
		w.note(evs)
		w.agents = append(w.agents, a.ID)
	}
	w.acceptAll()
	return w
}

var (
	benchMu     sync.Mutex
	benchWorlds = map[string]*benchWorld{}
)

func benchWorldFor(waiting int, busy bool) *benchWorld {
	benchMu.Lock()
	defer benchMu.Unlock()
	k := fmt.Sprint(waiting, busy)
	if w := benchWorlds[k]; w != nil {
		return w
	}
	w := newBenchWorld(waiting, busy)
	benchWorlds[k] = w
	return w
}

// decide runs one iteration and returns the latency of the decision call.
func (w *benchWorld) decide() time.Duration {
	w.now = w.now.Add(time.Millisecond)
	// next busy agent
	var a contact.AgentID
	var c contact.ID
	for {
		a = w.agents[w.turn%len(w.agents)]
		w.turn++
		var ok bool
		if c, ok = w.holds[a]; ok {
			break
		}
	}
	delete(w.holds, a)
	start := time.Now()
	evs, err := w.e.Complete(c, w.now)
	d := time.Since(start)
	if err != nil {
		panic(err)
	}
	w.note(evs)
	if o, ok := w.offers[a]; ok {
		evs, _ = w.e.Accept(o, w.now)
		w.note(evs)
	}
	evs, _ = w.e.Enqueue(w.item(), w.now)
	w.note(evs)
	w.acceptAll()
	return d
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
}

// BenchmarkRoute: 10,000 agents, 200 queues, 100,000 waiting contacts.
func BenchmarkRoute(b *testing.B) {
	w := benchWorldFor(100_000, true)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		lat = append(lat, w.decide())
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "decisions/s")
	reportLatency(b, lat)
}

// BenchmarkDecision times only the decision call (Complete, which picks
// the agent's next contact), giving decisions/s on one core.
func BenchmarkDecision(b *testing.B) {
	w := benchWorldFor(100_000, true)
	var total time.Duration
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := w.decide()
		total += d
		lat = append(lat, d)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/total.Seconds(), "decisions/s")
	reportLatency(b, lat)
}

// BenchmarkScaling: the same loop at 1k, 10k and 100k waiting contacts.
func BenchmarkScaling(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("waiting=%d", n), func(b *testing.B) {
			w := benchWorldFor(n, true)
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				total += w.decide()
			}
			b.StopTimer()
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/decision")
		})
	}
}

// BenchmarkArrival: nothing waits and most agents are free; each contact
// is matched on arrival by its queue's strategy (the contact-side path).
func BenchmarkArrival(b *testing.B) {
	w := benchWorldFor(0, false)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.now = w.now.Add(time.Millisecond)
		start := time.Now()
		evs, err := w.e.Enqueue(w.item(), w.now)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Kind == EventOffered {
				w.e.Accept(ev.Offer, w.now)
				w.e.Complete(ev.Contact, w.now)
			}
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}
