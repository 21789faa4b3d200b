package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// handle runs one frame from a visitor, in the order frames arrive.
func (a *Adapter) handle(ctx context.Context, c *client, f Frame) {
	switch f.Type {
	case "message":
		a.onMessage(ctx, c, f)
	case "typing":
		now := a.cfg.Now()
		if now.Sub(c.lastTyping) >= time.Second && a.cfg.OnTyping != nil {
			c.lastTyping = now
			a.cfg.OnTyping(c.cl.Contact)
		}
	case "delivered", "read":
		var d receiptData
		if decodeData(f.Data, &d) != nil || d.MessageID <= 0 {
			c.reply(errFrame("invalid", ""))
			return
		}
		if !a.byVisitor.allow("r:"+c.cl.Visitor, a.cfg.Now()) {
			return // receipts are cumulative: dropping one loses nothing
		}
		if err := a.cfg.Messages.SetMessageStatus(ctx, d.MessageID, f.Type); err != nil {
			a.log.Warn("message status", "contact_id", c.cl.Contact, "message_id", d.MessageID, "err", err)
		}
		if a.cfg.OnReceipt != nil {
			a.cfg.OnReceipt(c.cl.Contact, d.MessageID, f.Type)
		}
	case "end":
		if err := a.cfg.Desk.CustomerEnded(ctx, c.cl.Contact); err != nil {
			a.log.Warn("customer ended", "contact_id", c.cl.Contact, "err", err)
			if errors.Is(err, contact.ErrUnavailable) {
				c.reply(errFrame("unavailable", ""))
				return
			}
		}
		a.end(c.cl.Contact, "customer")
	case "feedback":
		a.onFeedback(ctx, c, f)
	case "transcript":
		a.onTranscript(ctx, c)
	case "auth":
		c.reply(errFrame("invalid", "")) // already authenticated
	default:
		c.reply(errFrame("unknown_type", ""))
	}
}

func (a *Adapter) onMessage(ctx context.Context, c *client, f Frame) {
	var d messageData
	if err := decodeData(f.Data, &d); err != nil {
		c.reply(errFrame("invalid", ""))
		return
	}
	body, code := checkMessage(d, a.cfg.MaxMessageBytes)
	if code != "" {
		c.reply(errFrame(code, d.ClientID))
		return
	}
	now := a.cfg.Now()
	if !a.byVisitor.allow(c.cl.Visitor, now) || !a.byIP.allow(c.ip, now) {
		c.reply(errFrame("rate_limited", d.ClientID))
		return
	}
	if a.endedInRoom(c.cl.Contact) {
		c.reply(errFrame("ended", d.ClientID))
		return
	}
	m, err := a.cfg.Desk.AddInbound(ctx, c.cl.Contact, contact.Message{Body: body, ExternalID: d.ClientID})
	if err != nil {
		a.log.Warn("add inbound", "contact_id", c.cl.Contact, "err", err)
		code := "unavailable"
		if errors.Is(err, contact.ErrInvalid) {
			code = "invalid"
		}
		c.reply(errFrame(code, d.ClientID))
		return
	}
	// Stored: acknowledge, and show it in the visitor's other tabs.
	c.reply(Out{Type: "ack", Data: map[string]any{"client_id": d.ClientID, "id": m.ID, "created_at": m.CreatedAt}})
	a.push(c.cl.Contact, m.ID, a.msgFrame(m, ""), c)
}

func (a *Adapter) onFeedback(ctx context.Context, c *client, f Frame) {
	var d feedbackData
	if err := decodeData(f.Data, &d); err != nil || d.CSAT < 1 || d.CSAT > 5 || len(d.Comment) > maxCommentBytes {
		c.reply(errFrame("invalid", ""))
		return
	}
	a.mu.Lock()
	r := a.roomLocked(c.cl.Contact)
	ended, rated := r.ended != "", r.rated
	if ended && !rated {
		r.rated = true // claimed; released on failure
	}
	a.mu.Unlock()
	switch {
	case !ended:
		c.reply(errFrame("not_ended", ""))
		return
	case rated:
		c.reply(errFrame("already_rated", ""))
		return
	}
	if err := a.cfg.Desk.Feedback(ctx, c.cl.Contact, d.CSAT, nil, strings.TrimSpace(d.Comment)); err != nil {
		a.mu.Lock()
		r.rated = false
		a.mu.Unlock()
		a.log.Warn("chat feedback", "contact_id", c.cl.Contact, "err", err)
		code := "unavailable"
		if errors.Is(err, contact.ErrInvalid) {
			code = "invalid"
		}
		c.reply(errFrame(code, ""))
		return
	}
	a.push(c.cl.Contact, 0, Out{Type: "feedback_ok", Data: struct{}{}}, nil)
}

func (a *Adapter) onTranscript(ctx context.Context, c *client) {
	if c.cl.Email == "" {
		c.reply(errFrame("no_email", ""))
		return
	}
	if a.cfg.SendTranscript == nil {
		c.reply(errFrame("unavailable", ""))
		return
	}
	if !a.byVisitor.allow("t:"+c.cl.Visitor, a.cfg.Now()) {
		c.reply(errFrame("rate_limited", ""))
		return
	}
	msgs, err := a.cfg.Messages.Messages(ctx, c.cl.Contact, 0)
	if err == nil {
		err = a.cfg.SendTranscript(ctx, c.cl.Email, fmt.Sprintf("Your chat transcript (#%d)", c.cl.Contact), Transcript(c.cl.Name, msgs))
	}
	if err != nil {
		a.log.Warn("chat transcript", "contact_id", c.cl.Contact, "err", err)
		c.reply(errFrame("unavailable", ""))
		return
	}
	c.reply(Out{Type: "transcript_sent", Data: struct{}{}})
}

// Transcript renders a conversation as plain text for email.
func Transcript(visitor string, msgs []contact.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		who := visitor
		if m.Direction == contact.Outbound {
			who = "Agent"
		}
		fmt.Fprintf(&b, "[%s] %s: %s\n", m.CreatedAt.UTC().Format("2006-01-02 15:04 MST"), who, m.Body)
	}
	return b.String()
}
