package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateSession stores a session token hash for user until expires.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, userID int64, expires time.Time) error {
	if _, err := s.Pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		tokenHash, userID, expires); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionUser returns the enabled user owning an unexpired session, or ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (User, error) {
	u, _, err := s.Session(ctx, tokenHash, now)
	return u, err
}

// Session returns the enabled user owning an unexpired session and when
// the session expires, or ErrNotFound.
func (s *Store) Session(ctx context.Context, tokenHash []byte, now time.Time) (User, time.Time, error) {
	var u User
	var expires time.Time
	err := s.Pool.QueryRow(ctx, `
		SELECT u.id, u.name, u.display_name, u.role, u.password_hash, u.disabled, u.created_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`, tokenHash, now).
		Scan(&u.ID, &u.Name, &u.DisplayName, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, time.Time{}, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, time.Time{}, fmt.Errorf("store: session: %w", err)
	}
	return u, expires, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// APIToken is a named long-lived token of a user.
type APIToken struct {
	ID        int64      `json:"id"`
	UserID    int64      `json:"user_id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
}

// CreateAPIToken stores the hash of a new API token.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, name string, tokenHash []byte) (APIToken, error) {
	t := APIToken{UserID: userID, Name: name}
	err := s.Pool.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3)
		RETURNING id, created_at`, userID, name, tokenHash).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return APIToken{}, fmt.Errorf("store: create api token: %w", err)
	}
	return t, nil
}

// APITokenUser returns the enabled user owning an API token, or ErrNotFound.
func (s *Store) APITokenUser(ctx context.Context, tokenHash []byte) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `
		WITH t AS (UPDATE api_tokens SET last_used = now() WHERE token_hash = $1 RETURNING user_id)
		SELECT u.id, u.name, u.display_name, u.role, u.password_hash, u.disabled, u.created_at
		FROM t JOIN users u ON u.id = t.user_id WHERE NOT u.disabled`, tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("store: api token: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: api token: %w", err)
	}
	return u, nil
}
