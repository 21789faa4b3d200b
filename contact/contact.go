// Package contact is the leaf of ContactHub: the vocabulary every other
// package shares. A Contact is one customer interaction on one channel
// (a call, a chat, an email thread, an SMS conversation). Channel adapters
// produce contacts and hand them to a Sink; the desk consumes them.
//
// This package imports nothing of ours and does no I/O.
package contact

import (
	"context"
	"fmt"
	"time"
)

// ID identifies a contact.
type ID int64

// CustomerID identifies a customer. Zero means unknown.
type CustomerID int64

// AgentID identifies an agent (a user with the agent role).
type AgentID int64

// QueueName names a routing queue.
type QueueName string

// Channel is the medium a contact arrives on.
type Channel string

// The channels ContactHub serves.
const (
	Voice Channel = "voice"
	Chat  Channel = "chat"
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Channels lists every channel, in a stable order.
var Channels = []Channel{Voice, Chat, Email, SMS}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case Voice, Chat, Email, SMS:
		return true
	}
	return false
}

// ParseChannel returns the channel named s or ErrUnknownChannel.
func ParseChannel(s string) (Channel, error) {
	c := Channel(s)
	if !c.Valid() {
		return "", fmt.Errorf("contact: %q: %w", s, ErrUnknownChannel)
	}
	return c, nil
}

// Direction says who started the contact.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// State is where a contact is in its lifecycle.
//
//	queued → offered → active → wrapup → closed
//	   ↑________|                (decline / timeout)
//	queued → abandoned
type State string

// Contact states.
const (
	Queued    State = "queued"
	Offered   State = "offered"
	Active    State = "active"
	WrapUp    State = "wrapup"
	Closed    State = "closed"
	Abandoned State = "abandoned"
)

// Terminal reports whether no further transition is possible (except reopen).
func (s State) Terminal() bool { return s == Closed || s == Abandoned }

// IdentityKind is the kind of address a customer is known by.
type IdentityKind string

// Identity kinds.
const (
	Phone     IdentityKind = "phone"
	EmailAddr IdentityKind = "email"
	Visitor   IdentityKind = "chat"
)

// Identity is an address on a channel: a phone number, an email address or a
// chat visitor id. Value is as received; normalisation is the customer
// package's job.
type Identity struct {
	Kind  IdentityKind `json:"kind"`
	Value string       `json:"value"`
}

// IdentityFor returns the identity kind a channel's sender address has.
func IdentityFor(c Channel) IdentityKind {
	switch c {
	case Voice, SMS:
		return Phone
	case Email:
		return EmailAddr
	default:
		return Visitor
	}
}

// Contact is one customer interaction.
type Contact struct {
	ID         ID                `json:"id"`
	Channel    Channel           `json:"channel"`
	Direction  Direction         `json:"direction"`
	From       Identity          `json:"from"`
	To         string            `json:"to,omitempty"` // dialled number, mailbox, company number, widget queue
	Subject    string            `json:"subject,omitempty"`
	CustomerID CustomerID        `json:"customer_id,omitempty"`
	Queue      QueueName         `json:"queue"`
	Priority   int               `json:"priority"`
	State      State             `json:"state"`
	AgentID    AgentID           `json:"agent_id,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	ThreadKey  string            `json:"thread_key,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	EnqueuedAt time.Time         `json:"enqueued_at,omitempty"`
}

// Message is one message in a text conversation (chat, email, SMS).
type Message struct {
	ID          int64        `json:"id"`
	ContactID   ID           `json:"contact_id"`
	Direction   Direction    `json:"direction"`
	AgentID     AgentID      `json:"agent_id,omitempty"`
	Body        string       `json:"body"`
	ExternalID  string       `json:"external_id,omitempty"` // Message-ID, MessageSid, client message id
	Attachments []Attachment `json:"attachments,omitempty"`
	Status      string       `json:"status,omitempty"` // sent, delivered, read, failed
	CreatedAt   time.Time    `json:"created_at"`
}

// Attachment is metadata of a file attached to a message.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Ref         string `json:"ref,omitempty"` // where the bytes are kept
}

// Arrival is what a channel adapter knows about a new inbound contact.
type Arrival struct {
	Channel    Channel
	From       Identity
	To         string
	Subject    string
	Queue      QueueName // empty: the adapter's configured default
	Attributes map[string]string
	// ExternalID makes the arrival idempotent (MessageSid, Message-ID, SIP
	// Call-ID): the same ExternalID on the same channel yields the same contact.
	ExternalID string
	// ThreadKey groups contacts of one conversation across messages (SMS:
	// customer+company number; email: the thread's root Message-ID) for Desk.Thread.
	ThreadKey string
	// First message of a text conversation, if any.
	Message *Message
}

// Sink receives contacts from channel adapters. Accept returns only after the
// contact (and its first message) is committed to durable storage; the
// adapter acknowledges its peer after that and not before.
type Sink interface {
	Accept(ctx context.Context, a Arrival) (Contact, error)
}

// Desk is what channel adapters call besides Accept (implemented by
// internal/desk). Every method returns after its change is committed.
type Desk interface {
	Sink
	// AddInbound appends a customer's message to an existing contact. A
	// message whose ExternalID is already stored on it is not stored twice.
	AddInbound(ctx context.Context, id ID, m Message) (Message, error)
	// CustomerEnded: the customer hung up or left. A waiting contact is
	// abandoned; an answered one goes to wrap-up.
	CustomerEnded(ctx context.Context, id ID) error
	// Thread returns the latest contact on the channel with the thread key
	// (Arrival.ThreadKey), or ErrNoThread.
	Thread(ctx context.Context, ch Channel, key string) (Contact, error)
	// Feedback records a customer's rating of a contact: CSAT 1–5, optional
	// NPS 0–10 (nil when not asked), optional comment.
	Feedback(ctx context.Context, id ID, csat int, nps *int, comment string) error
}

// Conversation is implemented by a channel adapter for what agents do to
// its contacts; the desk calls it. Return nil when there is nothing to do.
type Conversation interface {
	// Deliver sends an agent's message to the customer (chat, email, SMS).
	Deliver(ctx context.Context, c Contact, m Message) error
	// Connect is called when an agent accepts (voice: ring the agent's
	// phone and bridge; chat: tell the visitor an agent joined).
	Connect(ctx context.Context, c Contact, agent AgentID, agentName string) error
	// Hangup ends the customer's side (voice BYE, chat closed by the agent).
	Hangup(ctx context.Context, c Contact) error
}
