package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
)

// Identity is an address a customer is known by. Value is normalised by
// internal/customer before it reaches the store.
type Identity struct {
	ID         int64                `json:"id"`
	CustomerID contact.CustomerID   `json:"customer_id"`
	Kind       contact.IdentityKind `json:"kind"`
	Value      string               `json:"value"`
	Verified   bool                 `json:"verified"`
	CreatedAt  time.Time            `json:"created_at"`
}

const identityColumns = `id, customer_id, kind, value, verified, created_at`

func scanIdentity(row pgx.Row) (Identity, error) {
	var i Identity
	err := row.Scan(&i.ID, &i.CustomerID, &i.Kind, &i.Value, &i.Verified, &i.CreatedAt)
	return i, err
}

// AddIdentity links an address to a customer. Linking an address the
// customer already has is not an error (verified is raised if asked).
// ErrConflict if another customer has it; ErrNotFound if there is no such customer.
func (s *Store) AddIdentity(ctx context.Context, id contact.CustomerID, kind contact.IdentityKind, value string, verified bool) (Identity, error) {
	out, err := scanIdentity(s.Pool.QueryRow(ctx, `
		INSERT INTO identities (customer_id, kind, value, verified) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, value) DO UPDATE SET verified = identities.verified OR excluded.verified
		WHERE identities.customer_id = excluded.customer_id
		RETURNING `+identityColumns, id, kind, value, verified))
	switch {
	case errors.Is(err, pgx.ErrNoRows): // the conflict's WHERE failed: someone else's
		return Identity{}, fmt.Errorf("store: add identity %s %s to %d: %w", kind, value, id, ErrConflict)
	case isFKViolation(err):
		return Identity{}, fmt.Errorf("store: add identity to customer %d: %w", id, ErrNotFound)
	case err != nil:
		return Identity{}, fmt.Errorf("store: add identity %s %s to %d: %w", kind, value, id, err)
	}
	return out, nil
}

// CustomerIDByIdentity returns the customer with the (normalised) address,
// or ErrNotFound.
func (s *Store) CustomerIDByIdentity(ctx context.Context, kind contact.IdentityKind, value string) (contact.CustomerID, error) {
	var id contact.CustomerID
	err := s.Pool.QueryRow(ctx, `SELECT customer_id FROM identities WHERE kind = $1 AND value = $2`, kind, value).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("store: identity %s %s: %w", kind, value, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: identity %s %s: %w", kind, value, err)
	}
	return id, nil
}

// Identities returns a customer's addresses, by kind then value.
func (s *Store) Identities(ctx context.Context, id contact.CustomerID) ([]Identity, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+identityColumns+` FROM identities WHERE customer_id = $1 ORDER BY kind, value`, id)
	if err != nil {
		return nil, fmt.Errorf("store: identities of %d: %w", id, err)
	}
	defer rows.Close()
	out := []Identity{}
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("store: identities of %d: %w", id, err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: identities of %d: %w", id, err)
	}
	return out, nil
}
