package routing

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// The property test drives the engine with random interleavings of every
// operation and checks the invariants after every step.

type propWorld struct {
	t      *testing.T
	e      *Engine
	r      *rand.Rand
	now    time.Time
	queues map[contact.QueueName]Queue
	agents map[contact.AgentID]Agent
	stage  map[contact.QueueName]int // highest member level per queue
	live   map[contact.ID]bool       // contacts the engine must know
	next   contact.ID
	step   int
	op     string
}

func newPropWorld(t *testing.T, seed uint64) *propWorld {
	w := &propWorld{
		t: t, r: rand.New(rand.NewPCG(seed, seed*7+1)), now: t0, e: New(Config{AutoAwayAfter: 4}),
		queues: map[contact.QueueName]Queue{}, agents: map[contact.AgentID]Agent{},
		stage: map[contact.QueueName]int{}, live: map[contact.ID]bool{},
	}
	strategies := []string{StrategyLongestIdle, StrategyLeastOccupied, StrategyRoundRobin, StrategyBestSkill, StrategyRingAll}
	qs := []Queue{
		{Name: "vip", Weight: 3, AgeingRate: 0.5, LevelWait: 7 * time.Second, MaxWait: 60 * time.Second, Overflow: "general"},
		{Name: "general", Weight: 1, AgeingRate: 1, EmptyOverflow: "backup"},
		{Name: "french", Weight: 2, Skills: map[string]int{"fr": 2}, LevelWait: 5 * time.Second, MaxLength: 6, Overflow: "general"},
		{Name: "chat", Weight: 1, Channels: []contact.Channel{contact.Chat}, AgeingRate: 2.5},
		{Name: "backup", Weight: 0, AgeingRate: 0.1},
	}
	for _, q := range qs {
		q.Strategy = strategies[w.r.IntN(len(strategies))]
		q.OfferTimeout = time.Duration(3+w.r.IntN(10)) * time.Second
		q.WrapUp = time.Duration(w.r.IntN(3)) * 2 * time.Second
		if err := w.e.AddQueue(q); err != nil {
			t.Fatal(err)
		}
		got := w.e.Snapshot()
		for _, s := range got.Queues {
			if s.Queue.Name == q.Name {
				w.queues[q.Name] = s.Queue
			}
		}
		w.stage[q.Name] = 1
	}
	names := []contact.QueueName{"vip", "general", "french", "chat", "backup"}
	for i := 1; i <= 10; i++ {
		a := Agent{ID: contact.AgentID(i), Skills: map[string]int{}}
		if w.r.IntN(2) == 0 {
			a.Skills["fr"] = 1 + w.r.IntN(5)
		}
		if w.r.IntN(2) == 0 {
			a.Skills["billing"] = 1 + w.r.IntN(5)
		}
		for _, n := range names {
			if w.r.IntN(5) < 2 {
				l := 1 + w.r.IntN(3)
				a.Queues = append(a.Queues, Membership{Queue: n, Level: l})
				w.stage[n] = max(w.stage[n], l)
			}
		}
		if w.r.IntN(3) == 0 {
			a.Capacity = map[contact.Channel]int{contact.Chat: 2}
		}
		a.TextDuringVoice = w.r.IntN(4) == 0
		w.agents[a.ID] = a
		if _, err := w.e.SetAgent(a, w.now); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *propWorld) fail(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("step %d (%s) at %v: %s", w.step, w.op, w.now.Sub(t0), fmt.Sprintf(format, args...))
}

func (w *propWorld) advance() {
	w.now = w.now.Add(time.Duration(w.r.IntN(4000)) * time.Millisecond)
}

func (w *propWorld) do() []Event {
	snap := w.e.Snapshot()
	var evs []Event
	var err error
	switch n := w.r.IntN(100); {
	case n < 28:
		w.op = "enqueue"
		w.next++
		qn := []contact.QueueName{"vip", "general", "french", "chat", "backup"}[w.r.IntN(5)]
		ch := []contact.Channel{contact.Voice, contact.Voice, contact.Chat, contact.Email}[w.r.IntN(4)]
		if qn == "chat" {
			ch = contact.Chat
		}
		it := Item{Contact: w.next, Channel: ch, Queue: qn, Priority: w.r.IntN(5) * 10, Tier: []string{"gold", "silver", ""}[w.r.IntN(3)]}
		if w.r.IntN(4) == 0 {
			it.Skills = map[string]int{"billing": 1 + w.r.IntN(3)}
		}
		if w.r.IntN(3) == 0 {
			it.CallerKey = fmt.Sprint("caller", w.r.IntN(5))
		}
		if w.r.IntN(3) == 0 { // an arrival stamped a little earlier (clock skew, restart)
			it.EnqueuedAt = w.now.Add(-time.Duration(w.r.IntN(3000)) * time.Millisecond)
		}
		evs, err = w.e.Enqueue(it, w.now)
		if err == nil {
			w.live[it.Contact] = true
		}
	case n < 40:
		w.op = "presence"
		id := contact.AgentID(1 + w.r.IntN(len(w.agents)))
		p := []Presence{Available, Available, Available, Away("break"), Offline}[w.r.IntN(5)]
		evs, err = w.e.SetAgentState(id, p, w.now)
	case n < 55:
		w.op = "accept"
		if len(snap.Offers) == 0 {
			return nil
		}
		evs, err = w.e.Accept(snap.Offers[w.r.IntN(len(snap.Offers))].ID, w.now)
	case n < 62:
		w.op = "decline"
		if len(snap.Offers) == 0 {
			return nil
		}
		evs, err = w.e.Decline(snap.Offers[w.r.IntN(len(snap.Offers))].ID, w.now)
	case n < 68:
		w.op = "abandon"
		if len(snap.Contacts) == 0 {
			return nil
		}
		c := snap.Contacts[w.r.IntN(len(snap.Contacts))]
		evs, err = w.e.Abandon(c.Contact, w.now)
		if err == nil {
			delete(w.live, c.Contact)
		}
	case n < 80:
		w.op = "complete"
		var as []contact.ID
		for _, a := range snap.Agents {
			for _, x := range a.Assigned {
				as = append(as, x.Contact)
			}
		}
		if len(as) == 0 {
			return nil
		}
		id := as[w.r.IntN(len(as))]
		evs, err = w.e.Complete(id, w.now)
		if err == nil {
			delete(w.live, id)
		}
	case n < 83:
		w.op = "end wrap-up"
		evs, _ = w.e.EndWrapUp(contact.AgentID(1+w.r.IntN(len(w.agents))), w.now)
	case n < 86:
		w.op = "transfer"
		if len(snap.Contacts) == 0 {
			return nil
		}
		c := snap.Contacts[w.r.IntN(len(snap.Contacts))]
		to := []contact.QueueName{"vip", "general", "backup"}[w.r.IntN(3)]
		evs, err = w.e.Transfer(c.Contact, to, w.now)
	case n < 88:
		w.op = "callback"
		if len(snap.Contacts) == 0 {
			return nil
		}
		evs, err = w.e.RequestCallback(snap.Contacts[w.r.IntN(len(snap.Contacts))].Contact, w.now)
	default:
		w.op = "tick"
		w.now = w.now.Add(time.Duration(w.r.IntN(20000)) * time.Millisecond)
		evs = w.e.Tick(w.now)
	}
	if errors.Is(err, ErrUnknownOffer) || errors.Is(err, ErrNotAssigned) || errors.Is(err, ErrUnknownContact) || errors.Is(err, ErrNotWaiting) {
		err = nil // the clock moved first: the offer expired, the contact overflowed...
	}
	if err != nil && w.op != "enqueue" {
		w.fail("unexpected error %v", err)
	}
	return evs
}

// stageAt mirrors the level widening rule.
func (w *propWorld) stageAt(q contact.QueueName, wait time.Duration) int {
	qc := w.queues[q]
	if qc.LevelWait <= 0 {
		return w.stage[q]
	}
	return min(w.stage[q], 1+int(wait/qc.LevelWait))
}

func (w *propWorld) level(a contact.AgentID, q contact.QueueName) int {
	for _, m := range w.agents[a].Queues {
		if m.Queue == q {
			return m.Level
		}
	}
	return 0
}

func (w *propWorld) skilled(a contact.AgentID, it Item) bool {
	sk := w.agents[a].Skills
	for s, l := range w.queues[it.Queue].Skills {
		if sk[s] < l {
			return false
		}
	}
	for s, l := range it.Skills {
		if sk[s] < l {
			return false
		}
	}
	return true
}

// eff is the effective priority in micro-points, computed independently.
func (w *propWorld) eff(c WaitingContact, now time.Time) int64 {
	rate := int64(math.Round(w.queues[c.Queue].AgeingRate * 1000))
	return int64(c.Priority)*1_000_000 + rate*(now.UnixMilli()-c.EnqueuedAt.UnixMilli())
}

// prefers reports whether agent-side order puts x before y.
func (w *propWorld) prefers(x, y WaitingContact, now time.Time) bool {
	wx, wy := w.queues[x.Queue].Weight, w.queues[y.Queue].Weight
	if wx != wy {
		return wx > wy
	}
	if ex, ey := w.eff(x, now), w.eff(y, now); ex != ey {
		return ex > ey
	}
	if mx, my := x.EnqueuedAt.UnixMilli(), y.EnqueuedAt.UnixMilli(); mx != my {
		return mx < my
	}
	return x.Seq < y.Seq
}

func capacity(a Agent, ch contact.Channel) int {
	if n, ok := a.Capacity[ch]; ok {
		return n
	}
	return DefaultCapacity[ch]
}

func (w *propWorld) canTake(st AgentStatus, ch contact.Channel) bool {
	if st.Load[ch] >= capacity(w.agents[st.ID], ch) {
		return false
	}
	return ch == contact.Voice || st.Load[contact.Voice] == 0 || w.agents[st.ID].TextDuringVoice
}

func (w *propWorld) check(evs []Event) {
	w.t.Helper()
	snap := w.e.Snapshot()
	now := snap.At
	// 1. no contact lost or duplicated
	seen := map[contact.ID]string{}
	byID := map[contact.ID]WaitingContact{}
	for _, c := range snap.Contacts {
		if seen[c.Contact] != "" {
			w.fail("contact %d twice", c.Contact)
		}
		seen[c.Contact] = c.State
		byID[c.Contact] = c
	}
	for _, a := range snap.Agents {
		for _, x := range a.Assigned {
			if seen[x.Contact] != "" {
				w.fail("contact %d twice (assigned to %d)", x.Contact, a.ID)
			}
			seen[x.Contact] = "assigned"
		}
	}
	if len(seen) != len(w.live) {
		w.fail("engine knows %d contacts, want %d", len(seen), len(w.live))
	}
	for id := range w.live {
		if seen[id] == "" {
			w.fail("contact %d lost", id)
		}
	}
	// 2. capacity, load and offers consistent
	offersOf := map[contact.AgentID][]Offer{}
	offeredC := map[contact.ID]int{}
	for _, o := range snap.Offers {
		offersOf[o.Agent] = append(offersOf[o.Agent], o)
		offeredC[o.Contact]++
		if seen[o.Contact] != "offered" {
			w.fail("offer %d for contact %d in state %s", o.ID, o.Contact, seen[o.Contact])
		}
	}
	for id, st := range seen {
		if st == "offered" && offeredC[id] == 0 {
			w.fail("contact %d offered without offer", id)
		}
		if offeredC[id] > 1 && w.queues[byID[id].Queue].Strategy != StrategyRingAll {
			w.fail("contact %d has %d offers", id, offeredC[id])
		}
	}
	agents := map[contact.AgentID]AgentStatus{}
	for _, a := range snap.Agents {
		agents[a.ID] = a
		if len(offersOf[a.ID]) > 1 {
			w.fail("agent %d has %d offers", a.ID, len(offersOf[a.ID]))
		}
		for _, ch := range contact.Channels {
			want := 0
			for _, x := range a.Assigned {
				if x.Channel == ch {
					want++
				}
			}
			for _, o := range offersOf[a.ID] {
				if o.Channel == ch {
					want++
				}
			}
			if a.Load[ch] != want {
				w.fail("agent %d load %s=%d, want %d", a.ID, ch, a.Load[ch], want)
			}
			if a.Load[ch] > capacity(w.agents[a.ID], ch) {
				w.fail("agent %d over capacity on %s", a.ID, ch)
			}
		}
		if (len(offersOf[a.ID]) > 0) != (a.State == StateReserved) && a.Presence.State == StateAvailable {
			w.fail("agent %d state %s with %d offers", a.ID, a.State, len(offersOf[a.ID]))
		}
	}
	// 3. every offer went to an eligible agent; 5. and it was the agent's best
	for _, ev := range evs {
		if ev.Kind != EventOffered {
			continue
		}
		c, live := byID[ev.Contact]
		if !live {
			continue
		}
		l := w.level(ev.Agent, ev.Queue)
		if l == 0 || l > w.stageAt(ev.Queue, ev.QueueWait) || !w.skilled(ev.Agent, c.Item) {
			w.fail("offer %d: agent %d not eligible for contact %d in %s (level %d, waited %v)", ev.Offer, ev.Agent, ev.Contact, ev.Queue, l, ev.QueueWait)
		}
		if !ev.At.Equal(now) || c.State != "offered" {
			continue
		}
		for _, x := range snap.Contacts {
			if x.State != "waiting" || x.Channel != c.Channel || x.QueuedAt.After(ev.At) {
				continue
			}
			lx := w.level(ev.Agent, x.Queue)
			if lx == 0 || lx > w.stageAt(x.Queue, ev.At.Sub(x.QueuedAt)) || !w.skilled(ev.Agent, x.Item) {
				continue
			}
			if w.prefers(x, c, now) {
				w.fail("agent %d got contact %d (%s) while better %d (%s) waits", ev.Agent, c.Contact, c.Queue, x.Contact, x.Queue)
			}
		}
	}
	// 4. no free agent next to a contact it could take
	for _, a := range snap.Agents {
		if a.Presence.State != StateAvailable || a.State == StateReserved || a.State == StateWrapUp {
			continue
		}
		for _, x := range snap.Contacts {
			if x.State != "waiting" || !w.canTake(a, x.Channel) {
				continue
			}
			l := w.level(a.ID, x.Queue)
			if l == 0 || l > w.stageAt(x.Queue, now.Sub(x.QueuedAt)) || !w.skilled(a.ID, x.Item) {
				continue
			}
			w.fail("agent %d (%s) free while contact %d waits in %s", a.ID, a.State, x.Contact, x.Queue)
		}
	}
}

func TestPropertyRandomInterleavings(t *testing.T) {
	seeds, steps := 12, 1500
	if testing.Short() {
		seeds, steps = 3, 500
	}
	for s := 1; s <= seeds; s++ {
		t.Run(fmt.Sprint("seed", s), func(t *testing.T) {
			w := newPropWorld(t, uint64(s))
			offers := 0
			for w.step = 0; w.step < steps; w.step++ {
				w.advance()
				evs := w.do()
				offers += len(kinds(evs, EventOffered))
				w.check(evs)
			}
			if offers < steps/20 {
				t.Fatalf("only %d offers: the test exercises too little", offers)
			}
		})
	}
}

// TestPropertyDeterministic: the same calls give the same events.
func TestPropertyDeterministic(t *testing.T) {
	run := func() []Event {
		w := newPropWorld(t, 42)
		var all []Event
		for w.step = 0; w.step < 400; w.step++ {
			w.advance()
			all = append(all, w.do()...)
		}
		return all
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d events", len(a), len(b))
	}
	for i := range a {
		if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
			t.Fatalf("event %d differs:\n%v\n%v", i, a[i], b[i])
		}
	}
}
