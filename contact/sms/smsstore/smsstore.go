// Package smsstore keeps the SMS channel's state in PostgreSQL (tables of
// migration 00050_sms.sql): it implements sms.Store. It also sets the
// status of messages, the one write it makes to a desk table.
package smsstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/sms"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is sms.Store on a pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool (the server's store.Store.Pool).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ sms.Store = (*Store)(nil)

// OptOut is sms.Store.
func (s *Store) OptOut(ctx context.Context, phone, keyword string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO sms_optouts (phone, keyword) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING`, phone, keyword)
	if err != nil {
		return false, fmt.Errorf("smsstore: opt out: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// OptIn is sms.Store.
func (s *Store) OptIn(ctx context.Context, phone string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sms_optouts WHERE phone = $1`, phone)
	if err != nil {
		return false, fmt.Errorf("smsstore: opt in: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// OptedOut is sms.Store.
func (s *Store) OptedOut(ctx context.Context, phone string) (bool, error) {
	var out bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sms_optouts WHERE phone = $1)`, phone).Scan(&out); err != nil {
		return false, fmt.Errorf("smsstore: opted out: %w", err)
	}
	return out, nil
}

func nullID(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// SaveOutbound is sms.Store.
func (s *Store) SaveOutbound(ctx context.Context, o sms.Outbound) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sms_outbound (sid, message_id, contact_id, to_number, status, status_rank)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sid) DO UPDATE SET message_id = EXCLUDED.message_id, contact_id = EXCLUDED.contact_id,
			to_number = EXCLUDED.to_number, updated_at = now()`,
		o.SID, nullID(o.MessageID), nullID(int64(o.ContactID)), o.To, o.Status, o.Rank)
	if err != nil {
		return fmt.Errorf("smsstore: save outbound %s: %w", o.SID, err)
	}
	return nil
}

// UpdateStatus is sms.Store: one statement, so the provider status and the
// message status change together.
func (s *Store) UpdateStatus(ctx context.Context, sid, providerStatus string, rank int, errorCode, messageStatus string) (bool, error) {
	var applied bool
	err := s.pool.QueryRow(ctx, `WITH o AS (
			INSERT INTO sms_outbound (sid, status, status_rank, error_code) VALUES ($1, $2, $3, $4)
			ON CONFLICT (sid) DO UPDATE SET status = EXCLUDED.status, status_rank = EXCLUDED.status_rank,
				error_code = EXCLUDED.error_code, updated_at = now()
			WHERE sms_outbound.status_rank < EXCLUDED.status_rank
			RETURNING message_id),
		m AS (UPDATE messages SET status = $5 FROM o WHERE messages.id = o.message_id RETURNING messages.id)
		SELECT EXISTS (SELECT 1 FROM o)`, sid, providerStatus, rank, errorCode, messageStatus).Scan(&applied)
	if err != nil {
		return false, fmt.Errorf("smsstore: status %s: %w", sid, err)
	}
	return applied, nil
}

// SaveSurvey is sms.Store.
func (s *Store) SaveSurvey(ctx context.Context, v sms.Survey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sms_surveys (contact_id, phone, number, sent_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (contact_id) DO UPDATE SET sent_at = EXCLUDED.sent_at`, v.ContactID, v.Phone, v.Number, v.SentAt)
	if err != nil {
		return fmt.Errorf("smsstore: save survey %d: %w", v.ContactID, err)
	}
	return nil
}

// PendingSurvey is sms.Store.
func (s *Store) PendingSurvey(ctx context.Context, phone, number string, since time.Time) (sms.Survey, error) {
	v := sms.Survey{Phone: phone, Number: number}
	var sid *string
	err := s.pool.QueryRow(ctx, `SELECT contact_id, sent_at, answered_at IS NOT NULL, answer_sid FROM sms_surveys
		WHERE phone = $1 AND number = $2 AND sent_at >= $3 ORDER BY sent_at DESC LIMIT 1`, phone, number, since).
		Scan(&v.ContactID, &v.SentAt, &v.Answered, &sid)
	if errors.Is(err, pgx.ErrNoRows) {
		return sms.Survey{}, sms.ErrNoSurvey
	}
	if err != nil {
		return sms.Survey{}, fmt.Errorf("smsstore: pending survey: %w", err)
	}
	if sid != nil {
		v.AnswerSID = *sid
	}
	return v, nil
}

// AnswerSurvey is sms.Store.
func (s *Store) AnswerSurvey(ctx context.Context, id contact.ID, sid string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE sms_surveys SET answered_at = now(), answer_sid = $2
		WHERE contact_id = $1 AND answered_at IS NULL`, id, sid)
	if err != nil {
		return false, fmt.Errorf("smsstore: answer survey %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseSurvey is sms.Store.
func (s *Store) ReleaseSurvey(ctx context.Context, id contact.ID) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sms_surveys SET answered_at = NULL, answer_sid = NULL WHERE contact_id = $1`, id); err != nil {
		return fmt.Errorf("smsstore: release survey %d: %w", id, err)
	}
	return nil
}

// LastActivity is sms.Store.
func (s *Store) LastActivity(ctx context.Context, id contact.ID) (time.Time, error) {
	var t time.Time
	err := s.pool.QueryRow(ctx, `SELECT GREATEST(c.created_at, COALESCE((SELECT max(created_at) FROM messages WHERE contact_id = c.id), c.created_at))
		FROM contacts c WHERE c.id = $1`, id).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("smsstore: last activity %d: %w", id, err)
	}
	return t, nil
}
