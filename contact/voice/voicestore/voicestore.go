// Package voicestore keeps agents' SIP accounts in PostgreSQL for the voice
// channel's registrar (voice.Credentials).
package voicestore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/voice"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNoUser means no enabled user has the name.
var ErrNoUser = errors.New("voicestore: no such user")

// Store reads and writes sip_accounts.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool (store.Store.Pool).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Lookup is voice.Credentials: the account's agent and HA1. Accounts of
// disabled users are unknown.
func (s *Store) Lookup(ctx context.Context, username string) (contact.AgentID, string, error) {
	var id int64
	var ha1 string
	err := s.pool.QueryRow(ctx, `SELECT a.user_id, a.ha1 FROM sip_accounts a JOIN users u ON u.id = a.user_id
		WHERE a.username = $1 AND NOT u.disabled`, username).Scan(&id, &ha1)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", voice.ErrUnknownUser
	}
	if err != nil {
		return 0, "", fmt.Errorf("voicestore: lookup %q: %w", username, err)
	}
	return contact.AgentID(id), ha1, nil
}

// SetPassword gives the user called name a SIP account with that name as
// username and the password (stored as HA1 for realm, the server's
// CONTACTHUB_SIP_REALM, default "contacthub"). It replaces any earlier one.
func (s *Store) SetPassword(ctx context.Context, name, password, realm string) error {
	if len(password) < 8 {
		return fmt.Errorf("voicestore: sip password for %q: at least 8 characters", name)
	}
	if strings.TrimSpace(realm) == "" {
		realm = "contacthub"
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO sip_accounts (user_id, username, realm, ha1)
		SELECT id, name, $2, $3 FROM users WHERE name = $1
		ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username, realm = EXCLUDED.realm,
			ha1 = EXCLUDED.ha1, updated_at = now()`, name, realm, voice.HA1(name, realm, password))
	if err != nil {
		return fmt.Errorf("voicestore: set sip password for %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("voicestore: set sip password for %q: %w", name, ErrNoUser)
	}
	return nil
}
