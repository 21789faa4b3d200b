// Package emailstore keeps the email channel's own records in PostgreSQL
// (migrations/00040_email.sql): attachment blobs, the Message-ID index that
// threads replies and correlates bounces, and IMAP import cursors. It
// implements email.Store.
package emailstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/email"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is email.Store on a pgx pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool (store.Store.Pool).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ email.Store = (*Store)(nil)

// Ref is the content address of a blob.
func Ref(b email.Blob) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", b.ContentType, b.Name)
	h.Write(b.Data)
	return hex.EncodeToString(h.Sum(nil))
}

// PutBlob stores a blob once and returns its ref.
func (s *Store) PutBlob(ctx context.Context, b email.Blob) (string, error) {
	ref := Ref(b)
	_, err := s.pool.Exec(ctx, `INSERT INTO email_blobs (ref, name, content_type, size, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (ref) DO NOTHING`, ref, b.Name, b.ContentType, int64(len(b.Data)), b.Data)
	if err != nil {
		return "", fmt.Errorf("emailstore: put blob: %w", err)
	}
	return ref, nil
}

// Blob returns a blob or email.ErrNotFound.
func (s *Store) Blob(ctx context.Context, ref string) (email.Blob, error) {
	b := email.Blob{Ref: ref}
	err := s.pool.QueryRow(ctx, `SELECT name, content_type, size, data FROM email_blobs WHERE ref = $1`, ref).
		Scan(&b.Name, &b.ContentType, &b.Size, &b.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return email.Blob{}, fmt.Errorf("emailstore: blob %s: %w", ref, email.ErrNotFound)
	}
	if err != nil {
		return email.Blob{}, fmt.Errorf("emailstore: blob %s: %w", ref, err)
	}
	return b, nil
}

// IndexMessage records a Message-ID; a known one is left as it is.
func (s *Store) IndexMessage(ctx context.Context, e email.Entry) error {
	var contactID, msg *int64
	if e.Contact != 0 {
		v := int64(e.Contact)
		contactID = &v
	}
	if e.Message != 0 {
		msg = &e.Message
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO email_messages (message_id, direction, thread_key, contact_id, message, created_at)
		VALUES ($1, $2, $3, $4, $5, COALESCE($6, now())) ON CONFLICT (message_id) DO NOTHING`,
		e.MessageID, e.Direction, e.ThreadKey, contactID, msg, nullTime(e))
	if err != nil {
		return fmt.Errorf("emailstore: index %s: %w", e.MessageID, err)
	}
	return nil
}

func nullTime(e email.Entry) any {
	if e.At.IsZero() {
		return nil
	}
	return e.At
}

const entryColumns = `message_id, direction, thread_key, COALESCE(contact_id, 0), COALESCE(message, 0), created_at`

func scanEntry(row pgx.Row) (email.Entry, error) {
	var e email.Entry
	var c int64
	err := row.Scan(&e.MessageID, &e.Direction, &e.ThreadKey, &c, &e.Message, &e.At)
	e.Contact = contact.ID(c)
	return e, err
}

// Lookup returns the newest entry among ids.
func (s *Store) Lookup(ctx context.Context, ids []string) (email.Entry, error) {
	if len(ids) == 0 {
		return email.Entry{}, fmt.Errorf("emailstore: lookup: %w", email.ErrNotFound)
	}
	e, err := scanEntry(s.pool.QueryRow(ctx, `SELECT `+entryColumns+` FROM email_messages
		WHERE message_id = ANY($1) ORDER BY created_at DESC LIMIT 1`, ids))
	if errors.Is(err, pgx.ErrNoRows) {
		return email.Entry{}, fmt.Errorf("emailstore: lookup: %w", email.ErrNotFound)
	}
	if err != nil {
		return email.Entry{}, fmt.Errorf("emailstore: lookup: %w", err)
	}
	return e, nil
}

// ByContact returns the newest entry of a contact.
func (s *Store) ByContact(ctx context.Context, id contact.ID) (email.Entry, error) {
	e, err := scanEntry(s.pool.QueryRow(ctx, `SELECT `+entryColumns+` FROM email_messages
		WHERE contact_id = $1 ORDER BY created_at DESC LIMIT 1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return email.Entry{}, fmt.Errorf("emailstore: contact %d: %w", id, email.ErrNotFound)
	}
	if err != nil {
		return email.Entry{}, fmt.Errorf("emailstore: contact %d: %w", id, err)
	}
	return e, nil
}

// Thread returns the root entry and the newest limit-1 entries, in time order.
func (s *Store) Thread(ctx context.Context, key string, limit int) ([]email.Entry, error) {
	if limit < 1 {
		limit = 1
	}
	rows, err := s.pool.Query(ctx, `SELECT * FROM (
			(SELECT `+entryColumns+` FROM email_messages WHERE thread_key = $1 ORDER BY created_at LIMIT 1)
			UNION
			(SELECT `+entryColumns+` FROM email_messages WHERE thread_key = $1 ORDER BY created_at DESC LIMIT $2)
		) t ORDER BY created_at, message_id`, key, limit-1)
	if err != nil {
		return nil, fmt.Errorf("emailstore: thread: %w", err)
	}
	defer rows.Close()
	var out []email.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("emailstore: thread: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// MarkBounced marks our outbound messages with these Message-IDs failed.
func (s *Store) MarkBounced(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE messages SET status = 'failed' WHERE id IN (
		SELECT message FROM email_messages WHERE message_id = ANY($1) AND direction = 'outbound' AND message IS NOT NULL)`, ids)
	if err != nil {
		return 0, fmt.Errorf("emailstore: mark bounced: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Cursor returns an IMAP account's UIDVALIDITY and last imported UID.
func (s *Store) Cursor(ctx context.Context, account string) (uint32, uint32, error) {
	var v, u int64
	err := s.pool.QueryRow(ctx, `SELECT uid_validity, last_uid FROM email_imap_cursors WHERE account = $1`, account).Scan(&v, &u)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("emailstore: cursor %s: %w", account, err)
	}
	return uint32(v), uint32(u), nil
}

// SetCursor records an IMAP account's progress.
func (s *Store) SetCursor(ctx context.Context, account string, validity, uid uint32) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO email_imap_cursors (account, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (account) DO UPDATE SET uid_validity = EXCLUDED.uid_validity, last_uid = EXCLUDED.last_uid, updated_at = now()`,
		account, int64(validity), int64(uid))
	if err != nil {
		return fmt.Errorf("emailstore: set cursor %s: %w", account, err)
	}
	return nil
}
