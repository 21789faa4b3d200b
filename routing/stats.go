package routing

import (
	"time"

	"github.com/contacthub/contacthub/contact"
)

// StatsConfig configures Stats.
type StatsConfig struct {
	// ShortAbandon: abandons quicker than this are left out of the service
	// level (default 5 s).
	ShortAbandon time.Duration
	// TierThreshold is the service-level T for per-tier figures (default 20 s).
	TierThreshold time.Duration
}

// Stats computes live statistics per queue and per tier from events. The
// Engine keeps one (Engine.Stats); the desk may keep another fed from
// persisted events. Not safe for concurrent use.
//
// Definitions (DESIGN.md "Live metrics"):
//   - Offered: contacts that entered the queue (arrivals, overflows and
//     transfers in, re-entries after an agent handed a contact on).
//   - Service level = answered within T ÷ (answered + abandoned after T);
//     abandons quicker than ShortAbandon are left out. Waits are measured
//     in the queue (QueueWait) for queues and since arrival (Wait) for
//     tiers. "Within T" is wait ≤ T; "after T" is wait > T. With nothing
//     counted it is 1.
//   - ASA = wait of answered ÷ answered.
//   - AHT = (talk + hold + wrap-up) ÷ handled; talk runs from accept to
//     complete or transfer and so includes hold.
//   - Abandonment rate = abandoned (all) ÷ offered.
//   - Longest waiting = age of the oldest contact waiting or ringing.
//   - Occupancy = busy ÷ (busy + available) time, where busy counts the
//     reserved, busy and wrap-up states; per queue over its members.
type Stats struct {
	cfg     StatsConfig
	sl      map[contact.QueueName]slConfig
	queues  map[contact.QueueName]*tally
	tiers   map[string]*tally
	waiting map[contact.ID]waitRec
	agents  map[contact.AgentID]*agentClock
	// external: waiting figures are filled in by the Engine, which knows
	// them without tracking every contact again.
	external bool
}

type slConfig struct {
	threshold time.Duration
	target    float64
}

type tally struct {
	offered, offers, answered, inSL, abandoned, short, abandonedAfter int
	overflowed, transferredOut, handled                               int
	waitAnswered, handle                                              time.Duration
}

type waitRec struct {
	queue    contact.QueueName
	tier     string
	queuedAt time.Time
	enqAt    time.Time
}

type agentClock struct {
	state       AgentState
	since       time.Time
	busy, avail time.Duration
	queues      []contact.QueueName
	seen        bool
}

// NewStats returns empty statistics.
func NewStats(cfg StatsConfig) *Stats {
	if cfg.ShortAbandon <= 0 {
		cfg.ShortAbandon = 5 * time.Second
	}
	if cfg.TierThreshold <= 0 {
		cfg.TierThreshold = DefaultServiceLevelThreshold
	}
	return &Stats{
		cfg: cfg, sl: map[contact.QueueName]slConfig{}, queues: map[contact.QueueName]*tally{},
		tiers: map[string]*tally{}, waiting: map[contact.ID]waitRec{}, agents: map[contact.AgentID]*agentClock{},
	}
}

// SetQueue sets a queue's service-level threshold and target.
func (s *Stats) SetQueue(q contact.QueueName, threshold time.Duration, target float64) {
	if threshold <= 0 {
		threshold = DefaultServiceLevelThreshold
	}
	if target <= 0 {
		target = DefaultServiceLevelTarget
	}
	s.sl[q] = slConfig{threshold, target}
	s.queue(q)
}

// SetAgentQueues records an agent's queues (for per-queue agent figures);
// nil forgets the agent.
func (s *Stats) SetAgentQueues(id contact.AgentID, queues []contact.QueueName) {
	if queues == nil {
		delete(s.agents, id)
		return
	}
	s.agent(id).queues = append([]contact.QueueName(nil), queues...)
}

func (s *Stats) queue(q contact.QueueName) *tally {
	t := s.queues[q]
	if t == nil {
		t = &tally{}
		s.queues[q] = t
	}
	return t
}

func (s *Stats) tier(name string) *tally {
	t := s.tiers[name]
	if t == nil {
		t = &tally{}
		s.tiers[name] = t
	}
	return t
}

func (s *Stats) agent(id contact.AgentID) *agentClock {
	a := s.agents[id]
	if a == nil {
		a = &agentClock{state: StateOffline}
		s.agents[id] = a
	}
	return a
}

func (s *Stats) threshold(q contact.QueueName) time.Duration {
	if c, ok := s.sl[q]; ok {
		return c.threshold
	}
	return DefaultServiceLevelThreshold
}

func (s *Stats) answer(t *tally, wait, threshold time.Duration) {
	t.answered++
	t.waitAnswered += wait
	if wait <= threshold {
		t.inSL++
	}
}

func (s *Stats) abandon(t *tally, wait, threshold time.Duration) {
	t.abandoned++
	switch {
	case wait < s.cfg.ShortAbandon:
		t.short++
	case wait > threshold:
		t.abandonedAfter++
	}
}

// Apply counts one event.
func (s *Stats) Apply(ev Event) {
	switch ev.Kind {
	case EventEnqueued:
		if ev.Reason != ReasonRestored {
			s.queue(ev.Queue).offered++
			s.tier(ev.Tier).offered++
		}
		if s.external {
			break
		}
		s.waiting[ev.Contact] = waitRec{queue: ev.Queue, tier: ev.Tier, queuedAt: ev.At.Add(-ev.QueueWait), enqAt: ev.At.Add(-ev.Wait)}
	case EventOverflowed:
		s.queue(ev.Queue).overflowed++
		s.queue(ev.ToQueue).offered++
		if w, ok := s.waiting[ev.Contact]; ok {
			w.queue, w.queuedAt = ev.ToQueue, ev.At
			s.waiting[ev.Contact] = w
		}
	case EventTransferred:
		from := s.queue(ev.Queue)
		to := ev.ToQueue
		if to != "" {
			from.transferredOut++
			s.queue(to).offered++
		} else {
			to = ev.Queue
		}
		w, ok := s.waiting[ev.Contact]
		if ev.Agent != 0 { // handed on by an agent: handled, and a new entry
			from.handled++
			from.handle += ev.Talk
			tt := s.tier(ev.Tier)
			tt.handled++
			tt.handle += ev.Talk
			tt.offered++
			if ev.ToQueue == "" {
				from.offered++
			}
			w, ok = waitRec{tier: ev.Tier, enqAt: ev.At.Add(-ev.Wait)}, true
		}
		if ok {
			if ev.ToQueue != "" || ev.Agent != 0 {
				w.queuedAt = ev.At
			}
			w.queue = to
			s.waiting[ev.Contact] = w
		}
	case EventOffered:
		s.queue(ev.Queue).offers++
		s.tier(ev.Tier).offers++
	case EventAccepted:
		s.answer(s.queue(ev.Queue), ev.QueueWait, s.threshold(ev.Queue))
		s.answer(s.tier(ev.Tier), ev.Wait, s.cfg.TierThreshold)
		delete(s.waiting, ev.Contact)
	case EventAbandoned:
		s.abandon(s.queue(ev.Queue), ev.QueueWait, s.threshold(ev.Queue))
		s.abandon(s.tier(ev.Tier), ev.Wait, s.cfg.TierThreshold)
		delete(s.waiting, ev.Contact)
	case EventCompleted:
		for _, t := range []*tally{s.queue(ev.Queue), s.tier(ev.Tier)} {
			t.handled++
			t.handle += ev.Talk
		}
	case EventWrapUpEnded:
		s.queue(ev.Queue).handle += ev.WrapUp
		s.tier(ev.Tier).handle += ev.WrapUp
	case EventAgentStateChanged:
		a := s.agent(ev.Agent)
		if a.seen {
			a.add(ev.At)
		}
		a.seen, a.state, a.since = true, ev.State, ev.At
	}
}

func (a *agentClock) add(now time.Time) {
	if !a.seen || !now.After(a.since) {
		return
	}
	d := now.Sub(a.since)
	switch a.state {
	case StateBusy, StateReserved, StateWrapUp:
		a.busy += d
	case StateAvailable:
		a.avail += d
	}
	a.since = now
}

// Figures are the statistics of one queue or tier.
type Figures struct {
	Waiting        int           `json:"waiting"`
	LongestWaiting time.Duration `json:"longest_waiting"`
	// AgentsByState counts member agents (queues only).
	AgentsByState map[AgentState]int `json:"agents_by_state,omitempty"`

	Offered          int `json:"offered"` // contacts that entered
	Offers           int `json:"offers"`  // offers made to agents
	Answered         int `json:"answered"`
	AnsweredInSL     int `json:"answered_in_sl"`
	Abandoned        int `json:"abandoned"`
	ShortAbandons    int `json:"short_abandons"`
	AbandonedAfterSL int `json:"abandoned_after_sl"`
	Overflowed       int `json:"overflowed"`
	TransferredOut   int `json:"transferred_out"`
	Handled          int `json:"handled"`

	ServiceLevelThreshold time.Duration `json:"service_level_threshold"`
	ServiceLevelTarget    float64       `json:"service_level_target,omitempty"`
	ServiceLevel          float64       `json:"service_level"`
	ASA                   time.Duration `json:"asa"`
	AHT                   time.Duration `json:"aht"`
	AbandonRate           float64       `json:"abandon_rate"`
	Occupancy             float64       `json:"occupancy,omitempty"` // queues only
}

// Report is a view of the statistics at one time.
type Report struct {
	At            time.Time                        `json:"at"`
	Queues        map[contact.QueueName]Figures    `json:"queues"`
	Tiers         map[string]Figures               `json:"tiers"`
	AgentsByState map[AgentState]int               `json:"agents_by_state"`
	Occupancy     float64                          `json:"occupancy"`
	Agents        map[contact.AgentID]AgentFigures `json:"agents,omitempty"`
}

// AgentFigures are one agent's time in states.
type AgentFigures struct {
	State     AgentState    `json:"state"`
	Busy      time.Duration `json:"busy"`
	Available time.Duration `json:"available"`
	Occupancy float64       `json:"occupancy"`
}

func (t *tally) figures(threshold time.Duration) Figures {
	f := Figures{
		Offered: t.offered, Offers: t.offers, Answered: t.answered, AnsweredInSL: t.inSL,
		Abandoned: t.abandoned, ShortAbandons: t.short, AbandonedAfterSL: t.abandonedAfter,
		Overflowed: t.overflowed, TransferredOut: t.transferredOut, Handled: t.handled,
		ServiceLevelThreshold: threshold, ServiceLevel: 1,
	}
	if d := t.answered + t.abandonedAfter; d > 0 {
		f.ServiceLevel = float64(t.inSL) / float64(d)
	}
	if t.answered > 0 {
		f.ASA = t.waitAnswered / time.Duration(t.answered)
	}
	if t.handled > 0 {
		f.AHT = t.handle / time.Duration(t.handled)
	}
	if t.offered > 0 {
		f.AbandonRate = float64(t.abandoned) / float64(t.offered)
	}
	return f
}

func ratio(busy, avail time.Duration) float64 {
	if busy+avail <= 0 {
		return 0
	}
	return float64(busy) / float64(busy+avail)
}

// Report computes the figures at now.
func (s *Stats) Report(now time.Time) Report {
	r := Report{
		At: now, Queues: map[contact.QueueName]Figures{}, Tiers: map[string]Figures{},
		AgentsByState: map[AgentState]int{}, Agents: map[contact.AgentID]AgentFigures{},
	}
	for name, t := range s.queues {
		f := t.figures(s.threshold(name))
		if c, ok := s.sl[name]; ok {
			f.ServiceLevelTarget = c.target
		}
		f.AgentsByState = map[AgentState]int{}
		r.Queues[name] = f
	}
	for name, t := range s.tiers {
		r.Tiers[name] = t.figures(s.cfg.TierThreshold)
	}
	for _, w := range s.waiting {
		if f, ok := r.Queues[w.queue]; ok {
			f.Waiting++
			if d := now.Sub(w.queuedAt); d > f.LongestWaiting {
				f.LongestWaiting = d
			}
			r.Queues[w.queue] = f
		}
		if f, ok := r.Tiers[w.tier]; ok {
			f.Waiting++
			if d := now.Sub(w.enqAt); d > f.LongestWaiting {
				f.LongestWaiting = d
			}
			r.Tiers[w.tier] = f
		}
	}
	type acc struct{ busy, avail time.Duration }
	qacc := map[contact.QueueName]acc{}
	var all acc
	for id, a := range s.agents {
		busy, avail := a.busy, a.avail
		if a.seen && now.After(a.since) {
			switch a.state {
			case StateBusy, StateReserved, StateWrapUp:
				busy += now.Sub(a.since)
			case StateAvailable:
				avail += now.Sub(a.since)
			}
		}
		r.AgentsByState[a.state]++
		r.Agents[id] = AgentFigures{State: a.state, Busy: busy, Available: avail, Occupancy: ratio(busy, avail)}
		all.busy += busy
		all.avail += avail
		for _, q := range a.queues {
			if f, ok := r.Queues[q]; ok {
				f.AgentsByState[a.state]++
				x := qacc[q]
				x.busy += busy
				x.avail += avail
				qacc[q] = x
			}
		}
	}
	for q, x := range qacc {
		f := r.Queues[q]
		f.Occupancy = ratio(x.busy, x.avail)
		r.Queues[q] = f
	}
	r.Occupancy = ratio(all.busy, all.avail)
	return r
}
