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

type msgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const insertMessageSQL = `INSERT INTO messages (contact_id, direction, agent_id, body, external_id, attachments, status, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`

// messageArgs completes m with defaults and returns insertMessageSQL's arguments.
func messageArgs(m *contact.Message) []any {
	atts, _ := json.Marshal(m.Attachments)
	if m.Attachments == nil {
		atts = []byte("[]")
	}
	var ext *string
	if m.ExternalID != "" {
		ext = &m.ExternalID
	}
	var agent *int64
	if m.AgentID != 0 {
		v := int64(m.AgentID)
		agent = &v
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	return []any{m.ContactID, m.Direction, agent, m.Body, ext, atts, m.Status, m.CreatedAt}
}

// queueMessage adds the INSERT of m (RETURNING id) to a batch.
func queueMessage(b *pgx.Batch, m *contact.Message) { b.Queue(insertMessageSQL, messageArgs(m)...) }

func insertMessage(ctx context.Context, q msgQuerier, m *contact.Message) (contact.Message, error) {
	args := messageArgs(m)
	out := *m
	if err := q.QueryRow(ctx, insertMessageSQL, args...).Scan(&out.ID); err != nil {
		return contact.Message{}, fmt.Errorf("store: insert message: %w", err)
	}
	return out, nil
}

// AddMessage stores a message. A message whose ExternalID is already
// stored on the contact is not stored again: the stored one is returned
// with ErrConflict, so redeliveries are idempotent.
func (s *Store) AddMessage(ctx context.Context, m contact.Message) (contact.Message, error) {
	if m.ExternalID != "" {
		var existing contact.Message
		existing, err := s.messageByExternal(ctx, m.ContactID, m.ExternalID)
		if err == nil {
			return existing, fmt.Errorf("store: add message: %w", ErrConflict)
		}
		if !errors.Is(err, ErrNotFound) {
			return contact.Message{}, err
		}
	}
	return insertMessage(ctx, s.Pool, &m)
}

const messageColumns = `id, contact_id, direction, COALESCE(agent_id, 0), body, COALESCE(external_id, ''), attachments, status, created_at`

func scanMessage(row pgx.Row) (contact.Message, error) {
	var m contact.Message
	var atts []byte
	if err := row.Scan(&m.ID, &m.ContactID, &m.Direction, &m.AgentID, &m.Body, &m.ExternalID, &atts, &m.Status, &m.CreatedAt); err != nil {
		return contact.Message{}, err
	}
	if len(atts) > 2 {
		if err := json.Unmarshal(atts, &m.Attachments); err != nil {
			return contact.Message{}, err
		}
	}
	return m, nil
}

func (s *Store) messageByExternal(ctx context.Context, id contact.ID, ext string) (contact.Message, error) {
	m, err := scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE contact_id = $1 AND external_id = $2`, id, ext))
	if errors.Is(err, pgx.ErrNoRows) {
		return contact.Message{}, ErrNotFound
	}
	if err != nil {
		return contact.Message{}, fmt.Errorf("store: message: %w", err)
	}
	return m, nil
}

// Messages returns a contact's messages in order; afterID > 0 returns only later ones.
func (s *Store) Messages(ctx context.Context, id contact.ID, afterID int64) ([]contact.Message, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE contact_id = $1 AND id > $2 ORDER BY id`, id, afterID)
	if err != nil {
		return nil, fmt.Errorf("store: messages %d: %w", id, err)
	}
	defer rows.Close()
	out := []contact.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: messages %d: %w", id, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMessageStatus updates a message's delivery status (sent, delivered, read, failed).
func (s *Store) SetMessageStatus(ctx context.Context, id int64, status string) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE messages SET status = $2 WHERE id = $1`, id, status); err != nil {
		return fmt.Errorf("store: message status %d: %w", id, err)
	}
	return nil
}

// SetMessageStatusFrom updates a message's status only while it is still
// from (so a late "sent" does not overwrite a "delivered" callback).
func (s *Store) SetMessageStatusFrom(ctx context.Context, id int64, from, to string) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE messages SET status = $3 WHERE id = $1 AND status = $2`, id, from, to); err != nil {
		return fmt.Errorf("store: message status %d: %w", id, err)
	}
	return nil
}

// Note is an internal note on a contact.
type Note struct {
	ID        int64           `json:"id"`
	ContactID contact.ID      `json:"contact_id"`
	AgentID   contact.AgentID `json:"agent_id"`
	AgentName string          `json:"agent_name"`
	Body      string          `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
}

// AddNote stores an internal note.
func (s *Store) AddNote(ctx context.Context, n Note) (Note, error) {
	err := s.Pool.QueryRow(ctx, `INSERT INTO contact_notes (contact_id, agent_id, body) VALUES ($1, $2, $3)
		RETURNING id, created_at, (SELECT COALESCE(NULLIF(display_name, ''), name) FROM users WHERE id = $2)`,
		n.ContactID, n.AgentID, n.Body).Scan(&n.ID, &n.CreatedAt, &n.AgentName)
	if err != nil {
		return Note{}, fmt.Errorf("store: add note: %w", err)
	}
	return n, nil
}

// Notes returns a contact's notes in order.
func (s *Store) Notes(ctx context.Context, id contact.ID) ([]Note, error) {
	rows, err := s.Pool.Query(ctx, `SELECT n.id, n.contact_id, COALESCE(n.agent_id, 0), COALESCE(NULLIF(u.display_name, ''), u.name, ''), n.body, n.created_at
		FROM contact_notes n LEFT JOIN users u ON u.id = n.agent_id WHERE n.contact_id = $1 ORDER BY n.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: notes %d: %w", id, err)
	}
	defer rows.Close()
	out := []Note{}
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.ContactID, &n.AgentID, &n.AgentName, &n.Body, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: notes %d: %w", id, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
