package board

import (
	"sort"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
)

// Metrics turns persisted contact events (store.EventRow, in id order)
// into timestamped facts and agent state segments, and counts them over
// any window: the board's "today" and rolling 15 minutes, and the
// interval reports. It follows routing.Stats' definitions (DESIGN.md "Live
// metrics") so the figures agree with the engine's:
//
//   - offered: a contact entering a queue (arrival, overflow in, transfer
//     in, re-entry after an agent handed it on); restored contacts are not
//     new arrivals. Counted at the time it entered.
//   - answered / abandoned: counted at the time of the answer or abandon,
//     whatever interval the contact arrived in. Queue figures use the wait
//     in that queue, tier figures the wait since arrival.
//   - service level = answered within T (wait ≤ T) ÷ (answered + abandoned
//     after T (wait > T)); abandons under ShortAbandon (5 s) are left out;
//     1 when nothing is counted.
//   - ASA = wait of answered ÷ answered; AHT = (talk + wrap-up) ÷ handled,
//     talk counted when the contact completes (or is handed on), wrap-up
//     when it ends; abandonment rate = abandoned ÷ offered.
//   - occupancy = busy (reserved, busy, wrap-up) ÷ (busy + available) time
//     inside the window.
//
// Not safe for concurrent use.
type Metrics struct {
	cfg      MetricsConfig
	facts    []fact
	contacts map[contact.ID]*track
	agents   map[contact.AgentID][]segment
}

// MetricsConfig are the thresholds.
type MetricsConfig struct {
	ShortAbandon  time.Duration                       // default 5 s
	TierThreshold time.Duration                       // default 20 s
	Thresholds    map[contact.QueueName]time.Duration // per queue; default 20 s
	Targets       map[contact.QueueName]float64       // per queue service-level target; default 0.8
}

type factKind uint8

const (
	fOffered factKind = iota
	fAnswered
	fAbandoned
	fHandled // one handled contact with its talk time
	fWrapUp  // wrap-up time of a handled contact
)

type fact struct {
	at      time.Time
	kind    factKind
	queue   contact.QueueName // "" : not counted per queue
	tier    string            // "" : not counted per tier
	channel string
	qwait   time.Duration // wait in the queue
	wait    time.Duration // wait since arrival
	handle  time.Duration
}

type track struct {
	entered time.Time
	tier    string
	channel string
}

type segment struct {
	at    time.Time
	state string
}

// NewMetrics returns empty metrics.
func NewMetrics(cfg MetricsConfig) *Metrics {
	if cfg.ShortAbandon <= 0 {
		cfg.ShortAbandon = 5 * time.Second
	}
	if cfg.TierThreshold <= 0 {
		cfg.TierThreshold = 20 * time.Second
	}
	return &Metrics{cfg: cfg, contacts: map[contact.ID]*track{}, agents: map[contact.AgentID][]segment{}}
}

// SetQueue sets a queue's service-level threshold and target.
func (m *Metrics) SetQueue(q contact.QueueName, threshold time.Duration, target float64) {
	if m.cfg.Thresholds == nil {
		m.cfg.Thresholds = map[contact.QueueName]time.Duration{}
		m.cfg.Targets = map[contact.QueueName]float64{}
	}
	m.cfg.Thresholds[q], m.cfg.Targets[q] = threshold, target
}

func (m *Metrics) threshold(q contact.QueueName) time.Duration {
	if t, ok := m.cfg.Thresholds[q]; ok && t > 0 {
		return t
	}
	return 20 * time.Second
}

func (m *Metrics) target(q contact.QueueName) float64 {
	if t, ok := m.cfg.Targets[q]; ok && t > 0 {
		return t
	}
	return 0.8
}

func (m *Metrics) tr(e store.EventRow) *track {
	t := m.contacts[e.ContactID]
	if t == nil {
		t = &track{entered: e.At}
		m.contacts[e.ContactID] = t
	}
	if e.Data.Tier != "" {
		t.tier = e.Data.Tier
	}
	if e.Data.Channel != "" {
		t.channel = e.Data.Channel
	}
	return t
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// Apply takes one event.
func (m *Metrics) Apply(e store.EventRow) {
	if e.Kind == "agent_state_changed" {
		if e.AgentID != 0 && e.Data.State != "" {
			m.agents[e.AgentID] = append(m.agents[e.AgentID], segment{at: e.At, state: e.Data.State})
		}
		return
	}
	if e.ContactID == 0 {
		return
	}
	add := func(f fact) {
		t := m.contacts[e.ContactID]
		f.at = e.At
		if f.channel == "" && t != nil {
			f.channel = t.channel
		}
		m.facts = append(m.facts, f)
	}
	switch e.Kind {
	case "enqueued":
		t := m.tr(e)
		if e.Data.Reason == "restored" {
			t.entered = e.At.Add(-ms(e.Data.WaitMS))
			return
		}
		t.entered = e.At
		add(fact{kind: fOffered, queue: e.Queue, tier: t.tier})
	case "overflowed":
		t := m.tr(e)
		t.entered = e.At
		add(fact{kind: fOffered, queue: contact.QueueName(e.Data.ToQueue)})
	case "transferred":
		t := m.tr(e)
		to := contact.QueueName(e.Data.ToQueue)
		if e.AgentID != 0 { // handed on by an agent: handled, and a new entry
			add(fact{kind: fHandled, queue: e.Queue, tier: t.tier, handle: ms(e.Data.TalkMS)})
			if to == "" {
				to = e.Queue
			}
			add(fact{kind: fOffered, queue: to, tier: t.tier})
			t.entered = e.At
		} else if to != "" {
			add(fact{kind: fOffered, queue: to})
			t.entered = e.At
		}
	case "accepted", "abandoned":
		t := m.tr(e)
		k := fAnswered
		if e.Kind == "abandoned" {
			k = fAbandoned
		}
		add(fact{kind: k, queue: e.Queue, tier: t.tier, qwait: e.At.Sub(t.entered), wait: ms(e.Data.WaitMS)})
		if k == fAbandoned {
			// nothing follows an abandon: drop its state (like "closed")
			delete(m.contacts, e.ContactID)
		}
	case "completed":
		t := m.tr(e)
		add(fact{kind: fHandled, queue: e.Queue, tier: t.tier, handle: ms(e.Data.TalkMS)})
	case "wrapup_ended":
		t := m.tr(e)
		add(fact{kind: fWrapUp, queue: e.Queue, tier: t.tier, handle: ms(e.Data.WrapUpMS)})
	case "closed":
		delete(m.contacts, e.ContactID)
	}
}

// Figures are the counts and ratios of one queue, tier or channel over a
// window. Durations are in milliseconds for the browser.
type Figures struct {
	Offered          int     `json:"offered"`
	Answered         int     `json:"answered"`
	AnsweredInSL     int     `json:"answered_in_sl"`
	Abandoned        int     `json:"abandoned"`
	ShortAbandons    int     `json:"short_abandons"`
	AbandonedAfterSL int     `json:"abandoned_after_sl"`
	Handled          int     `json:"handled"`
	ServiceLevel     float64 `json:"service_level"`
	ASAMS            int64   `json:"asa_ms"`
	AHTMS            int64   `json:"aht_ms"`
	AbandonRate      float64 `json:"abandon_rate"`
	Occupancy        float64 `json:"occupancy"`
	waitAns, handle  time.Duration
}

func (f *Figures) count(x fact, wait, threshold, short time.Duration) {
	switch x.kind {
	case fOffered:
		f.Offered++
	case fAnswered:
		f.Answered++
		f.waitAns += wait
		if wait <= threshold {
			f.AnsweredInSL++
		}
	case fAbandoned:
		f.Abandoned++
		switch {
		case wait < short:
			f.ShortAbandons++
		case wait > threshold:
			f.AbandonedAfterSL++
		}
	case fHandled:
		f.Handled++
		f.handle += x.handle
	case fWrapUp:
		f.handle += x.handle
	}
}

func (f *Figures) finish() {
	f.ServiceLevel = 1
	if d := f.Answered + f.AbandonedAfterSL; d > 0 {
		f.ServiceLevel = float64(f.AnsweredInSL) / float64(d)
	}
	if f.Answered > 0 {
		f.ASAMS = (f.waitAns / time.Duration(f.Answered)).Milliseconds()
	}
	if f.Handled > 0 {
		f.AHTMS = (f.handle / time.Duration(f.Handled)).Milliseconds()
	}
	if f.Offered > 0 {
		f.AbandonRate = float64(f.Abandoned) / float64(f.Offered)
	}
}

// Window are the figures of [From, To).
type Window struct {
	From     time.Time                     `json:"from"`
	To       time.Time                     `json:"to"`
	Queues   map[contact.QueueName]Figures `json:"queues"`
	Tiers    map[string]Figures            `json:"tiers"`
	Channels map[string]Figures            `json:"channels"`
	Total    Figures                       `json:"total"`
}

// Window counts the facts in [from, to). members gives each queue's agents
// for queue occupancy (nil: none).
func (m *Metrics) Window(from, to time.Time, members map[contact.QueueName][]contact.AgentID) Window {
	w := Window{From: from, To: to, Queues: map[contact.QueueName]Figures{}, Tiers: map[string]Figures{}, Channels: map[string]Figures{}}
	i := sort.Search(len(m.facts), func(i int) bool { return !m.facts[i].at.Before(from) })
	for ; i < len(m.facts); i++ {
		x := m.facts[i]
		if !x.at.Before(to) {
			// facts are in event order, and event times only go forward
			break
		}
		m.countInto(&w, x)
	}
	m.finishWindow(&w, members, func(id contact.AgentID) StateTime { return m.AgentTime(id, from, to) })
	return w
}

func (m *Metrics) countInto(w *Window, x fact) {
	if x.queue != "" {
		f := w.Queues[x.queue]
		f.count(x, x.qwait, m.threshold(x.queue), m.cfg.ShortAbandon)
		w.Queues[x.queue] = f
		f = w.Total
		f.count(x, x.qwait, m.threshold(x.queue), m.cfg.ShortAbandon)
		w.Total = f
		if x.channel != "" {
			f = w.Channels[x.channel]
			f.count(x, x.qwait, m.threshold(x.queue), m.cfg.ShortAbandon)
			w.Channels[x.channel] = f
		}
	}
	if x.tier != "" {
		f := w.Tiers[x.tier]
		f.count(x, x.wait, m.cfg.TierThreshold, m.cfg.ShortAbandon)
		w.Tiers[x.tier] = f
	}
}

// finishWindow finishes the figures and adds occupancy, taking each
// agent's time in the window from agentTime.
func (m *Metrics) finishWindow(w *Window, members map[contact.QueueName][]contact.AgentID, agentTime func(contact.AgentID) StateTime) {
	for q, f := range w.Queues {
		f.finish()
		w.Queues[q] = f
	}
	for q := range members {
		if _, ok := w.Queues[q]; !ok {
			f := Figures{}
			f.finish()
			w.Queues[q] = f
		}
	}
	for k, f := range w.Tiers {
		f.finish()
		w.Tiers[k] = f
	}
	for k, f := range w.Channels {
		f.finish()
		w.Channels[k] = f
	}
	w.Total.finish()
	var ab, aa time.Duration
	for _, id := range m.agentIDs() {
		b, a := agentTime(id).occ()
		ab += b
		aa += a
	}
	w.Total.Occupancy = ratio(ab, aa)
	for q, ids := range members {
		var b, a time.Duration
		for _, id := range ids {
			x, y := agentTime(id).occ()
			b += x
			a += y
		}
		f := w.Queues[q]
		f.Occupancy = ratio(b, a)
		w.Queues[q] = f
	}
}

func ratio(busy, avail time.Duration) float64 {
	if busy+avail <= 0 {
		return 0
	}
	return float64(busy) / float64(busy+avail)
}

func (m *Metrics) agentIDs() []contact.AgentID {
	ids := make([]contact.AgentID, 0, len(m.agents))
	for id := range m.agents {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// StateTime is an agent's time per state in a window.
type StateTime map[string]time.Duration

func (s StateTime) occ() (busy, avail time.Duration) {
	return s["reserved"] + s["busy"] + s["wrapup"], s["available"]
}

// AgentTime is the time agent spent in each state within [from, to).
func (m *Metrics) AgentTime(id contact.AgentID, from, to time.Time) StateTime {
	out := StateTime{}
	segs := m.agents[id]
	for i, s := range segs {
		end := to
		if i+1 < len(segs) {
			end = segs[i+1].at
		}
		a, b := s.at, end
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			out[s.state] += b.Sub(a)
		}
	}
	return out
}

// Interval is one report row: a queue in one interval.
type Interval struct {
	Start time.Time         `json:"start"`
	Queue contact.QueueName `json:"queue"`
	Figures
}

// Intervals splits [from, to) into intervals of size (aligned on size
// from the zero time, so 15 minutes align on quarter hours in any zone
// with a whole-quarter offset) and gives each queue's figures; queue ""
// is the total of all queues.
func (m *Metrics) Intervals(from, to time.Time, size time.Duration, members map[contact.QueueName][]contact.AgentID) []Interval {
	var out []Interval
	for s := from.Truncate(size); s.Before(to); s = s.Add(size) {
		a, b := s, s.Add(size)
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		w := m.Window(a, b, members)
		names := make([]string, 0, len(w.Queues))
		for q := range w.Queues {
			names = append(names, string(q))
		}
		sort.Strings(names)
		out = append(out, Interval{Start: s, Figures: w.Total})
		for _, q := range names {
			out = append(out, Interval{Start: s, Queue: contact.QueueName(q), Figures: w.Queues[contact.QueueName(q)]})
		}
	}
	return out
}
