package sms

import (
	"context"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Store is the state the SMS channel keeps besides contacts and messages
// (which belong to the desk): opt-outs, provider message ids and the
// surveys waiting for an answer. contact/sms/smsstore implements it on
// PostgreSQL (migration 00050_sms.sql). Every method returns after commit.
type Store interface {
	// OptOut marks phone opted out; changed is false if it already was.
	OptOut(ctx context.Context, phone, keyword string) (changed bool, err error)
	// OptIn removes the opt-out; changed is false if there was none.
	OptIn(ctx context.Context, phone string) (changed bool, err error)
	OptedOut(ctx context.Context, phone string) (bool, error)

	// SaveOutbound records the provider id of a sent message.
	SaveOutbound(ctx context.Context, o Outbound) error
	// UpdateStatus records a provider delivery status of sid if its rank
	// is above the stored one (callbacks arrive out of order) and, when
	// applied and the sid belongs to a message, sets the message's status
	// to messageStatus. A sid not seen yet is remembered.
	UpdateStatus(ctx context.Context, sid, providerStatus string, rank int, errorCode, messageStatus string) (applied bool, err error)

	// SaveSurvey records a survey question sent after a contact ended.
	SaveSurvey(ctx context.Context, s Survey) error
	// PendingSurvey returns the latest survey sent to phone from number
	// since the given time, answered or not, or ErrNoSurvey.
	PendingSurvey(ctx context.Context, phone, number string, since time.Time) (Survey, error)
	// AnswerSurvey claims an unanswered survey for the reply with sid;
	// false if it was already answered.
	AnswerSurvey(ctx context.Context, id contact.ID, sid string) (bool, error)
	// ReleaseSurvey undoes AnswerSurvey when the rating could not be stored.
	ReleaseSurvey(ctx context.Context, id contact.ID) error

	// LastActivity is the time of the contact's latest message (or its
	// creation if it has none).
	LastActivity(ctx context.Context, id contact.ID) (time.Time, error)
}

// Outbound is one message handed to the provider.
type Outbound struct {
	SID       string
	MessageID int64 // 0: not a conversation message (survey, keyword reply)
	ContactID contact.ID
	To        string
	Status    string // provider status at send time (queued, accepted ...)
	Rank      int
}

// Survey is a CSAT question sent after a conversation.
type Survey struct {
	ContactID contact.ID
	Phone     string // the customer
	Number    string // the company number it came from
	SentAt    time.Time
	Answered  bool
	AnswerSID string
}
