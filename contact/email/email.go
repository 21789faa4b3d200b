// Package email is ContactHub's email channel: an inbound SMTP server
// (go-smtp), IMAP polling of mailboxes hosted elsewhere (go-imap), MIME
// parsing (go-message, bluemonday), threading of replies onto their
// conversation, and agents' replies sent through a smarthost.
//
// Threading. Every message is indexed by its Message-ID with the key of its
// thread (the thread's root Message-ID, contact.Arrival.ThreadKey). A
// customer's message is matched by In-Reply-To and References first, then by
// the conversation token "[#CH-<contact id>]" that our replies carry in the
// subject (accepted only from the contact's own address). When the thread's
// latest contact is still open, the message is appended to it (AddInbound).
// When it is closed, a reply within ReopenWindow (7 days by default) of the
// thread's last message reopens the conversation as a new contact in the
// same thread (so history and routing stay per contact, while agents see the
// whole thread); a later reply starts a new thread.
//
// Nothing is acknowledged before it is committed: SMTP answers 250 only
// after the desk has stored the contact or message, and 451 when the desk is
// unavailable, so the sender retries. Message-IDs make redelivery idempotent.
package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Channel is the email channel: it feeds the desk and is the desk's
// contact.Conversation for email.
type Channel struct {
	cfg  Config
	desk contact.Desk
	st   Store
	log  *slog.Logger
	now  func() time.Time
}

// New builds the channel. st keeps attachments, the Message-ID index and
// IMAP cursors (emailstore.New(pool)).
func New(cfg Config, d contact.Desk, st Store, log *slog.Logger) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d == nil || st == nil {
		return nil, fmt.Errorf("%w: desk and store are required", ErrConfig)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ReopenWindow <= 0 {
		cfg.ReopenWindow = 7 * 24 * time.Hour
	}
	return &Channel{cfg: cfg, desk: d, st: st, log: log, now: time.Now}, nil
}

// Envelope is what the transport knows besides the message.
type Envelope struct {
	// From is the SMTP reverse path; NullSender is MAIL FROM:<>.
	From       string
	NullSender bool
	To         string            // the recipient the message was accepted for
	Queue      contact.QueueName // from the recipient or the IMAP account
	Source     string            // "smtp", "imap:<account>"
}

// Outcome says what Receive did with a message.
type Outcome string

// Outcomes.
const (
	NewContact Outcome = "new_contact" // a new conversation
	Reopened   Outcome = "reopened"    // a new contact in a closed thread
	Appended   Outcome = "appended"    // added to an open contact
	Duplicate  Outcome = "duplicate"   // already stored
	Dropped    Outcome = "dropped"     // auto-reply or bounce, not routed
)

// Result is the outcome of Receive.
type Result struct {
	Outcome   Outcome
	Contact   contact.ID
	ThreadKey string
	MessageID string
	Auto      AutoKind
}

var tokenRe = regexp.MustCompile(`\[#CH-(\d{1,18})\]`)

// Receive parses raw and stores it on the desk. It returns after the
// contact or message is committed. Errors wrap ErrMalformed (reject the
// message) or contact.ErrUnavailable (try again later).
func (c *Channel) Receive(ctx context.Context, raw []byte, env Envelope) (Result, error) {
	m, err := Parse(bytes.NewReader(raw), ParseOptions{RemoteImages: c.cfg.RemoteImages})
	if err != nil {
		return Result{}, err
	}
	if m.MessageID == "" {
		m.MessageID = syntheticID(raw)
	}
	if env.NullSender && m.Auto == NotAuto {
		m.Auto = AutoReply // RFC 3834: automatic responses use the null sender
	}
	res := Result{MessageID: m.MessageID, Auto: m.Auto}
	log := c.log.With("message_id", m.MessageID, "source", env.Source)

	if m.Auto == Bounce {
		n, err := c.st.MarkBounced(ctx, m.BounceOf)
		if err != nil {
			return res, fmt.Errorf("email: bounce: %w: %v", contact.ErrUnavailable, err)
		}
		log.Info("bounce received", "original", m.BounceOf, "marked_failed", n)
		res.Outcome = Dropped
		return res, nil
	}
	from := m.From
	if from == "" {
		from = env.From
	}
	if from == "" || !strings.Contains(from, "@") {
		return res, fmt.Errorf("%w: no sender address", ErrMalformed)
	}

	// Already stored (a redelivery, or the same message over SMTP and IMAP)?
	if e, err := c.st.Lookup(ctx, []string{m.MessageID}); err == nil && e.Direction == contact.Inbound {
		res.Outcome, res.Contact, res.ThreadKey = Duplicate, e.Contact, e.ThreadKey
		return res, nil
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return res, fmt.Errorf("email: lookup: %w: %v", contact.ErrUnavailable, err)
	}

	key, last, err := c.findThread(ctx, m, from)
	if err != nil {
		return res, err
	}
	var cur contact.Contact
	found := false
	if key != "" {
		cur, err = c.desk.Thread(ctx, contact.Email, key)
		switch {
		case err == nil:
			found = true
		case errors.Is(err, contact.ErrNoThread):
		default:
			return res, fmt.Errorf("email: thread: %w", err)
		}
	}

	msg, err := c.message(ctx, m)
	if err != nil {
		return res, err
	}
	switch {
	case found && !cur.State.Terminal():
		if _, err := c.desk.AddInbound(ctx, cur.ID, msg); err != nil {
			return res, fmt.Errorf("email: add inbound to %d: %w", cur.ID, err)
		}
		res.Outcome, res.Contact, res.ThreadKey = Appended, cur.ID, key
	case m.Auto != NotAuto:
		log.Info("automatic message not routed", "auto", m.Auto, "from", from, "thread", key)
		res.Outcome, res.ThreadKey = Dropped, key
		return res, nil
	default:
		attrs := map[string]string{"email_message_id": m.MessageID}
		if env.To != "" {
			attrs["email_to"] = env.To
		}
		res.Outcome = NewContact
		if found {
			if !last.IsZero() && c.now().Sub(last) <= c.cfg.ReopenWindow {
				res.Outcome = Reopened
				attrs["reopened_from"] = strconv.FormatInt(int64(cur.ID), 10)
			} else {
				key = m.MessageID // too old: a new conversation
			}
		}
		if key == "" {
			key = rootID(m)
		}
		to := env.To
		if to == "" && len(m.To) > 0 {
			to = m.To[0]
		}
		saved, err := c.desk.Accept(ctx, contact.Arrival{
			Channel: contact.Email, From: contact.Identity{Kind: contact.EmailAddr, Value: from},
			To: to, Subject: m.Subject, Queue: env.Queue, Attributes: attrs,
			ExternalID: m.MessageID, ThreadKey: key, Message: &msg,
		})
		if err != nil {
			return res, fmt.Errorf("email: accept: %w", err)
		}
		res.Contact, res.ThreadKey = saved.ID, key
	}
	err = c.st.IndexMessage(ctx, Entry{MessageID: m.MessageID, ThreadKey: res.ThreadKey, Contact: res.Contact,
		Direction: contact.Inbound, At: c.now()})
	if err != nil {
		// The message is stored; a retry finds it by ExternalID and indexes it.
		return res, fmt.Errorf("email: index: %w: %v", contact.ErrUnavailable, err)
	}
	log.Info("email received", "outcome", res.Outcome, "contact_id", res.Contact, "thread", res.ThreadKey,
		"attachments", len(msg.Attachments))
	return res, nil
}

// findThread returns the thread key a message belongs to ("" for none) and
// the time of the thread's last indexed message.
func (c *Channel) findThread(ctx context.Context, m *Mail, from string) (string, time.Time, error) {
	ids := append(append([]string{}, m.InReplyTo...), m.References...)
	if len(ids) > 0 {
		e, err := c.st.Lookup(ctx, ids)
		if err == nil {
			return c.threadLast(ctx, e.ThreadKey, e.At)
		}
		if !errors.Is(err, ErrNotFound) {
			return "", time.Time{}, fmt.Errorf("email: lookup: %w: %v", contact.ErrUnavailable, err)
		}
	}
	if s := tokenRe.FindStringSubmatch(m.Subject); s != nil {
		id, _ := strconv.ParseInt(s[1], 10, 64)
		e, err := c.st.ByContact(ctx, contact.ID(id))
		if err == nil {
			cur, err := c.desk.Thread(ctx, contact.Email, e.ThreadKey)
			if err == nil && strings.EqualFold(cur.From.Value, from) {
				return c.threadLast(ctx, e.ThreadKey, e.At)
			}
		} else if !errors.Is(err, ErrNotFound) {
			return "", time.Time{}, fmt.Errorf("email: lookup: %w: %v", contact.ErrUnavailable, err)
		}
	}
	// Threads the index does not know (stored before it, or by another
	// path) still carry their root Message-ID as the desk's thread key.
	for _, id := range ids[:min(len(ids), 4)] {
		if cur, err := c.desk.Thread(ctx, contact.Email, id); err == nil {
			return id, cur.CreatedAt, nil
		}
	}
	return "", time.Time{}, nil
}

func (c *Channel) threadLast(ctx context.Context, key string, at time.Time) (string, time.Time, error) {
	es, err := c.st.Thread(ctx, key, 2)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("email: thread: %w: %v", contact.ErrUnavailable, err)
	}
	for _, e := range es {
		if e.At.After(at) {
			at = e.At
		}
	}
	return key, at, nil
}

// rootID is the thread's root Message-ID as the message knows it.
func rootID(m *Mail) string {
	if len(m.References) > 0 {
		return m.References[0]
	}
	if len(m.InReplyTo) > 0 {
		return m.InReplyTo[0]
	}
	return m.MessageID
}

// message builds the stored message: the display text as body; attachments,
// the full text (when quotes were trimmed) and the sanitised HTML as blobs.
func (c *Channel) message(ctx context.Context, m *Mail) (contact.Message, error) {
	msg := contact.Message{Direction: contact.Inbound, Body: m.Display, ExternalID: m.MessageID, CreatedAt: c.now()}
	if msg.Body == "" {
		msg.Body = "(no text)"
		if m.Subject != "" {
			msg.Body = m.Subject
		}
	}
	parts := m.Attachments
	if m.Display != m.Text {
		parts = append(parts, Part{Name: "full-text.txt", ContentType: "text/plain; charset=utf-8", Data: []byte(m.Text)})
	}
	if m.HTML != "" {
		parts = append(parts, Part{Name: "message.html", ContentType: "text/html; charset=utf-8", Data: []byte(m.HTML)})
	}
	for _, p := range parts {
		ref, err := c.st.PutBlob(ctx, Blob{Name: p.Name, ContentType: p.ContentType, Size: int64(len(p.Data)), Data: p.Data})
		if err != nil {
			return msg, fmt.Errorf("email: store attachment: %w: %v", contact.ErrUnavailable, err)
		}
		msg.Attachments = append(msg.Attachments, contact.Attachment{Name: p.Name, ContentType: p.ContentType, Size: int64(len(p.Data)), Ref: ref})
	}
	return msg, nil
}

// Connect is contact.Conversation: nothing to do for email.
func (c *Channel) Connect(context.Context, contact.Contact, contact.AgentID, string) error {
	return nil
}

// Hangup is contact.Conversation: nothing to do for email.
func (c *Channel) Hangup(context.Context, contact.Contact) error { return nil }

var _ contact.Conversation = (*Channel)(nil)
