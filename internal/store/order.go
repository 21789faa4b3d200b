package store

import (
	"context"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
)

// Order is a purchase by a customer.
type Order struct {
	ID         int64              `json:"id"`
	CustomerID contact.CustomerID `json:"customer_id"`
	ExternalID string             `json:"external_id"` // "" when none
	Amount     float64            `json:"amount"`
	Margin     *float64           `json:"margin"` // nil: amount × the default margin ratio
	Currency   string             `json:"currency"`
	OrderedAt  time.Time          `json:"ordered_at"`
	PaidOnTime *bool              `json:"paid_on_time"`
}

// AddOrder inserts o. ErrConflict if its external id exists; ErrNotFound if
// the customer does not. The caller rescores the customer (RescoreCustomer).
func (s *Store) AddOrder(ctx context.Context, o Order) (Order, error) {
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO orders (customer_id, external_id, amount, margin, currency, ordered_at, paid_on_time)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7) RETURNING id`,
		o.CustomerID, o.ExternalID, o.Amount, o.Margin, o.Currency, o.OrderedAt, o.PaidOnTime).Scan(&o.ID)
	switch {
	case isUniqueViolation(err):
		return Order{}, fmt.Errorf("store: add order %q: %w", o.ExternalID, ErrConflict)
	case isFKViolation(err):
		return Order{}, fmt.Errorf("store: add order: customer %d: %w", o.CustomerID, ErrNotFound)
	case err != nil:
		return Order{}, fmt.Errorf("store: add order: %w", err)
	}
	return o, nil
}

// OrderSummary is the live order figures of a customer.
type OrderSummary struct {
	Count       int        `json:"count"`
	Total       float64    `json:"total"`
	LastOrderAt *time.Time `json:"last_order_at"`
	Currency    string     `json:"currency"` // of the last order
}

// CustomerProfileRow is what one round trip reads for a profile: the
// customer, its computed value (nil if never computed), live order figures
// and the last CSAT.
type CustomerProfileRow struct {
	Customer Customer
	Value    *CustomerValue
	Orders   OrderSummary
	LastCSAT *int
}

// CustomerProfile reads a customer, its value row, its order summary and
// its last CSAT in one query. ErrNotFound if there is no such customer.
func (s *Store) CustomerProfile(ctx context.Context, id contact.CustomerID) (CustomerProfileRow, error) {
	var p CustomerProfileRow
	c := &p.Customer
	var v CustomerValue
	var hasValue bool
	var mon *float64
	var r, f, m *int
	var seg, abc, tier, life, quad *string
	var key *bool
	var clv, score, s0, s1, s2, s3, s4 *float64
	var freq *int
	var computed *time.Time
	var cur *string
	err := s.Pool.QueryRow(ctx, `
		SELECT c.id, coalesce(c.external_id, ''), c.name, c.company, c.language, c.notes, c.account_manager_id,
			coalesce(c.pinned_tier, ''), c.created_at,
			v.customer_id IS NOT NULL, v.r, v.f, v.m, v.segment, v.abc, v.key_account, v.clv, v.value_score,
			v.score_current, v.score_future, v.score_credit, v.score_loyalty, v.score_growth,
			v.tier, v.lifecycle, v.satisfaction, v.quadrant, v.frequency, v.monetary::float8, v.last_order_at, v.computed_at,
			o.n, o.total, o.last_at, o.currency,
			(SELECT csat FROM feedback WHERE customer_id = c.id AND csat IS NOT NULL ORDER BY created_at DESC LIMIT 1)
		FROM customers c
		LEFT JOIN customer_values v ON v.customer_id = c.id
		CROSS JOIN LATERAL (
			SELECT count(*)::int AS n, coalesce(sum(amount), 0)::float8 AS total, max(ordered_at) AS last_at,
				(array_agg(currency ORDER BY ordered_at DESC))[1] AS currency
			FROM orders WHERE customer_id = c.id) o
		WHERE c.id = $1`, id).Scan(&c.ID, &c.ExternalID, &c.Name, &c.Company, &c.Language, &c.Notes, &c.AccountManagerID,
		&c.PinnedTier, &c.CreatedAt,
		&hasValue, &r, &f, &m, &seg, &abc, &key, &clv, &score, &s0, &s1, &s2, &s3, &s4,
		&tier, &life, &v.Satisfaction, &quad, &freq, &mon, &v.LastOrderAt, &computed,
		&p.Orders.Count, &p.Orders.Total, &p.Orders.LastOrderAt, &cur, &p.LastCSAT)
	if err == pgx.ErrNoRows {
		return p, fmt.Errorf("store: customer profile %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: customer profile %d: %w", id, err)
	}
	if cur != nil {
		p.Orders.Currency = *cur
	}
	if hasValue {
		v.CustomerID = id
		v.R, v.F, v.M = *r, *f, *m
		v.Segment, v.ABC, v.KeyAccount, v.CLV, v.ValueScore = *seg, *abc, *key, *clv, *score
		v.Scores = [5]float64{*s0, *s1, *s2, *s3, *s4}
		v.Tier, v.Lifecycle, v.Quadrant, v.Frequency, v.Monetary, v.ComputedAt = *tier, *life, *quad, *freq, *mon, *computed
		p.Value = &v
	}
	return p, nil
}

// OrderImport is one order row of an import, validated. Amount and Margin
// are decimal strings; Margin, Currency and PaidOnTime may be empty/nil.
type OrderImport struct {
	Row                int
	ExternalID         string
	CustomerExternalID string
	Amount             string
	Margin             *string
	Currency           string
	OrderedAt          time.Time
	PaidOnTime         *bool
}

// ImportOrders upserts a batch by external id, set-based (COPY into a
// temporary table, then INSERT ... ON CONFLICT). Unchanged orders are left
// alone, so re-running an import changes nothing. Rows naming an unknown
// customer are reported and skipped. Within a batch the last row of an
// external id wins. Values are not rescored: run the batch afterwards.
func (s *Store) ImportOrders(ctx context.Context, rows []OrderImport) (ImportResult, error) {
	var res ImportResult
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("store: import orders: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_orders (row int, external_id text, customer_external_id text,
		amount text, margin text, currency text, ordered_at timestamptz, paid_on_time boolean) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("store: import orders: %w", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"stage_orders"},
		[]string{"row", "external_id", "customer_external_id", "amount", "margin", "currency", "ordered_at", "paid_on_time"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{int32(r.Row), r.ExternalID, r.CustomerExternalID, r.Amount, r.Margin, r.Currency, r.OrderedAt, r.PaidOnTime}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("store: import orders: copy: %w", err)
	}
	prow, err := tx.Query(ctx, `
		SELECT s.row, s.customer_external_id FROM stage_orders s
		WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.external_id = s.customer_external_id)
		ORDER BY s.row`)
	if err != nil {
		return res, fmt.Errorf("store: import orders: %w", err)
	}
	for prow.Next() {
		var p RowProblem
		var ext string
		if err := prow.Scan(&p.Row, &ext); err != nil {
			prow.Close()
			return res, fmt.Errorf("store: import orders: %w", err)
		}
		p.Reason = fmt.Sprintf("unknown customer %q", ext)
		res.Problems = append(res.Problems, p)
	}
	prow.Close()
	err = tx.QueryRow(ctx, `
		WITH d AS (
			SELECT DISTINCT ON (s.external_id) s.*, c.id AS customer_id
			FROM stage_orders s JOIN customers c ON c.external_id = s.customer_external_id
			ORDER BY s.external_id, s.row DESC
		),
		up AS (
			INSERT INTO orders AS o (customer_id, external_id, amount, margin, currency, ordered_at, paid_on_time)
			SELECT customer_id, external_id, amount::numeric, margin::numeric, coalesce(NULLIF(currency, ''), 'CNY'), ordered_at, paid_on_time FROM d
			ON CONFLICT (external_id) DO UPDATE SET customer_id = excluded.customer_id, amount = excluded.amount,
				margin = excluded.margin, currency = excluded.currency, ordered_at = excluded.ordered_at,
				paid_on_time = excluded.paid_on_time
			WHERE (o.customer_id, o.amount, o.margin, o.currency, o.ordered_at, o.paid_on_time)
				IS DISTINCT FROM (excluded.customer_id, excluded.amount, excluded.margin, excluded.currency, excluded.ordered_at, excluded.paid_on_time)
			RETURNING (xmax = 0) AS inserted
		)
		SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`).Scan(&res.Inserted, &res.Updated)
	if err != nil {
		return res, fmt.Errorf("store: import orders: upsert: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("store: import orders: %w", err)
	}
	return res, nil
}
