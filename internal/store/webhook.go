package store

import (
	"context"
	"fmt"
	"time"
)

// Webhook is an integrator's endpoint for events.
type Webhook struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"`
	Events    []string  `json:"events"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookEvents maps contact changes (Change.Kind) to the event names
// integrators subscribe to.
var WebhookEvents = map[string]string{
	"created":     "contact.created",
	"accepted":    "contact.answered",
	"abandoned":   "contact.abandoned",
	"completed":   "contact.ended",
	"closed":      "contact.closed",
	"transferred": "contact.transferred",
}

// enqueueWebhookSQL writes one delivery per subscribed endpoint, in the
// transaction that commits the change (an outbox: no event is lost and
// none is sent for a change that was rolled back).
const enqueueWebhookSQL = `INSERT INTO webhook_deliveries (webhook_id, event, payload)
	SELECT w.id, $1::text, jsonb_build_object('event', $1::text, 'at', $2::timestamptz,
		'contact', (SELECT jsonb_build_object('id', c.id, 'channel', c.channel, 'direction', c.direction,
			'from', jsonb_build_object('kind', c.from_kind, 'value', c.from_value), 'to', c.to_addr,
			'customer_id', c.customer_id, 'tier', c.tier, 'queue', c.queue, 'priority', c.priority,
			'state', c.state, 'agent_id', c.agent_id, 'disposition', c.disposition, 'tags', c.tags,
			'created_at', c.created_at, 'answered_at', c.answered_at, 'ended_at', c.ended_at, 'closed_at', c.closed_at)
			FROM contacts c WHERE c.id = $3))
	FROM webhooks w WHERE w.active AND (cardinality(w.events) = 0 OR $1::text = ANY(w.events))`

// EnqueueWebhookEvent queues an event with a custom payload for every
// subscribed endpoint (complaints and other non-contact events).
func (s *Store) EnqueueWebhookEvent(ctx context.Context, event string, payload any) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, event, payload)
		SELECT w.id, $1::text, jsonb_build_object('event', $1::text, 'at', now(), 'data', $2::jsonb)
		FROM webhooks w WHERE w.active AND (cardinality(w.events) = 0 OR $1::text = ANY(w.events))`, event, payload)
	if err != nil {
		return fmt.Errorf("store: enqueue webhook %s: %w", event, err)
	}
	return nil
}

// CreateWebhook stores an endpoint.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	if w.Events == nil {
		w.Events = []string{}
	}
	err := s.Pool.QueryRow(ctx, `INSERT INTO webhooks (url, secret, events) VALUES ($1, $2, $3) RETURNING id, active, created_at`,
		w.URL, w.Secret, w.Events).Scan(&w.ID, &w.Active, &w.CreatedAt)
	if err != nil {
		return Webhook{}, fmt.Errorf("store: create webhook: %w", err)
	}
	return w, nil
}

// ListWebhooks returns every endpoint (secrets omitted).
func (s *Store) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, url, events, active, created_at FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		var w Webhook
		if err := rows.Scan(&w.ID, &w.URL, &w.Events, &w.Active, &w.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWebhook removes an endpoint and its delivery log.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete webhook %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: delete webhook %d: %w", id, ErrNotFound)
	}
	return nil
}

// Delivery is one attempt log line of a webhook event.
type Delivery struct {
	ID          int64      `json:"id"`
	WebhookID   int64      `json:"webhook_id"`
	Event       string     `json:"event"`
	Payload     []byte     `json:"-"`
	Attempts    int        `json:"attempts"`
	Status      string     `json:"status"`
	LastStatus  *int       `json:"last_status"`
	LastError   string     `json:"last_error"`
	NextAt      time.Time  `json:"next_at"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	URL         string     `json:"-"`
	Secret      string     `json:"-"`
}

// Deliveries returns an endpoint's latest deliveries.
func (s *Store) Deliveries(ctx context.Context, webhookID int64, limit int) ([]Delivery, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, webhook_id, event, attempts, status, last_status, last_error, next_at, created_at, delivered_at
		FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.Event, &d.Attempts, &d.Status, &d.LastStatus, &d.LastError, &d.NextAt, &d.CreatedAt, &d.DeliveredAt); err != nil {
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimDeliveries takes up to limit due deliveries, pushing their next_at
// forward by lease so another worker (or node) does not take them too.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Delivery, error) {
	rows, err := s.Pool.Query(ctx, `WITH due AS (
			SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $1
			ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE webhook_deliveries d SET next_at = $1 + $3::interval FROM due, webhooks w
		WHERE d.id = due.id AND w.id = d.webhook_id
		RETURNING d.id, d.webhook_id, d.event, d.payload, d.attempts, w.url, w.secret`, now, limit, lease)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.Event, &d.Payload, &d.Attempts, &d.URL, &d.Secret); err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// FinishDelivery records an attempt: delivered, or retried at next (failed
// for good when next is zero).
func (s *Store) FinishDelivery(ctx context.Context, id int64, httpStatus int, errText string, delivered bool, next time.Time) error {
	var status *int
	if httpStatus != 0 {
		status = &httpStatus
	}
	state := "pending"
	switch {
	case delivered:
		state = "delivered"
	case next.IsZero():
		state = "failed"
	}
	_, err := s.Pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
		status = $4, next_at = CASE WHEN $5::timestamptz IS NULL THEN next_at ELSE $5 END,
		delivered_at = CASE WHEN $4 = 'delivered' THEN now() ELSE delivered_at END WHERE id = $1`,
		id, status, errText, state, nullTime(next))
	if err != nil {
		return fmt.Errorf("store: finish delivery %d: %w", id, err)
	}
	return nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
