// Package desk is the coordinator: the one place that ties channel
// adapters, the store, the customer model, the routing engine and the agent
// hub together (DESIGN.md, "Data flows one way").
//
// A contact arrives through Accept (contact.Sink): the customer is resolved,
// the contact is committed, the tier policy gives queue and priority, and the
// routing engine enqueues it. Every engine event goes through one ordered
// pipeline: persisted in batches (group commit), then pushed to agents.
// Operations that an agent or a channel must see acknowledged wait until
// their events are committed.
package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/routing"
	"github.com/jackc/pgx/v5/pgconn"
)

// Identified is what the customer model knows about a sender.
type Identified struct {
	CustomerID contact.CustomerID
	Name       string
	// Normalized is the identity's canonical value (E.164, lower-case email).
	Normalized string
	// Tier and facts (open_complaint, quadrant, lifecycle) for the tier policy.
	Tier       string
	Attributes map[string]string
	// Profile, if the model computed it while identifying, saves a lookup.
	Profile any
}

// Customers is the customer model as the desk needs it.
type Customers interface {
	Identify(ctx context.Context, id contact.Identity) (Identified, error)
	// Profile is the screen-pop payload of a known customer.
	Profile(ctx context.Context, id contact.CustomerID) (any, error)
}

// Notifier pushes envelopes to agents' consoles (the hub).
type Notifier interface {
	Send(agent contact.AgentID, typ string, data any) error
	Broadcast(typ string, data any)
}

// Options configure a Desk.
type Options struct {
	Policy routing.TierPolicy
	Now    func() time.Time
	// Grace after a restart for agents who were logged in to reconnect
	// before they are logged out (default 60 s).
	Grace time.Duration
}

// Desk is the coordinator.
type Desk struct {
	st     *store.Store
	eng    *routing.Engine
	cust   Customers
	notify Notifier
	log    *slog.Logger
	policy routing.TierPolicy
	now    func() time.Time
	grace  time.Duration

	obmu     sync.Mutex
	outboxes map[contact.ID]*outbox

	chmu     sync.RWMutex
	channels map[contact.Channel]contact.Conversation
	// restored: open contacts found at Start, by channel, until their
	// channel is registered (see EndsWithProcess).
	restored map[contact.Channel][]contact.ID

	// pipeline
	pmu     sync.Mutex
	pending []item
	seq     uint64 // items appended
	done    uint64 // items persisted and notified
	wake    chan struct{}
	flushed chan struct{} // closed and replaced at each flush

	// live view
	mu         sync.Mutex
	open       map[contact.ID]*liveContact
	offers     map[routing.OfferID]routing.Offer
	agents     map[contact.AgentID]*agentInfo
	connected  map[contact.AgentID]bool
	queueNames []contact.QueueName
	// OnFeedback, if set, is called after a rating is stored (the customer
	// model recomputes satisfaction).
	OnFeedback func(store.Feedback)
	queues     map[contact.QueueName]routing.Queue
	pos        *positions
}

type liveContact struct {
	rec     store.Contact
	profile any
	// msgs caches the conversation since arrival (nil: unknown, e.g. after
	// a restart), so a screen-pop on accept needs no query.
	msgs []contact.Message
}

type agentInfo struct {
	user     store.User
	presence routing.Presence
	state    routing.AgentState
	since    time.Time
}

// item is one entry of the pipeline: an engine event or a desk change.
type item struct {
	ev     *routing.Event
	change *store.Change
	after  func() // notification to run after commit
}

// New builds a Desk. Call Start before use.
func New(st *store.Store, cust Customers, notify Notifier, log *slog.Logger, o Options) *Desk {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Grace == 0 {
		o.Grace = 60 * time.Second
	}
	if o.Policy.DefaultQueue == "" {
		o.Policy = routing.DefaultTierPolicy()
	}
	d := &Desk{
		st: st, cust: cust, notify: notify, log: log, policy: o.Policy, now: o.Now, grace: o.Grace,
		channels: map[contact.Channel]contact.Conversation{}, outboxes: map[contact.ID]*outbox{},
		wake: make(chan struct{}, 1), flushed: make(chan struct{}),
		open: map[contact.ID]*liveContact{}, offers: map[routing.OfferID]routing.Offer{},
		agents: map[contact.AgentID]*agentInfo{}, connected: map[contact.AgentID]bool{},
		queues: map[contact.QueueName]routing.Queue{},
	}
	d.eng = routing.New(routing.Config{Sink: d.sink})
	return d
}

// Engine exposes the routing engine for statistics and snapshots.
func (d *Desk) Engine() *routing.Engine { return d.eng }

// Register sets the adapter that carries conversations of a channel.
func (d *Desk) Register(ch contact.Channel, c contact.Conversation) {
	d.chmu.Lock()
	defer d.chmu.Unlock()
	d.channels[ch] = c
	d.endLeftOversLocked()
}

// endLeftOversLocked starts ending the restored contacts of registered
// channels whose conversations end with the process, whichever of Start
// and Register comes first. d.chmu is held.
func (d *Desk) endLeftOversLocked() {
	for ch, ids := range d.restored {
		if e, ok := d.channels[ch].(endsWithProcess); ok && e.EndsWithProcess() {
			delete(d.restored, ch)
			go d.endRestored(ch, ids)
		}
	}
}

// endsWithProcess is implemented by channels whose conversations cannot
// outlive the process (a SIP call's dialog and media live in memory): the
// open contacts of such a channel found at Start are over, however they
// were left (crash, SIGKILL).
type endsWithProcess interface{ EndsWithProcess() bool }

// endRestored ends contacts restored at Start whose conversations died
// with the previous process: waiting ones are abandoned, answered ones go
// to wrap-up, so nothing waits for an agent forever.
func (d *Desk) endRestored(ch contact.Channel, ids []contact.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	for _, id := range ids {
		if err := d.CustomerEnded(ctx, id); err != nil {
			d.log.Warn("end contact left over from the previous process", "contact_id", id, "channel", ch, "err", err)
			continue
		}
		n++
	}
	d.log.Info("contacts left over from the previous process ended", "channel", ch, "count", n)
}

func (d *Desk) channel(ch contact.Channel) contact.Conversation {
	d.chmu.RLock()
	defer d.chmu.RUnlock()
	return d.channels[ch]
}

// sink receives engine events under the engine's lock: record and queue only.
func (d *Desk) sink(ev routing.Event) {
	e := ev
	d.mu.Lock()
	switch ev.Kind {
	case routing.EventOffered:
		d.offers[ev.Offer] = routing.Offer{ID: ev.Offer, Agent: ev.Agent, Contact: ev.Contact, Queue: ev.Queue,
			Channel: ev.Channel, Tier: ev.Tier, Priority: ev.Priority, Deadline: ev.Deadline, Callback: ev.Callback}
	case routing.EventAccepted, routing.EventDeclined, routing.EventTimedOut, routing.EventWithdrawn:
		delete(d.offers, ev.Offer)
	case routing.EventAgentStateChanged:
		if a := d.agents[ev.Agent]; a != nil {
			a.state, a.since = ev.State, ev.At
			if ev.State == routing.StateAway {
				a.presence = routing.Away(ev.Reason)
			}
		}
	}
	if lc := d.open[ev.Contact]; lc != nil {
		applyToRecord(&lc.rec, ev)
	}
	d.mu.Unlock()
	d.push(item{ev: &e})
}

// push appends to the pipeline and returns the sequence number to wait for.
func (d *Desk) push(it item) uint64 {
	d.pmu.Lock()
	d.pending = append(d.pending, it)
	d.seq++
	s := d.seq
	d.pmu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return s
}

func (d *Desk) lastSeq() uint64 {
	d.pmu.Lock()
	defer d.pmu.Unlock()
	return d.seq
}

// wait blocks until everything up to seq is persisted.
func (d *Desk) wait(ctx context.Context, seq uint64) error {
	for {
		d.pmu.Lock()
		done, ch := d.done, d.flushed
		d.pmu.Unlock()
		if done >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
		}
	}
}

// sync waits for every event produced so far.
func (d *Desk) sync(ctx context.Context) error { return d.wait(ctx, d.lastSeq()) }

// Run drives the pipeline and the engine's clock until ctx ends.
func (d *Desk) Run(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	restoredAt := d.now()
	graceDone := false
	for {
		select {
		case <-ctx.Done():
			d.flush(context.Background()) // best effort
			return nil
		case <-d.wake:
		case <-tick.C:
			d.eng.Tick(d.now())
			if !graceDone && d.now().Sub(restoredAt) >= d.grace {
				graceDone = true
				d.logoutAbsent(ctx)
			}
		}
		d.flush(ctx)
	}
}

// flush persists pending items in one transaction, retrying while the
// database is unreachable, then runs their notifications in order.
func (d *Desk) flush(ctx context.Context) {
	d.pmu.Lock()
	batch := d.pending
	d.pending = nil
	upto := d.seq
	d.pmu.Unlock()
	if len(batch) == 0 {
		return
	}
	changes := make([]store.Change, 0, len(batch))
	for _, it := range batch {
		if it.ev != nil {
			changes = append(changes, changeFor(*it.ev))
		}
		if it.change != nil {
			changes = append(changes, *it.change)
		}
	}
	backoff := 50 * time.Millisecond
	for {
		err := d.st.Apply(ctx, changes)
		if err == nil {
			break
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && !strings.HasPrefix(pe.Code, "08") && !strings.HasPrefix(pe.Code, "57") {
			// The server refused the batch (not a lost connection): apply
			// one by one so one bad change cannot hold up the rest.
			for _, c := range changes {
				if err := d.st.Apply(ctx, []store.Change{c}); err != nil {
					d.log.Error("persist event refused; skipped", "err", err, "kind", c.Kind, "contact_id", c.Contact)
				}
			}
			break
		}
		d.log.Error("persist events failed; retrying", "err", err, "events", len(changes))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
	}
	for _, it := range batch {
		if it.ev != nil {
			d.notifyEvent(ctx, *it.ev)
		}
		if it.after != nil {
			it.after()
		}
	}
	d.pmu.Lock()
	d.done = upto
	close(d.flushed)
	d.flushed = make(chan struct{})
	d.pmu.Unlock()
}

// changeFor maps a routing event to its persisted change.
func changeFor(ev routing.Event) store.Change {
	c := store.Change{Contact: ev.Contact, Agent: ev.Agent, Kind: string(ev.Kind), Queue: ev.Queue, At: ev.At, Data: eventData(ev)}
	switch ev.Kind {
	case routing.EventEnqueued:
		c.State, c.SetQueue = contact.Queued, ev.Queue
	case routing.EventOffered:
		c.State, c.Stamp = contact.Offered, "offered_at"
	case routing.EventAccepted:
		c.State, c.SetAgent, c.Stamp = contact.Active, ev.Agent, "answered_at"
	case routing.EventDeclined, routing.EventTimedOut:
		c.State = contact.Queued
	case routing.EventWithdrawn:
		if ev.Reason == routing.ReasonAgentAway || ev.Reason == routing.ReasonRemoved {
			c.State = contact.Queued
		}
	case routing.EventAbandoned:
		c.State, c.Stamp = contact.Abandoned, "ended_at"
	case routing.EventOverflowed:
		c.SetQueue = ev.ToQueue
	case routing.EventTransferred:
		c.State, c.SetAgent = contact.Queued, -1
		if ev.ToQueue != "" {
			c.SetQueue = ev.ToQueue
		}
	case routing.EventCompleted:
		c.State, c.Stamp = contact.WrapUp, "ended_at"
	case routing.EventAgentStateChanged:
		c.AgentState, c.AgentReason = string(ev.State), ev.Reason
	}
	return c
}

func eventData(ev routing.Event) map[string]any {
	m := map[string]any{}
	if ev.Offer != 0 {
		m["offer_id"] = ev.Offer
	}
	if ev.ToQueue != "" {
		m["to_queue"] = ev.ToQueue
	}
	if ev.ToAgent != 0 {
		m["to_agent"] = ev.ToAgent
	}
	if ev.Wait != 0 {
		m["wait_ms"] = ev.Wait.Milliseconds()
	}
	if ev.Talk != 0 {
		m["talk_ms"] = ev.Talk.Milliseconds()
	}
	if ev.WrapUp != 0 {
		m["wrapup_ms"] = ev.WrapUp.Milliseconds()
	}
	if !ev.Deadline.IsZero() {
		m["deadline"] = ev.Deadline
	}
	if ev.Reason != "" {
		m["reason"] = ev.Reason
	}
	if ev.State != "" {
		m["state"] = ev.State
		m["from"] = ev.From
	}
	if ev.Tier != "" {
		m["tier"] = ev.Tier
	}
	if ev.Channel != "" {
		m["channel"] = ev.Channel
	}
	if ev.Callback {
		m["callback"] = true
	}
	return m
}

// applyToRecord keeps the cached contact in step with the engine.
func applyToRecord(r *store.Contact, ev routing.Event) {
	at := ev.At
	switch ev.Kind {
	case routing.EventEnqueued:
		r.State, r.Queue = contact.Queued, ev.Queue
	case routing.EventOffered:
		r.State, r.OfferedAt = contact.Offered, &at
	case routing.EventAccepted:
		r.State, r.AgentID, r.AnsweredAt = contact.Active, ev.Agent, &at
	case routing.EventDeclined, routing.EventTimedOut:
		r.State = contact.Queued
	case routing.EventWithdrawn:
		if ev.Reason == routing.ReasonAgentAway || ev.Reason == routing.ReasonRemoved {
			r.State = contact.Queued
		}
	case routing.EventAbandoned:
		r.State, r.EndedAt = contact.Abandoned, &at
	case routing.EventOverflowed:
		r.Queue = ev.ToQueue
	case routing.EventTransferred:
		r.State, r.AgentID = contact.Queued, 0
		if ev.ToQueue != "" {
			r.Queue = ev.ToQueue
		}
	case routing.EventCompleted:
		r.State, r.EndedAt = contact.WrapUp, &at
	}
}

// Accept is contact.Sink: resolve, commit, enqueue. It returns once the
// contact (and its first message) is committed.
func (d *Desk) Accept(ctx context.Context, a contact.Arrival) (contact.Contact, error) {
	rec, _, err := d.accept(ctx, a)
	return rec.Contact, err
}

func (d *Desk) accept(ctx context.Context, a contact.Arrival) (store.Contact, bool, error) {
	if !a.Channel.Valid() {
		return store.Contact{}, false, fmt.Errorf("%w: channel %q", ErrInvalid, a.Channel)
	}
	if strings.TrimSpace(a.From.Value) == "" {
		return store.Contact{}, false, fmt.Errorf("%w: sender address is empty", ErrInvalid)
	}
	if a.From.Kind == "" {
		a.From.Kind = contact.IdentityFor(a.Channel)
	}
	who, err := d.cust.Identify(ctx, a.From)
	if err != nil {
		return store.Contact{}, false, fmt.Errorf("%w: identify: %v", ErrUnavailable, err)
	}
	tier := who.Tier
	if tier == "" {
		tier = "standard"
	}
	attrs := map[string]string{}
	for k, v := range who.Attributes {
		attrs[k] = v
	}
	for k, v := range a.Attributes {
		attrs[k] = v
	}
	dec := d.policy.Decide(routing.Facts{Tier: tier, Attributes: attrs})
	queue := dec.Queue
	if a.Queue != "" {
		if _, known := d.queueConfig(a.Queue); known {
			queue = a.Queue
			// A named entry queue still lets the policy lift high tiers to priority.
			if dec.Queue == routing.QueuePriority {
				queue = dec.Queue
			}
		}
	}
	from := a.From
	if who.Normalized != "" {
		from.Value = who.Normalized
	}
	now := d.now()
	rec := store.Contact{
		Contact: contact.Contact{
			Channel: a.Channel, Direction: contact.Inbound, From: from, To: a.To, Subject: a.Subject,
			CustomerID: who.CustomerID, Queue: queue, Priority: dec.Priority, State: contact.Queued,
			Attributes: attrs, ThreadKey: a.ThreadKey, CreatedAt: now,
		},
		ExternalID: a.ExternalID, Tier: tier,
	}
	var first *contact.Message
	if a.Message != nil {
		m := *a.Message
		m.Direction = contact.Inbound
		first = &m
	}
	saved, created, err := d.st.InsertContact(ctx, rec, first)
	if err != nil {
		return store.Contact{}, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if !created {
		return saved, false, nil // a redelivery: already routed
	}
	profile := who.Profile
	if profile == nil && saved.CustomerID != 0 {
		if p, err := d.cust.Profile(ctx, saved.CustomerID); err == nil {
			profile = p
		} else {
			d.log.Warn("profile for screen-pop", "customer_id", saved.CustomerID, "err", err)
		}
	}
	msgs := []contact.Message{}
	if first != nil {
		msgs = append(msgs, *first)
	}
	d.mu.Lock()
	d.open[saved.ID] = &liveContact{rec: saved, profile: profile, msgs: msgs}
	d.mu.Unlock()
	_, err = d.eng.Enqueue(routing.Item{
		Contact: saved.ID, Channel: saved.Channel, Queue: saved.Queue, Priority: saved.Priority, Tier: tier,
		Attributes: attrs, CallerKey: callerKey(saved), EnqueuedAt: saved.EnqueuedAt,
	}, now)
	if err != nil {
		// The contact is committed; it stays queued in the database and a
		// restart or a supervisor can route it. Tell the caller it is accepted.
		d.log.Error("enqueue", "contact_id", saved.ID, "queue", saved.Queue, "err", err)
	}
	d.log.Info("contact accepted", "contact_id", saved.ID, "channel", saved.Channel, "customer_id", saved.CustomerID,
		"tier", tier, "queue", saved.Queue, "priority", saved.Priority, "rule", dec.Rule)
	return saved, true, nil
}

func callerKey(c store.Contact) string {
	if c.Channel == contact.Voice {
		return "voice:" + c.From.Value
	}
	return ""
}

func (d *Desk) queueConfig(name contact.QueueName) (routing.Queue, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q, ok := d.queues[name]
	return q, ok
}

// AddInbound appends a customer's message to an open conversation, committed
// before it returns; the agent handling it sees it live.
func (d *Desk) AddInbound(ctx context.Context, id contact.ID, m contact.Message) (contact.Message, error) {
	m.ContactID, m.Direction = id, contact.Inbound
	saved, err := d.st.AddMessage(ctx, m)
	if errors.Is(err, store.ErrConflict) {
		return saved, nil // redelivery
	}
	if err != nil {
		return contact.Message{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	d.mu.Lock()
	var agent contact.AgentID
	if lc := d.open[id]; lc != nil {
		if lc.msgs != nil {
			lc.msgs = append(lc.msgs, saved)
		}
		if lc.rec.State == contact.Active || lc.rec.State == contact.WrapUp {
			agent = lc.rec.AgentID
		}
	}
	d.mu.Unlock()
	if agent != 0 {
		d.send(agent, "message", map[string]any{"message": saved})
	}
	return saved, nil
}

func (d *Desk) send(agent contact.AgentID, typ string, data any) {
	if d.notify == nil {
		return
	}
	if err := d.notify.Send(agent, typ, data); err != nil {
		d.log.Debug("push to agent", "agent_id", agent, "type", typ, "err", err)
	}
}

// Thread is contact.Desk.Thread.
func (d *Desk) Thread(ctx context.Context, ch contact.Channel, key string) (contact.Contact, error) {
	c, err := d.st.LatestInThread(ctx, ch, key)
	if errors.Is(err, store.ErrNotFound) {
		return contact.Contact{}, contact.ErrNoThread
	}
	if err != nil {
		return contact.Contact{}, fmt.Errorf("%w: %v", contact.ErrUnavailable, err)
	}
	return c.Contact, nil
}

// Feedback is contact.Desk.Feedback: a rating of a contact by its customer.
func (d *Desk) Feedback(ctx context.Context, id contact.ID, csat int, nps *int, comment string) error {
	_, err := d.RecordFeedback(ctx, id, csat, nps, comment)
	return err
}

// RecordFeedback stores a rating and returns it.
func (d *Desk) RecordFeedback(ctx context.Context, id contact.ID, csat int, nps *int, comment string) (store.Feedback, error) {
	if csat < 1 || csat > 5 {
		return store.Feedback{}, fmt.Errorf("%w: csat %d: want 1 to 5", contact.ErrInvalid, csat)
	}
	if nps != nil && (*nps < 0 || *nps > 10) {
		return store.Feedback{}, fmt.Errorf("%w: nps %d: want 0 to 10", contact.ErrInvalid, *nps)
	}
	if len(comment) > MaxMessageBytes {
		return store.Feedback{}, fmt.Errorf("%w: comment too long", contact.ErrInvalid)
	}
	f, err := d.st.AddFeedbackForContact(ctx, id, csat, nps, comment)
	if errors.Is(err, store.ErrNotFound) {
		return store.Feedback{}, fmt.Errorf("%w: contact %d", ErrNotFound, id)
	}
	if err != nil {
		return store.Feedback{}, fmt.Errorf("%w: %v", contact.ErrUnavailable, err)
	}
	if d.OnFeedback != nil {
		d.OnFeedback(f)
	}
	return f, nil
}

var _ contact.Desk = (*Desk)(nil)
