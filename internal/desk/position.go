package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// positions is a view of every queue's waiting order, rebuilt from the
// routing engine's snapshot at most once a second (waiting customers poll it).
type positions struct {
	at  time.Time
	pos map[contact.ID]int
	eta map[contact.ID]time.Duration
}

// defaultHandleTime estimates a contact's handling time before statistics exist.
const defaultHandleTime = 3 * time.Minute

// Position is a waiting contact's place in its queue (1 = next) and an
// estimate of the wait: place × average handling time ÷ agents logged in
// to the queue.
func (d *Desk) Position(id contact.ID) (int, time.Duration, bool) {
	now := d.now()
	d.mu.Lock()
	p := d.pos
	d.mu.Unlock()
	if p == nil || now.Sub(p.at) > time.Second {
		p = d.buildPositions(now)
		d.mu.Lock()
		d.pos = p
		d.mu.Unlock()
	}
	n, ok := p.pos[id]
	return n, p.eta[id], ok
}

func (d *Desk) buildPositions(now time.Time) *positions {
	snap := d.eng.Snapshot()
	stats := d.eng.Stats(now)
	aht := map[contact.QueueName]time.Duration{}
	for name, q := range stats.Queues {
		if q.AHT > 0 {
			aht[name] = q.AHT
		}
	}
	staffed := map[contact.QueueName]int{}
	for _, q := range snap.Queues {
		staffed[q.Queue.Name] = q.Members
	}
	p := &positions{at: now, pos: map[contact.ID]int{}, eta: map[contact.ID]time.Duration{}}
	next := map[contact.QueueName]int{}
	for _, w := range snap.Contacts { // best first per queue
		next[w.Queue]++
		n := next[w.Queue]
		p.pos[w.Contact] = n
		h := aht[w.Queue]
		if h == 0 {
			h = defaultHandleTime
		}
		p.eta[w.Contact] = time.Duration(n) * h / time.Duration(max(1, staffed[w.Queue]))
	}
	return p
}

// NotifyHandler pushes an envelope to the agent handling a contact, if any
// (typing indicators, read receipts from the customer's side).
func (d *Desk) NotifyHandler(id contact.ID, typ string, data any) {
	d.mu.Lock()
	var agent contact.AgentID
	if lc := d.open[id]; lc != nil && (lc.rec.State == contact.Active || lc.rec.State == contact.WrapUp) {
		agent = lc.rec.AgentID
	}
	d.mu.Unlock()
	if agent != 0 {
		d.send(agent, typ, data)
	}
}

// Handles reports whether agent is handling contact id right now.
func (d *Desk) Handles(agent contact.AgentID, id contact.ID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	lc := d.open[id]
	return lc != nil && lc.rec.AgentID == agent && (lc.rec.State == contact.Active || lc.rec.State == contact.WrapUp)
}

// RequestCallback keeps a waiting caller's place without holding the line:
// the contact stays queued and is offered as a callback.
func (d *Desk) RequestCallback(ctx context.Context, id contact.ID) error {
	if _, err := d.eng.RequestCallback(id, d.now()); err != nil {
		return fmt.Errorf("%w: callback for contact %d: %v", ErrWrongState, id, err)
	}
	return d.sync(ctx)
}
