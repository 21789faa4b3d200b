package board

import (
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
)

// IntervalSize is the size of the board's interval chart and reports.
const IntervalSize = 15 * time.Minute

// Today is the live board's metrics: the figures of one day, kept as
// running totals, and the rolling window, kept as raw facts.
//
// Events go through the same Metrics.Apply as the reports (so the facts
// are the same), but Advance folds them, as time passes, into running
// totals of the day (per queue, tier, channel and in total), per
// 15-minute interval (the chart) and per agent and state, and then drops
// the facts and agent state segments older than the rolling window. What
// is kept is therefore bounded by the window (plus the state of contacts
// in flight, dropped when they close or abandon, and one open segment per
// agent), and a tick's cost no longer grows through the day.
//
// The figures equal Metrics' batch computation over the same events
// (Metrics.Window(day, now+1ms), Intervals(day, now+1ms, 15 min),
// AgentTime(id, day, now)), as long as, like Metrics assumes, event times
// go forward in event order, Advance's now does not go back, and a
// queue's service-level threshold does not change after facts were folded
// (SetQueue then marks the totals Stale: the board reloads the day).
//
// Not safe for concurrent use.
type Today struct {
	m      *Metrics // facts and segments of the rolling window only
	day    time.Time
	keep   time.Duration
	now    time.Time // last Advance
	folded int       // m.facts[:folded] are in the totals
	acc    Window    // the day's folded facts, unfinished
	slots  []slot    // per interval since day.Truncate(IntervalSize)
	agents map[contact.AgentID]*agentDay
	stale  bool
}

// slot is one interval's total figures (unfinished) and the folded agent
// time in it.
type slot struct {
	f           Figures
	busy, avail time.Duration
}

// agentDay is an agent's folded time today: m.agents[id][:folded] are in st.
type agentDay struct {
	folded int
	st     StateTime
}

// NewToday returns empty metrics of the day starting at day, keeping the
// raw facts of the last keep (the rolling window).
func NewToday(cfg MetricsConfig, day time.Time, keep time.Duration) *Today {
	return &Today{m: NewMetrics(cfg), day: day, keep: keep, agents: map[contact.AgentID]*agentDay{},
		acc: Window{Queues: map[contact.QueueName]Figures{}, Tiers: map[string]Figures{}, Channels: map[string]Figures{}}}
}

// Day is the start of the day counted.
func (t *Today) Day() time.Time { return t.day }

// Apply takes one event; Advance folds it in.
func (t *Today) Apply(e store.EventRow) { t.m.Apply(e) }

// SetQueue sets a queue's threshold and target. A threshold changed after
// facts were counted makes the totals Stale.
func (t *Today) SetQueue(q contact.QueueName, threshold time.Duration, target float64) {
	old := t.m.threshold(q)
	t.m.SetQueue(q, threshold, target)
	if t.folded > 0 && t.m.threshold(q) != old {
		t.stale = true
	}
}

// Stale reports whether a threshold changed after facts were counted: the
// day must be recounted from the stored events.
func (t *Today) Stale() bool { return t.stale }

// Retained counts the facts and agent state segments held in memory.
func (t *Today) Retained() (facts, segments int) {
	for _, s := range t.m.agents {
		segments += len(s)
	}
	return len(t.m.facts), segments
}

func (t *Today) slotAt(at time.Time) int {
	return int(at.Sub(t.day.Truncate(IntervalSize)) / IntervalSize)
}

func (t *Today) slot(i int) *slot {
	for len(t.slots) <= i {
		t.slots = append(t.slots, slot{})
	}
	return &t.slots[i]
}

// spread calls add with each interval's part of [a, b) (a ≥ day) when
// state counts for occupancy.
func (t *Today) spread(state string, a, b time.Time, add func(i int, busy bool, d time.Duration)) {
	var busy bool
	switch state {
	case "reserved", "busy", "wrapup":
		busy = true
	case "available":
	default:
		return
	}
	s0 := t.day.Truncate(IntervalSize)
	for i := t.slotAt(a); ; i++ {
		lo := s0.Add(time.Duration(i) * IntervalSize)
		if !lo.Before(b) {
			return
		}
		if d := earlier(lo.Add(IntervalSize), b).Sub(later(lo, a)); d > 0 {
			add(i, busy, d)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}

// Advance folds into the totals the facts before now+1ms and the agent
// state segments ended by now, then drops the facts and segments older
// than the rolling window.
func (t *Today) Advance(now time.Time) {
	if now.Before(t.now) {
		now = t.now
	}
	t.now = now
	to := now.Add(time.Millisecond)
	facts := t.m.facts
	for t.folded < len(facts) && facts[t.folded].at.Before(to) {
		x := facts[t.folded]
		t.folded++
		if x.at.Before(t.day) {
			continue
		}
		t.m.countInto(&t.acc, x)
		if x.queue != "" {
			t.slot(t.slotAt(x.at)).f.count(x, x.qwait, t.m.threshold(x.queue), t.m.cfg.ShortAbandon)
		}
	}
	cut := now.Add(-t.keep)
	k := 0
	for k < t.folded && facts[k].at.Before(cut) {
		k++
	}
	if k > 0 {
		clear(facts[:k])
		t.m.facts = facts[k:]
		t.folded -= k
	}

	for id, segs := range t.m.agents {
		ad := t.agents[id]
		if ad == nil {
			ad = &agentDay{st: StateTime{}}
			t.agents[id] = ad
		}
		for ad.folded+1 < len(segs) && !segs[ad.folded+1].at.After(now) {
			s, end := segs[ad.folded], segs[ad.folded+1].at
			ad.folded++
			a := later(s.at, t.day)
			if !end.After(a) {
				continue
			}
			ad.st[s.state] += end.Sub(a)
			t.spread(s.state, a, end, func(i int, busy bool, d time.Duration) {
				sl := t.slot(i)
				if busy {
					sl.busy += d
				} else {
					sl.avail += d
				}
			})
		}
		// A segment ended by the window's start counts in no window
		// from now on.
		n := 0
		for n < ad.folded && n+1 < len(segs) && !segs[n+1].at.After(cut) {
			n++
		}
		if n > 0 {
			clear(segs[:n])
			t.m.agents[id] = segs[n:]
			ad.folded -= n
		}
	}
}

// AgentTime is the agent's time per state in [day, to), to ≥ the last
// Advance's now.
func (t *Today) AgentTime(id contact.AgentID, to time.Time) StateTime {
	out := StateTime{}
	folded := 0
	if ad := t.agents[id]; ad != nil {
		for k, v := range ad.st {
			out[k] = v
		}
		folded = ad.folded
	}
	segs := t.m.agents[id]
	for i := folded; i < len(segs); i++ {
		end := to
		if i+1 < len(segs) {
			end = segs[i+1].at
		}
		a, b := later(segs[i].at, t.day), earlier(end, to)
		if b.After(a) {
			out[segs[i].state] += b.Sub(a)
		}
	}
	return out
}

// Today is the day's window, [day, now+1ms), as Metrics.Window would count
// it. Call Advance(now) first.
func (t *Today) Today(now time.Time, members map[contact.QueueName][]contact.AgentID) Window {
	to := now.Add(time.Millisecond)
	w := Window{From: t.day, To: to, Queues: make(map[contact.QueueName]Figures, len(t.acc.Queues)),
		Tiers: make(map[string]Figures, len(t.acc.Tiers)), Channels: make(map[string]Figures, len(t.acc.Channels)), Total: t.acc.Total}
	for k, v := range t.acc.Queues {
		w.Queues[k] = v
	}
	for k, v := range t.acc.Tiers {
		w.Tiers[k] = v
	}
	for k, v := range t.acc.Channels {
		w.Channels[k] = v
	}
	t.m.finishWindow(&w, members, func(id contact.AgentID) StateTime { return t.AgentTime(id, to) })
	return w
}

// Window counts [from, to) from the facts kept: from must not be before
// the rolling window of the last Advance.
func (t *Today) Window(from, to time.Time, members map[contact.QueueName][]contact.AgentID) Window {
	return t.m.Window(from, to, members)
}

// Intervals is the day's chart, as Metrics.Intervals(day, now+1ms,
// IntervalSize, nil) gives it for all queues (queue ""). Call Advance(now)
// first.
func (t *Today) Intervals(now time.Time) []Interval {
	to := now.Add(time.Millisecond)
	s0 := t.day.Truncate(IntervalSize)
	n := 0
	for s := s0; s.Before(to); s = s.Add(IntervalSize) {
		n++
	}
	busy, avail := make([]time.Duration, n), make([]time.Duration, n)
	for i := 0; i < n && i < len(t.slots); i++ {
		busy[i], avail[i] = t.slots[i].busy, t.slots[i].avail
	}
	for id, segs := range t.m.agents {
		folded := 0
		if ad := t.agents[id]; ad != nil {
			folded = ad.folded
		}
		for i := folded; i < len(segs); i++ {
			end := to
			if i+1 < len(segs) {
				end = segs[i+1].at
			}
			a, b := later(segs[i].at, t.day), earlier(end, to)
			if b.After(a) {
				t.spread(segs[i].state, a, b, func(i int, isBusy bool, d time.Duration) {
					if isBusy {
						busy[i] += d
					} else {
						avail[i] += d
					}
				})
			}
		}
	}
	var out []Interval
	for i := 0; i < n; i++ {
		var f Figures
		if i < len(t.slots) {
			f = t.slots[i].f
		}
		f.finish()
		f.Occupancy = ratio(busy[i], avail[i])
		out = append(out, Interval{Start: s0.Add(time.Duration(i) * IntervalSize), Figures: f})
	}
	return out
}
