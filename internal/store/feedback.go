package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
)

// Feedback is a customer's rating of a contact.
type Feedback struct {
	ID         int64              `json:"id"`
	ContactID  contact.ID         `json:"contact_id"`
	CustomerID contact.CustomerID `json:"customer_id,omitempty"`
	AgentID    contact.AgentID    `json:"agent_id,omitempty"`
	CSAT       int                `json:"csat"`
	NPS        *int               `json:"nps"`
	Comment    string             `json:"comment"`
	Channel    string             `json:"channel"`
}

// AddFeedbackForContact stores a rating of a contact, taking customer,
// agent and channel from the contact. ErrNotFound if there is no such contact.
func (s *Store) AddFeedbackForContact(ctx context.Context, id contact.ID, csat int, nps *int, comment string) (Feedback, error) {
	f := Feedback{ContactID: id, CSAT: csat, NPS: nps, Comment: comment}
	err := s.Pool.QueryRow(ctx, `INSERT INTO feedback (customer_id, contact_id, agent_id, csat, nps, comment, channel)
		SELECT customer_id, id, agent_id, $2, $3, $4, channel FROM contacts WHERE id = $1
		RETURNING id, COALESCE(customer_id, 0), COALESCE(agent_id, 0), channel`, id, csat, nps, comment).
		Scan(&f.ID, &f.CustomerID, &f.AgentID, &f.Channel)
	if errors.Is(err, pgx.ErrNoRows) {
		return Feedback{}, fmt.Errorf("store: feedback for contact %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Feedback{}, fmt.Errorf("store: feedback for contact %d: %w", id, err)
	}
	return f, nil
}
