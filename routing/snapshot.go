package routing

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Snapshot is a serialisable view of the whole engine.
type Snapshot struct {
	At       time.Time        `json:"at"`
	Queues   []QueueStatus    `json:"queues"`
	Contacts []WaitingContact `json:"contacts"` // waiting or ringing, best first per queue
	Agents   []AgentStatus    `json:"agents"`
	Offers   []Offer          `json:"offers"`
}

// QueueStatus is a queue's configuration and size.
type QueueStatus struct {
	Queue    Queue         `json:"queue"`
	Waiting  int           `json:"waiting"` // waiting or ringing, not counting contacts sent to one agent
	Members  int           `json:"members"`
	LoggedIn int           `json:"logged_in"`
	Free     int           `json:"free"`
	Longest  time.Duration `json:"longest"`
}

// WaitingContact is a contact not yet answered. Restore takes these back.
type WaitingContact struct {
	Item
	QueuedAt  time.Time `json:"queued_at"` // entered Item.Queue
	Seq       uint64    `json:"seq"`       // arrival order (ties)
	State     string    `json:"state"`     // waiting or offered
	Stage     int       `json:"stage,omitempty"`
	Effective float64   `json:"effective"` // effective priority at Snapshot.At
}

// Assignment is a contact in an agent's hands.
type Assignment struct {
	Item
	QueuedAt   time.Time `json:"queued_at"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// AgentStatus is an agent's configuration and live state. Restore takes
// these back.
type AgentStatus struct {
	Agent
	Presence    Presence                `json:"presence"`
	State       AgentState              `json:"state"`
	Load        map[contact.Channel]int `json:"load,omitempty"` // includes a ringing offer
	Assigned    []Assignment            `json:"assigned,omitempty"`
	IdleSince   time.Time               `json:"idle_since"`
	WrapUpUntil time.Time               `json:"wrapup_until,omitempty"`
	WrapUp      *Item                   `json:"wrapup_contact,omitempty"`
	Missed      int                     `json:"missed,omitempty"`
	Handled     int                     `json:"handled,omitempty"`
}

func (e *Engine) waitingContact(c *waiting) WaitingContact {
	w := WaitingContact{Item: c.item, QueuedAt: c.queuedAt, Seq: c.seq, State: c.state.String(), Stage: c.stage}
	w.Effective = float64(c.effective(e.nowMs)) / 1e6
	return w
}

// Snapshot returns the engine's state at the latest time it has seen.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Snapshot{At: e.now}
	longest := map[*queue]time.Duration{}
	var cs []*waiting
	for _, c := range e.contacts {
		if c.state == cAssigned {
			continue
		}
		cs = append(cs, c)
		if !c.direct {
			if d := e.now.Sub(c.queuedAt); d > longest[c.q] {
				longest[c.q] = d
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].q.cfg.Name != cs[j].q.cfg.Name {
			return cs[i].q.cfg.Name < cs[j].q.cfg.Name
		}
		return better(cs[i], cs[j], e.nowMs)
	})
	for _, c := range cs {
		s.Contacts = append(s.Contacts, e.waitingContact(c))
	}
	for _, q := range e.queues {
		s.Queues = append(s.Queues, QueueStatus{
			Queue: q.cfg, Waiting: q.count, Members: len(q.members), LoggedIn: q.loggedIn, Free: len(q.free), Longest: longest[q],
		})
	}
	sort.Slice(s.Queues, func(i, j int) bool { return s.Queues[i].Queue.Name < s.Queues[j].Queue.Name })
	for _, a := range e.agents {
		st := AgentStatus{
			Agent: a.cfg, Presence: a.presence, State: a.state, IdleSince: a.idleSince,
			Missed: a.missed, Handled: a.handled, Load: map[contact.Channel]int{},
		}
		st.Queues = append([]Membership(nil), a.cfg.Queues...)
		for _, ch := range contact.Channels {
			if n := a.load[chIdx(ch)]; n > 0 {
				st.Load[ch] = n
			}
		}
		for _, c := range a.assigned {
			st.Assigned = append(st.Assigned, Assignment{Item: c.item, QueuedAt: c.queuedAt, AcceptedAt: c.accepted})
		}
		sort.Slice(st.Assigned, func(i, j int) bool { return st.Assigned[i].Contact < st.Assigned[j].Contact })
		if a.wrapping {
			st.WrapUpUntil = e.now.Add(time.Duration(a.wrapTm.at - e.nowNs))
			it := a.wrapC.item
			st.WrapUp = &it
		}
		s.Agents = append(s.Agents, st)
	}
	sort.Slice(s.Agents, func(i, j int) bool { return s.Agents[i].ID < s.Agents[j].ID })
	for _, o := range e.offers {
		s.Offers = append(s.Offers, o.Offer)
	}
	sort.Slice(s.Offers, func(i, j int) bool { return s.Offers[i].ID < s.Offers[j].ID })
	return s
}

// Restore rebuilds state after a restart, on an engine that already has its
// queues: agents with their presence, contacts in hand and wrap-up, then
// the waiting contacts with their original EnqueuedAt, QueuedAt and arrival
// order, so every contact keeps its place. Offers live at the time of the
// snapshot are not restored: those contacts wait again and are offered
// anew. Contacts already known are skipped with ErrDuplicate; contacts of
// unknown queues with ErrUnknownQueue (the rest are restored). Waiting
// contacts are announced as enqueued with Reason "restored", which Stats
// does not count as new arrivals.
func (e *Engine) Restore(contacts []WaitingContact, agents []AgentStatus, now time.Time) ([]Event, error) {
	e.begin(now)
	var errs []error
	for _, st := range agents {
		if err := e.restoreAgent(st); err != nil {
			errs = append(errs, err)
		}
	}
	cs := append([]WaitingContact(nil), contacts...)
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Seq != cs[j].Seq {
			return cs[i].Seq < cs[j].Seq
		}
		return cs[i].EnqueuedAt.Before(cs[j].EnqueuedAt)
	})
	for _, w := range cs {
		if err := e.restoreContact(w); err != nil {
			errs = append(errs, err)
		}
	}
	return e.end(), errors.Join(errs...)
}

func (e *Engine) restoreAgent(st AgentStatus) error {
	cfg := st.Agent
	cfg.Queues = append([]Membership(nil), cfg.Queues...)
	if err := validateAgent(&cfg); err != nil {
		return fmt.Errorf("routing: restore agent: %w", err)
	}
	if err := e.setAgent(cfg); err != nil {
		return err
	}
	a := e.agents[cfg.ID]
	if !st.IdleSince.IsZero() {
		a.idleSince = st.IdleSince
	}
	a.missed, a.handled = st.Missed, st.Handled
	for _, as := range st.Assigned {
		q := e.queues[as.Queue]
		if q == nil {
			return fmt.Errorf("routing: restore agent %d: contact %d: %s: %w", cfg.ID, as.Contact, as.Queue, ErrUnknownQueue)
		}
		if _, dup := e.contacts[as.Contact]; dup {
			return fmt.Errorf("routing: restore agent %d: contact %d: %w", cfg.ID, as.Contact, ErrDuplicate)
		}
		c := &waiting{item: as.Item, q: q, queuedAt: as.QueuedAt, state: cAssigned, agent: a, accepted: as.AcceptedAt, hidx: -1}
		c.tm.idx = -1
		c.item.Skills = cloneSkills(c.item.Skills)
		e.seq++
		c.seq = e.seq
		c.enqMs = floorDiv(c.item.EnqueuedAt.UnixNano(), 1e6)
		e.contacts[as.Contact] = c
		a.assigned[as.Contact] = c
		a.load[chIdx(as.Channel)]++
	}
	if st.WrapUp != nil && st.WrapUpUntil.After(e.now) {
		q := e.queues[st.WrapUp.Queue]
		if q != nil {
			a.wrapping, a.wrapStart = true, e.now
			a.wrapC = &waiting{item: *st.WrapUp, q: q, queuedAt: e.now}
			e.schedule(&a.wrapTm, st.WrapUpUntil.UnixNano())
		}
	}
	p := st.Presence
	if p.State == "" {
		p = Offline
	}
	return e.setPresence(cfg.ID, p)
}

func (e *Engine) restoreContact(w WaitingContact) error {
	it := w.Item
	if _, dup := e.contacts[it.Contact]; dup {
		return fmt.Errorf("routing: restore contact %d: %w", it.Contact, ErrDuplicate)
	}
	q := e.queues[it.Queue]
	if q == nil {
		return fmt.Errorf("routing: restore contact %d: %s: %w", it.Contact, it.Queue, ErrUnknownQueue)
	}
	if it.Contact == 0 || !it.Channel.Valid() {
		return fmt.Errorf("routing: restore contact %d: %w", it.Contact, ErrInvalidItem)
	}
	if it.EnqueuedAt.IsZero() {
		it.EnqueuedAt = e.now
	}
	it.Skills = cloneSkills(it.Skills)
	c := &waiting{item: it, q: q, hidx: -1, queuedAt: w.QueuedAt}
	if c.queuedAt.IsZero() {
		c.queuedAt = it.EnqueuedAt
	}
	c.tm.idx = -1
	e.seq++
	c.seq = e.seq
	c.enqMs = floorDiv(it.EnqueuedAt.UnixNano(), 1e6)
	e.contacts[it.Contact] = c
	ev := e.cev(EventEnqueued, c)
	ev.Reason = ReasonRestored
	if it.Agent != 0 {
		if a := e.agents[it.Agent]; a != nil {
			e.toAgent(c, a)
			return nil
		}
		c.item.Agent = 0
	}
	e.insert(c, q)
	return nil
}
