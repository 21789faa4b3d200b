package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
)

// Contact is a contacts row.
type Contact struct {
	contact.Contact
	ExternalID  string     `json:"external_id,omitempty"`
	Tier        string     `json:"tier"`
	Disposition string     `json:"disposition,omitempty"`
	WrapUpNotes string     `json:"wrapup_notes,omitempty"`
	Tags        []string   `json:"tags"`
	OfferedAt   *time.Time `json:"offered_at,omitempty"`
	AnsweredAt  *time.Time `json:"answered_at,omitempty"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

const contactColumns = `id, channel, direction, COALESCE(external_id, ''), COALESCE(thread_key, ''), from_kind, from_value, to_addr, subject,
	COALESCE(customer_id, 0), tier, queue, priority, state, COALESCE(agent_id, 0), attributes, disposition,
	wrapup_notes, tags, created_at, enqueued_at, offered_at, answered_at, ended_at, closed_at`

func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	var attrs []byte
	err := row.Scan(&c.ID, &c.Channel, &c.Direction, &c.ExternalID, &c.ThreadKey, &c.From.Kind, &c.From.Value, &c.To, &c.Subject,
		&c.CustomerID, &c.Tier, &c.Queue, &c.Priority, &c.State, &c.AgentID, &attrs, &c.Disposition,
		&c.WrapUpNotes, &c.Tags, &c.CreatedAt, &c.EnqueuedAt, &c.OfferedAt, &c.AnsweredAt, &c.EndedAt, &c.ClosedAt)
	if err != nil {
		return Contact{}, err
	}
	if len(attrs) > 2 {
		if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
			return Contact{}, fmt.Errorf("attributes: %w", err)
		}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	return c, nil
}

// InsertContact stores a new queued contact and its first message in one
// transaction. With an ExternalID already stored on the same channel it
// stores nothing and returns the existing contact with created = false.
func (s *Store) InsertContact(ctx context.Context, c Contact, first *contact.Message) (Contact, bool, error) {
	attrs, err := json.Marshal(c.Attributes)
	if err != nil {
		return Contact{}, false, fmt.Errorf("store: insert contact: %w", err)
	}
	var ext *string
	if c.ExternalID != "" {
		ext = &c.ExternalID
	}
	var thread *string
	if c.ThreadKey != "" {
		thread = &c.ThreadKey
	}
	var cust *int64
	if c.CustomerID != 0 {
		v := int64(c.CustomerID)
		cust = &v
	}
	if c.Direction == "" {
		c.Direction = contact.Inbound
	}
	if c.State == "" {
		c.State = contact.Queued
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return Contact{}, false, fmt.Errorf("store: insert contact: %w", err)
	}
	defer tx.Rollback(ctx)
	out, err := scanContact(tx.QueryRow(ctx, `
		INSERT INTO contacts (channel, direction, external_id, from_kind, from_value, to_addr, subject,
			customer_id, tier, queue, priority, state, attributes, created_at, enqueued_at, thread_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15)
		ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
		RETURNING `+contactColumns,
		c.Channel, c.Direction, ext, c.From.Kind, c.From.Value, c.To, c.Subject, cust, c.Tier, c.Queue,
		c.Priority, c.State, attrs, c.CreatedAt, thread))
	if errors.Is(err, pgx.ErrNoRows) {
		existing, err := scanContact(tx.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts
			WHERE channel = $1 AND external_id = $2`, c.Channel, c.ExternalID))
		if err != nil {
			return Contact{}, false, fmt.Errorf("store: insert contact: existing: %w", err)
		}
		return existing, false, nil
	}
	if err != nil {
		return Contact{}, false, fmt.Errorf("store: insert contact: %w", err)
	}
	// The event, the webhook outbox rows and the first message go in one
	// round trip.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO contact_events (contact_id, kind, queue, at, data) VALUES ($1, 'created', $2, $3, '{}')`,
		out.ID, out.Queue, out.CreatedAt)
	b.Queue(enqueueWebhookSQL, WebhookEvents["created"], out.CreatedAt, int64(out.ID))
	if first != nil {
		first.ContactID = out.ID
		queueMessage(b, first)
	}
	br := tx.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return Contact{}, false, fmt.Errorf("store: insert contact event: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return Contact{}, false, fmt.Errorf("store: insert contact webhook: %w", err)
	}
	if first != nil {
		if err := br.QueryRow().Scan(&first.ID); err != nil {
			br.Close()
			return Contact{}, false, fmt.Errorf("store: insert first message: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return Contact{}, false, fmt.Errorf("store: insert contact: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Contact{}, false, fmt.Errorf("store: insert contact: commit: %w", err)
	}
	return out, true, nil
}

// ContactByID returns a contact or ErrNotFound.
func (s *Store) ContactByID(ctx context.Context, id contact.ID) (Contact, error) {
	c, err := scanContact(s.Pool.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Contact{}, fmt.Errorf("store: contact %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("store: contact %d: %w", id, err)
	}
	return c, nil
}

// ContactFilter selects contacts for ListContacts.
type ContactFilter struct {
	State      contact.State
	Open       bool // not closed or abandoned
	AgentID    contact.AgentID
	CustomerID contact.CustomerID
	Channel    contact.Channel
	Limit      int
}

// ListContacts returns contacts matching f, newest first.
func (s *Store) ListContacts(ctx context.Context, f ContactFilter) ([]Contact, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE ($1 = '' OR state = $1)
		  AND (NOT $2 OR state NOT IN ('closed', 'abandoned'))
		  AND ($3 = 0 OR agent_id = $3)
		  AND ($4 = 0 OR customer_id = $4)
		  AND ($5 = '' OR channel = $5)
		ORDER BY id DESC LIMIT $6`, f.State, f.Open, f.AgentID, f.CustomerID, f.Channel, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: list contacts: %w", err)
	}
	defer rows.Close()
	out := []Contact{}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list contacts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// OpenContacts returns every contact not closed or abandoned, oldest first:
// what the desk puts back into the routing engine after a restart.
func (s *Store) OpenContacts(ctx context.Context) ([]Contact, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE state NOT IN ('closed', 'abandoned') ORDER BY enqueued_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: open contacts: %w", err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("store: open contacts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Change is one persisted state change: an event row, and optionally an
// update of the contact row and of the agent's presence.
type Change struct {
	Contact contact.ID
	Agent   contact.AgentID
	Kind    string
	Queue   contact.QueueName
	At      time.Time
	Data    any // stored as JSON

	State    contact.State     // new contact state; empty: unchanged
	SetQueue contact.QueueName // new queue; empty: unchanged
	// SetAgent: 0 unchanged, -1 clear, else the agent.
	SetAgent contact.AgentID
	Priority *int
	// Stamp names a timestamp column set to At: offered_at, answered_at, ended_at, closed_at.
	Stamp       string
	Disposition *string
	WrapUpNotes *string

	AgentState  string // new presence of Agent; empty: unchanged
	AgentReason string
}

var stampColumns = map[string]bool{"offered_at": true, "answered_at": true, "ended_at": true, "closed_at": true}

// updateContactSQL applies one Change to a contact row. offered_at is set
// at every offer; the other stamps keep their first value.
const updateContactSQL = `UPDATE contacts SET
	state        = COALESCE(NULLIF($3::text, ''), state),
	queue        = COALESCE(NULLIF($4::text, ''), queue),
	agent_id     = CASE WHEN $5::bigint = 0 THEN agent_id WHEN $5::bigint = -1 THEN NULL ELSE $5::bigint END,
	priority     = COALESCE($6::integer, priority),
	disposition  = COALESCE($7::text, disposition),
	wrapup_notes = COALESCE($8::text, wrapup_notes),
	offered_at   = CASE WHEN $9::text = 'offered_at' THEN $2::timestamptz ELSE offered_at END,
	answered_at  = CASE WHEN $9::text = 'answered_at' THEN COALESCE(answered_at, $2::timestamptz) ELSE answered_at END,
	ended_at     = CASE WHEN $9::text = 'ended_at' THEN COALESCE(ended_at, $2::timestamptz) ELSE ended_at END,
	closed_at    = CASE WHEN $9::text = 'closed_at' THEN COALESCE(closed_at, $2::timestamptz) ELSE closed_at END
	WHERE id = $1`

// Apply persists changes, in order, in one transaction.
func (s *Store) Apply(ctx context.Context, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, c := range changes {
		data, err := json.Marshal(c.Data)
		if err != nil {
			return fmt.Errorf("store: apply: %w", err)
		}
		if c.Data == nil {
			data = []byte("{}")
		}
		var contactID, agentID *int64
		if c.Contact != 0 {
			v := int64(c.Contact)
			contactID = &v
		}
		if c.Agent != 0 {
			v := int64(c.Agent)
			agentID = &v
		}
		b.Queue(`INSERT INTO contact_events (contact_id, agent_id, kind, queue, at, data) VALUES ($1, $2, $3, $4, $5, $6)`,
			contactID, agentID, c.Kind, c.Queue, c.At, data)
		if c.Contact != 0 && (c.State != "" || c.SetQueue != "" || c.SetAgent != 0 || c.Stamp != "" || c.Priority != nil || c.Disposition != nil) {
			if c.Stamp != "" && !stampColumns[c.Stamp] {
				return fmt.Errorf("store: apply: unknown stamp %q", c.Stamp)
			}
			b.Queue(updateContactSQL, int64(c.Contact), c.At, string(c.State), string(c.SetQueue), int64(c.SetAgent),
				c.Priority, c.Disposition, c.WrapUpNotes, c.Stamp)
		}
		if ev, ok := WebhookEvents[c.Kind]; ok && c.Contact != 0 {
			b.Queue(enqueueWebhookSQL, ev, c.At, int64(c.Contact))
		}
		if c.AgentState != "" && c.Agent != 0 {
			b.Queue(`INSERT INTO agent_states (user_id, state, reason, since) VALUES ($1, $2, $3, $4)
				ON CONFLICT (user_id) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason, since = EXCLUDED.since`,
				c.Agent, c.AgentState, c.AgentReason, c.At)
		}
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: apply: commit: %w", err)
	}
	return nil
}

// SetTags replaces a contact's tags.
func (s *Store) SetTags(ctx context.Context, id contact.ID, tags []string) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE contacts SET tags = $2 WHERE id = $1`, id, tags)
	if err != nil {
		return fmt.Errorf("store: set tags %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: set tags %d: %w", id, ErrNotFound)
	}
	return nil
}

// ContactEvent is a contact_events row.
type ContactEvent struct {
	ID      int64           `json:"id"`
	Contact contact.ID      `json:"contact_id"`
	Agent   contact.AgentID `json:"agent_id,omitempty"`
	Kind    string          `json:"kind"`
	Queue   string          `json:"queue,omitempty"`
	At      time.Time       `json:"at"`
	Data    json.RawMessage `json:"data"`
}

// ContactEvents returns a contact's history in order.
func (s *Store) ContactEvents(ctx context.Context, id contact.ID) ([]ContactEvent, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, contact_id, COALESCE(agent_id, 0), kind, queue, at, data
		FROM contact_events WHERE contact_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: contact events %d: %w", id, err)
	}
	defer rows.Close()
	out := []ContactEvent{}
	for rows.Next() {
		var e ContactEvent
		if err := rows.Scan(&e.ID, &e.Contact, &e.Agent, &e.Kind, &e.Queue, &e.At, &e.Data); err != nil {
			return nil, fmt.Errorf("store: contact events %d: %w", id, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecentContact is a line of a customer's contact history.
type RecentContact struct {
	ID          contact.ID      `json:"id"`
	Channel     contact.Channel `json:"channel"`
	State       contact.State   `json:"state"`
	Subject     string          `json:"subject,omitempty"`
	Disposition string          `json:"disposition,omitempty"`
	AgentName   string          `json:"agent_name,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
}

// RecentContacts returns a customer's latest contacts across channels.
func (s *Store) RecentContacts(ctx context.Context, id contact.CustomerID, limit int) ([]RecentContact, error) {
	rows, err := s.Pool.Query(ctx, `SELECT c.id, c.channel, c.state, c.subject, c.disposition,
			COALESCE(NULLIF(u.display_name, ''), u.name, ''), c.created_at
		FROM contacts c LEFT JOIN users u ON u.id = c.agent_id
		WHERE c.customer_id = $1 ORDER BY c.created_at DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent contacts %d: %w", id, err)
	}
	defer rows.Close()
	out := []RecentContact{}
	for rows.Next() {
		var r RecentContact
		if err := rows.Scan(&r.ID, &r.Channel, &r.State, &r.Subject, &r.Disposition, &r.AgentName, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: recent contacts %d: %w", id, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LatestInThread returns the newest contact of a thread, or ErrNotFound.
func (s *Store) LatestInThread(ctx context.Context, ch contact.Channel, key string) (Contact, error) {
	c, err := scanContact(s.Pool.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE channel = $1 AND thread_key = $2 ORDER BY id DESC LIMIT 1`, ch, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return Contact{}, fmt.Errorf("store: thread %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("store: thread %s: %w", key, err)
	}
	return c, nil
}
