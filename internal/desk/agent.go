package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/routing"
)

// Start loads queues and agents and puts back what was open before a
// restart: waiting contacts keep their original enqueue time (and so their
// place), contacts in agents' hands keep counting against their capacity,
// and agents who were logged in get Options.Grace to reconnect.
func (d *Desk) Start(ctx context.Context) error {
	qs, err := d.st.QueueConfigs(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(qs))
	for n := range qs {
		names = append(names, n)
	}
	sort.Strings(names)
	var queueNames []contact.QueueName
	for _, n := range names {
		var q routing.Queue
		if err := json.Unmarshal(qs[n], &q); err != nil {
			return fmt.Errorf("desk: queue %s config: %w", n, err)
		}
		q.Name = contact.QueueName(n)
		if err := d.eng.AddQueue(q); err != nil {
			return fmt.Errorf("desk: queue %s: %w", n, err)
		}
		queueNames = append(queueNames, q.Name)
		d.mu.Lock()
		d.queues[q.Name] = q
		d.mu.Unlock()
	}
	d.queueNames = queueNames

	recs, err := d.st.Agents(ctx)
	if err != nil {
		return err
	}
	open, err := d.st.OpenContacts(ctx)
	if err != nil {
		return err
	}
	assigned := map[contact.AgentID][]routing.Assignment{}
	var waiting []routing.WaitingContact
	now := d.now()
	d.chmu.Lock()
	d.restored = map[contact.Channel][]contact.ID{}
	for _, c := range open {
		if c.State != contact.WrapUp {
			d.restored[c.Channel] = append(d.restored[c.Channel], c.ID)
		}
	}
	d.chmu.Unlock()
	d.mu.Lock()
	for _, c := range open {
		d.open[c.ID] = &liveContact{rec: c}
		it := routing.Item{Contact: c.ID, Channel: c.Channel, Queue: c.Queue, Priority: c.Priority, Tier: c.Tier,
			Attributes: c.Attributes, CallerKey: callerKey(c), EnqueuedAt: c.EnqueuedAt}
		switch c.State {
		case contact.Queued, contact.Offered:
			waiting = append(waiting, routing.WaitingContact{Item: it, QueuedAt: c.EnqueuedAt})
		case contact.Active:
			if c.AgentID != 0 {
				acc := now
				if c.AnsweredAt != nil {
					acc = *c.AnsweredAt
				}
				assigned[c.AgentID] = append(assigned[c.AgentID], routing.Assignment{Item: it, QueuedAt: c.EnqueuedAt, AcceptedAt: acc})
			}
		}
	}
	var statuses []routing.AgentStatus
	for _, r := range recs {
		cfg := d.agentConfig(r)
		p := routing.Offline
		switch r.State {
		case string(routing.StateOffline):
		case string(routing.StateAway):
			p = routing.Away(r.Reason)
		default:
			p = routing.Available // was logged in: available until the grace period says otherwise
		}
		d.agents[cfg.ID] = &agentInfo{user: r.User, presence: p, state: p.State, since: r.Since}
		statuses = append(statuses, routing.AgentStatus{Agent: cfg, Presence: p, Assigned: assigned[cfg.ID], IdleSince: r.Since})
	}
	d.mu.Unlock()
	_, err = d.eng.Restore(waiting, statuses, now)
	if err != nil {
		d.log.Warn("restore: some contacts or agents could not be restored", "err", err)
	}
	d.chmu.Lock()
	d.endLeftOversLocked() // channels registered before Start
	d.chmu.Unlock()
	d.log.Info("desk started", "queues", len(queueNames), "agents", len(statuses), "waiting", len(waiting),
		"in_progress", len(open)-len(waiting))
	return nil
}

// agentConfig is the agent's stored routing profile, or the default: a
// member of every queue at level 1 with the default capacities.
func (d *Desk) agentConfig(r store.AgentRecord) routing.Agent {
	var cfg routing.Agent
	if len(r.Routing) > 2 {
		if err := json.Unmarshal(r.Routing, &cfg); err != nil {
			d.log.Warn("agent routing profile unreadable; using defaults", "agent_id", r.User.ID, "err", err)
			cfg = routing.Agent{}
		}
	}
	cfg.ID = contact.AgentID(r.User.ID)
	if len(cfg.Queues) == 0 {
		for _, q := range d.queueNames {
			cfg.Queues = append(cfg.Queues, routing.Membership{Queue: q, Level: 1})
		}
	}
	return cfg
}

// ensureAgent makes sure a user created after start is known to the engine.
func (d *Desk) ensureAgent(ctx context.Context, id contact.AgentID) (*agentInfo, error) {
	d.mu.Lock()
	a := d.agents[id]
	d.mu.Unlock()
	if a != nil {
		return a, nil
	}
	r, err := d.st.Agent(ctx, int64(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: agent %d (only agents and supervisors take contacts)", ErrForbidden, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	cfg := d.agentConfig(r)
	if _, err := d.eng.SetAgent(cfg, d.now()); err != nil {
		return nil, fmt.Errorf("desk: agent %d: %w", id, err)
	}
	a = &agentInfo{user: r.User, presence: routing.Offline, state: routing.StateOffline, since: d.now()}
	d.mu.Lock()
	d.agents[id] = a
	d.mu.Unlock()
	return a, nil
}

// logoutAbsent ends the grace period after a restart.
func (d *Desk) logoutAbsent(ctx context.Context) {
	d.mu.Lock()
	var absent []contact.AgentID
	for id, a := range d.agents {
		if !d.connected[id] && a.presence.State != routing.StateOffline {
			absent = append(absent, id)
		}
	}
	d.mu.Unlock()
	for _, id := range absent {
		d.setPresence(id, routing.Offline)
	}
	if len(absent) > 0 {
		d.log.Info("agents who did not reconnect after restart logged out", "count", len(absent))
	}
}

func (d *Desk) setPresence(id contact.AgentID, p routing.Presence) error {
	d.mu.Lock()
	if a := d.agents[id]; a != nil {
		a.presence = p
	}
	d.mu.Unlock()
	_, err := d.eng.SetAgentState(id, p, d.now())
	return err
}

// AgentView is an agent's state as the console shows it.
type AgentView struct {
	ID          contact.AgentID    `json:"id"`
	Name        string             `json:"name"`
	DisplayName string             `json:"display_name"`
	State       routing.AgentState `json:"state"`
	Reason      string             `json:"reason,omitempty"`
	Since       time.Time          `json:"since"`
}

func (d *Desk) view(id contact.AgentID) AgentView {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.agents[id]
	if a == nil {
		return AgentView{ID: id, State: routing.StateOffline}
	}
	v := AgentView{ID: id, Name: a.user.Name, DisplayName: a.user.DisplayName, State: a.state, Since: a.since}
	if a.state == routing.StateAway {
		v.Reason = a.presence.Reason
	}
	return v
}

// Agents lists every agent with state.
func (d *Desk) Agents() []AgentView {
	d.mu.Lock()
	ids := make([]contact.AgentID, 0, len(d.agents))
	for id := range d.agents {
		ids = append(ids, id)
	}
	d.mu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]AgentView, 0, len(ids))
	for _, id := range ids {
		out = append(out, d.view(id))
	}
	return out
}

// SetState sets an agent's presence: available, away (with reason) or offline.
func (d *Desk) SetState(ctx context.Context, id contact.AgentID, state, reason string) (AgentView, error) {
	if _, err := d.ensureAgent(ctx, id); err != nil {
		return AgentView{}, err
	}
	var p routing.Presence
	switch state {
	case "available":
		p = routing.Available
	case "offline":
		p = routing.Offline
	case "away":
		if reason == "" {
			reason = "other"
		}
		if len(reason) > 64 {
			return AgentView{}, fmt.Errorf("%w: reason too long", ErrInvalid)
		}
		p = routing.Away(reason)
	default:
		return AgentView{}, fmt.Errorf("%w: state %q: want available, away or offline", ErrInvalid, state)
	}
	if err := d.setPresence(id, p); err != nil {
		return AgentView{}, fmt.Errorf("desk: set state: %w", err)
	}
	if err := d.sync(ctx); err != nil {
		return AgentView{}, err
	}
	return d.view(id), nil
}

// OfferView is an offer as the console shows it (the screen-pop).
type OfferView struct {
	OfferID   routing.OfferID  `json:"offer_id"`
	Contact   store.Contact    `json:"contact"`
	Profile   any              `json:"profile"`
	Identity  contact.Identity `json:"identity"`
	Deadline  time.Time        `json:"deadline"`
	TimeoutMS int64            `json:"timeout_ms"`
	Collision []Collision      `json:"collision"`
}

// Collision is another agent working with the same customer right now.
type Collision struct {
	AgentID   contact.AgentID `json:"agent_id"`
	AgentName string          `json:"agent_name"`
	ContactID contact.ID      `json:"contact_id"`
	Channel   contact.Channel `json:"channel"`
}

func (d *Desk) live(ctx context.Context, id contact.ID) (*liveContact, error) {
	d.mu.Lock()
	lc := d.open[id]
	d.mu.Unlock()
	if lc != nil {
		if lc.profile == nil && lc.rec.CustomerID != 0 {
			if p, err := d.cust.Profile(ctx, lc.rec.CustomerID); err == nil {
				d.mu.Lock()
				lc.profile = p
				d.mu.Unlock()
			}
		}
		return lc, nil
	}
	rec, err := d.st.ContactByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: contact %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return &liveContact{rec: rec}, nil
}

func (d *Desk) offerView(ctx context.Context, o routing.Offer) (OfferView, bool) {
	lc, err := d.live(ctx, o.Contact)
	if err != nil {
		return OfferView{}, false
	}
	d.mu.Lock()
	rec, profile := lc.rec, lc.profile
	var col []Collision
	if rec.CustomerID != 0 {
		for id, other := range d.open {
			if id != rec.ID && other.rec.CustomerID == rec.CustomerID && other.rec.AgentID != 0 &&
				other.rec.AgentID != o.Agent && (other.rec.State == contact.Active || other.rec.State == contact.WrapUp) {
				name := ""
				if a := d.agents[other.rec.AgentID]; a != nil {
					name = a.user.DisplayName
					if name == "" {
						name = a.user.Name
					}
				}
				col = append(col, Collision{AgentID: other.rec.AgentID, AgentName: name, ContactID: id, Channel: other.rec.Channel})
			}
		}
	}
	d.mu.Unlock()
	if col == nil {
		col = []Collision{}
	}
	return OfferView{OfferID: o.ID, Contact: rec, Profile: profile, Identity: rec.From, Deadline: o.Deadline,
		TimeoutMS: max(0, time.Until(o.Deadline).Milliseconds()), Collision: col}, true
}

// Hello is what an agent's console receives first on its websocket.
type Hello struct {
	Agent    AgentView       `json:"agent"`
	State    string          `json:"state"`
	Reason   string          `json:"reason,omitempty"`
	Since    time.Time       `json:"since"`
	Phone    bool            `json:"phone_registered"`
	Contacts []store.Contact `json:"contacts"`
	Offers   []OfferView     `json:"offers"`
}

// PhoneRegistered, if set, tells whether an agent's SIP phone is registered.
var PhoneRegistered func(contact.AgentID) bool

// AgentConnected is called when an agent's console connects (first
// connection or a reconnect): it returns the hello payload.
func (d *Desk) AgentConnected(ctx context.Context, id contact.AgentID) (Hello, error) {
	if _, err := d.ensureAgent(ctx, id); err != nil {
		return Hello{}, err
	}
	d.mu.Lock()
	d.connected[id] = true
	var mine []store.Contact
	for _, lc := range d.open {
		if lc.rec.AgentID == id && (lc.rec.State == contact.Active || lc.rec.State == contact.WrapUp) {
			mine = append(mine, lc.rec)
		}
	}
	var offers []routing.Offer
	for _, o := range d.offers {
		if o.Agent == id {
			offers = append(offers, o)
		}
	}
	d.mu.Unlock()
	sort.Slice(mine, func(i, j int) bool { return mine[i].ID < mine[j].ID })
	h := Hello{Agent: d.view(id), Contacts: mine, Offers: []OfferView{}}
	if h.Contacts == nil {
		h.Contacts = []store.Contact{}
	}
	h.State, h.Reason, h.Since = string(h.Agent.State), h.Agent.Reason, h.Agent.Since
	if PhoneRegistered != nil {
		h.Phone = PhoneRegistered(id)
	}
	for _, o := range offers {
		if v, ok := d.offerView(ctx, o); ok {
			h.Offers = append(h.Offers, v)
		}
	}
	return h, nil
}

// AgentGone is called when an agent's console has been disconnected for
// longer than the grace period: the agent is logged out and any ringing
// offer goes back to the queue.
func (d *Desk) AgentGone(ctx context.Context, id contact.AgentID) {
	d.mu.Lock()
	delete(d.connected, id)
	d.mu.Unlock()
	if err := d.setPresence(id, routing.Offline); err != nil {
		d.log.Warn("log out disconnected agent", "agent_id", id, "err", err)
	}
	d.log.Info("agent disconnected beyond grace period: logged out", "agent_id", id)
}

func (d *Desk) offerFor(agent contact.AgentID, id routing.OfferID) error {
	d.mu.Lock()
	o, ok := d.offers[id]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: offer %d (expired or taken)", ErrNotFound, id)
	}
	if o.Agent != agent {
		return fmt.Errorf("%w: offer %d", ErrForbidden, id)
	}
	return nil
}

// AcceptOffer assigns the offered contact to the agent, committed before it returns.
func (d *Desk) AcceptOffer(ctx context.Context, agent contact.AgentID, id routing.OfferID) (store.Contact, error) {
	if err := d.offerFor(agent, id); err != nil {
		return store.Contact{}, err
	}
	d.mu.Lock()
	cid := d.offers[id].Contact
	d.mu.Unlock()
	if _, err := d.eng.Accept(id, d.now()); err != nil {
		if errors.Is(err, routing.ErrUnknownOffer) {
			return store.Contact{}, fmt.Errorf("%w: offer %d (expired or taken)", ErrNotFound, id)
		}
		return store.Contact{}, fmt.Errorf("desk: accept: %w", err)
	}
	if err := d.sync(ctx); err != nil {
		return store.Contact{}, err
	}
	lc, err := d.live(ctx, cid)
	if err != nil {
		return store.Contact{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return lc.rec, nil
}

// DeclineOffer puts the contact back in its place.
func (d *Desk) DeclineOffer(ctx context.Context, agent contact.AgentID, id routing.OfferID) error {
	if err := d.offerFor(agent, id); err != nil {
		return err
	}
	if _, err := d.eng.Decline(id, d.now()); err != nil {
		if errors.Is(err, routing.ErrUnknownOffer) {
			return fmt.Errorf("%w: offer %d", ErrNotFound, id)
		}
		return fmt.Errorf("desk: decline: %w", err)
	}
	return d.sync(ctx)
}

// mine returns the live contact if agent is handling it.
func (d *Desk) mine(ctx context.Context, agent contact.AgentID, id contact.ID) (store.Contact, error) {
	lc, err := d.live(ctx, id)
	if err != nil {
		return store.Contact{}, err
	}
	d.mu.Lock()
	rec := lc.rec
	d.mu.Unlock()
	if rec.AgentID != agent {
		return store.Contact{}, fmt.Errorf("%w: contact %d", ErrForbidden, id)
	}
	return rec, nil
}

// MaxMessageBytes bounds an agent's reply.
const MaxMessageBytes = 64 << 10

// Reply stores an agent's message on a text conversation (committed before
// it returns) and hands it to the channel for delivery.
func (d *Desk) Reply(ctx context.Context, agent contact.AgentID, id contact.ID, body string) (contact.Message, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return contact.Message{}, fmt.Errorf("%w: empty message", ErrInvalid)
	}
	if len(body) > MaxMessageBytes {
		return contact.Message{}, fmt.Errorf("%w: message over %d bytes", ErrInvalid, MaxMessageBytes)
	}
	rec, err := d.mine(ctx, agent, id)
	if err != nil {
		return contact.Message{}, err
	}
	if rec.Channel == contact.Voice {
		return contact.Message{}, fmt.Errorf("%w: voice contacts have no messages", ErrInvalid)
	}
	if rec.State != contact.Active && rec.State != contact.WrapUp {
		return contact.Message{}, fmt.Errorf("%w: contact is %s", ErrWrongState, rec.State)
	}
	conv := d.channel(rec.Channel)
	status := "sending"
	if conv == nil {
		status = "stored" // no adapter: kept for the record (API-created contacts)
	}
	m, err := d.st.AddMessage(ctx, contact.Message{ContactID: id, Direction: contact.Outbound, AgentID: agent, Body: body, Status: status})
	if err != nil {
		return contact.Message{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	d.mu.Lock()
	if lc := d.open[id]; lc != nil && lc.msgs != nil {
		lc.msgs = append(lc.msgs, m)
	}
	d.mu.Unlock()
	if conv != nil {
		d.enqueueDelivery(conv, rec, m)
	}
	return m, nil
}

func (d *Desk) deliver(conv contact.Conversation, rec store.Contact, m contact.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	status := "sent"
	if err := conv.Deliver(ctx, rec.Contact, m); err != nil {
		status = "failed"
		d.log.Warn("deliver message", "contact_id", rec.ID, "message_id", m.ID, "err", err)
	}
	if err := d.st.SetMessageStatusFrom(ctx, m.ID, "sending", status); err != nil {
		d.log.Warn("message status", "message_id", m.ID, "err", err)
	}
	m.Status = status
	d.send(m.AgentID, "message", map[string]any{"message": m})
}

// End finishes the conversation: the contact goes to wrap-up.
func (d *Desk) End(ctx context.Context, agent contact.AgentID, id contact.ID) (store.Contact, error) {
	rec, err := d.mine(ctx, agent, id)
	if err != nil {
		return store.Contact{}, err
	}
	if rec.State != contact.Active {
		return store.Contact{}, fmt.Errorf("%w: contact is %s", ErrWrongState, rec.State)
	}
	if err := d.complete(ctx, rec); err != nil {
		return store.Contact{}, err
	}
	lc, err := d.live(ctx, id)
	if err != nil {
		return store.Contact{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return lc.rec, nil
}

func (d *Desk) complete(ctx context.Context, rec store.Contact) error {
	if _, err := d.eng.Complete(rec.ID, d.now()); err != nil && !errors.Is(err, routing.ErrUnknownContact) {
		return fmt.Errorf("desk: complete: %w", err)
	}
	if conv := d.channel(rec.Channel); conv != nil {
		go func() {
			if err := conv.Hangup(context.Background(), rec.Contact); err != nil {
				d.log.Warn("hangup", "contact_id", rec.ID, "err", err)
			}
		}()
	}
	return d.sync(ctx)
}

// Dispositions an agent may choose at wrap-up.
var Dispositions = []string{"resolved", "follow_up", "no_answer", "wrong_number", "escalated", "other"}

// WrapUp closes the contact with a disposition and notes.
func (d *Desk) WrapUp(ctx context.Context, agent contact.AgentID, id contact.ID, disposition, notes string) (store.Contact, error) {
	valid := false
	for _, x := range Dispositions {
		valid = valid || x == disposition
	}
	if !valid {
		return store.Contact{}, fmt.Errorf("%w: disposition %q: want one of %s", ErrInvalid, disposition, strings.Join(Dispositions, ", "))
	}
	if len(notes) > MaxMessageBytes {
		return store.Contact{}, fmt.Errorf("%w: notes too long", ErrInvalid)
	}
	rec, err := d.mine(ctx, agent, id)
	if err != nil {
		return store.Contact{}, err
	}
	switch rec.State {
	case contact.Active:
		if err := d.complete(ctx, rec); err != nil {
			return store.Contact{}, err
		}
	case contact.WrapUp:
	default:
		return store.Contact{}, fmt.Errorf("%w: contact is %s", ErrWrongState, rec.State)
	}
	now := d.now()
	d.mu.Lock()
	lc := d.open[id]
	if lc != nil {
		lc.rec.State, lc.rec.ClosedAt, lc.rec.Disposition, lc.rec.WrapUpNotes = contact.Closed, &now, disposition, notes
		rec = lc.rec
	}
	delete(d.open, id)
	d.mu.Unlock()
	seq := d.push(item{change: &store.Change{Contact: id, Agent: agent, Kind: "closed", Queue: rec.Queue, At: now,
		Data: map[string]any{"disposition": disposition}, State: contact.Closed, Stamp: "closed_at",
		Disposition: &disposition, WrapUpNotes: &notes},
		after: func() { d.send(agent, "contact_closed", map[string]any{"contact_id": id}) }})
	if _, err := d.eng.EndWrapUp(agent, now); err != nil && !errors.Is(err, routing.ErrNotWrappingUp) {
		d.log.Debug("end wrap-up", "agent_id", agent, "err", err)
	}
	if err := d.wait(ctx, seq); err != nil {
		return store.Contact{}, err
	}
	return rec, d.sync(ctx)
}

// Transfer hands an agent's contact to a queue or another agent, with a note.
func (d *Desk) Transfer(ctx context.Context, agent contact.AgentID, id contact.ID, queue contact.QueueName, to contact.AgentID, note string) error {
	if _, err := d.mine(ctx, agent, id); err != nil {
		return err
	}
	if (queue == "") == (to == 0) {
		return fmt.Errorf("%w: give a queue or an agent_id", ErrInvalid)
	}
	if note != "" {
		if _, err := d.st.AddNote(ctx, store.Note{ContactID: id, AgentID: agent, Body: "Transfer: " + note}); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	var err error
	if queue != "" {
		if _, ok := d.queueConfig(queue); !ok {
			return fmt.Errorf("%w: queue %q", ErrNotFound, queue)
		}
		_, err = d.eng.Transfer(id, queue, d.now())
	} else {
		if _, e := d.ensureAgent(ctx, to); e != nil {
			return e
		}
		_, err = d.eng.TransferToAgent(id, to, d.now())
	}
	if err != nil {
		return fmt.Errorf("desk: transfer: %w", err)
	}
	return d.sync(ctx)
}

// Abandon records that the customer left while waiting (caller hung up,
// chat visitor left).
func (d *Desk) Abandon(ctx context.Context, id contact.ID) error {
	if _, err := d.eng.Abandon(id, d.now()); err != nil {
		if errors.Is(err, routing.ErrUnknownContact) || errors.Is(err, routing.ErrNotWaiting) {
			return fmt.Errorf("%w: contact %d is not waiting", ErrWrongState, id)
		}
		return fmt.Errorf("desk: abandon: %w", err)
	}
	err := d.sync(ctx)
	d.mu.Lock()
	delete(d.open, id)
	d.mu.Unlock()
	return err
}

// CustomerEnded is called by a channel when the customer ends an answered
// conversation (BYE, chat closed): the contact goes to wrap-up.
func (d *Desk) CustomerEnded(ctx context.Context, id contact.ID) error {
	lc, err := d.live(ctx, id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	st := lc.rec.State
	d.mu.Unlock()
	switch st {
	case contact.Queued, contact.Offered:
		return d.Abandon(ctx, id)
	case contact.Active:
		if _, err := d.eng.Complete(id, d.now()); err != nil && !errors.Is(err, routing.ErrUnknownContact) {
			return fmt.Errorf("desk: complete: %w", err)
		}
		return d.sync(ctx)
	}
	return nil
}

// ContactDetail is a contact with its conversation.
type ContactDetail struct {
	Contact  store.Contact        `json:"contact"`
	Profile  any                  `json:"profile"`
	Messages []contact.Message    `json:"messages"`
	Notes    []store.Note         `json:"notes"`
	Tags     []string             `json:"tags"`
	Events   []store.ContactEvent `json:"events,omitempty"`
}

// Contact returns a contact's details. Agents see contacts they handle or
// were offered; supervisors see all (checked by the caller with canSeeAll).
func (d *Desk) Contact(ctx context.Context, viewer contact.AgentID, canSeeAll bool, id contact.ID) (ContactDetail, error) {
	rec, err := d.st.ContactByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ContactDetail{}, fmt.Errorf("%w: contact %d", ErrNotFound, id)
	}
	if err != nil {
		return ContactDetail{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if !canSeeAll && rec.AgentID != viewer && !d.offeredTo(viewer, id) {
		return ContactDetail{}, fmt.Errorf("%w: contact %d", ErrForbidden, id)
	}
	msgs, err := d.st.Messages(ctx, id, 0)
	if err != nil {
		return ContactDetail{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	notes, err := d.st.Notes(ctx, id)
	if err != nil {
		return ContactDetail{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	det := ContactDetail{Contact: rec, Messages: msgs, Notes: notes, Tags: rec.Tags}
	if canSeeAll {
		det.Events, _ = d.st.ContactEvents(ctx, id)
	}
	if rec.CustomerID != 0 {
		det.Profile, _ = d.cust.Profile(ctx, rec.CustomerID)
	}
	return det, nil
}

func (d *Desk) offeredTo(agent contact.AgentID, id contact.ID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range d.offers {
		if o.Agent == agent && o.Contact == id {
			return true
		}
	}
	return false
}

// AddNote stores an internal note on a contact the agent handles.
func (d *Desk) AddNote(ctx context.Context, agent contact.AgentID, canSeeAll bool, id contact.ID, body string) (store.Note, error) {
	body = strings.TrimSpace(body)
	if body == "" || len(body) > MaxMessageBytes {
		return store.Note{}, fmt.Errorf("%w: a note is 1 to %d bytes", ErrInvalid, MaxMessageBytes)
	}
	if !canSeeAll {
		if _, err := d.mine(ctx, agent, id); err != nil {
			return store.Note{}, err
		}
	}
	n, err := d.st.AddNote(ctx, store.Note{ContactID: id, AgentID: agent, Body: body})
	if err != nil {
		return store.Note{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return n, nil
}

// SetTags replaces a contact's tags (lower-case, trimmed, de-duplicated).
func (d *Desk) SetTags(ctx context.Context, agent contact.AgentID, canSeeAll bool, id contact.ID, tags []string) ([]string, error) {
	if !canSeeAll {
		if _, err := d.mine(ctx, agent, id); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	out := []string{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || seen[t] {
			continue
		}
		if len(t) > 64 || len(out) >= 32 {
			return nil, fmt.Errorf("%w: at most 32 tags of 64 bytes", ErrInvalid)
		}
		seen[t] = true
		out = append(out, t)
	}
	if err := d.st.SetTags(ctx, id, out); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: contact %d", ErrNotFound, id)
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	d.mu.Lock()
	if lc := d.open[id]; lc != nil {
		lc.rec.Tags = out
	}
	d.mu.Unlock()
	return out, nil
}

// QueueView is a queue as the console lists it.
type QueueView struct {
	Name     contact.QueueName `json:"name"`
	Channels []contact.Channel `json:"channels"`
	Waiting  int               `json:"waiting"`
	Members  int               `json:"members"`
}

// Queues lists queues with their waiting counts.
func (d *Desk) Queues() []QueueView {
	snap := d.eng.Snapshot()
	out := make([]QueueView, 0, len(snap.Queues))
	for _, q := range snap.Queues {
		ch := q.Queue.Channels
		if len(ch) == 0 {
			ch = contact.Channels
		}
		out = append(out, QueueView{Name: q.Queue.Name, Channels: ch, Waiting: q.Waiting, Members: q.Members})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
