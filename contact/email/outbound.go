package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// outgoing is a message to compose.
type outgoing struct {
	To, Subject, Text  string
	MessageID          string
	InReplyTo          string
	References         []string
	Attachments        []Blob
	AutoSubmitted      bool
	ConversationHeader string
}

// Deliver is contact.Conversation: it sends an agent's reply to the
// customer through the smarthost, threaded on the customer's messages.
// An error means not sent (the desk marks the message failed).
func (c *Channel) Deliver(ctx context.Context, ct contact.Contact, m contact.Message) error {
	to := ct.From.Value
	if _, err := parseAddress(to); err != nil {
		return fmt.Errorf("email: deliver to %q: %w", to, err)
	}
	out := outgoing{To: to, Subject: replySubject(ct.Subject, ct.ID), Text: m.Body,
		MessageID: c.newMessageID(ct.ID, m.ID), ConversationHeader: fmt.Sprint(ct.ID)}
	key := ct.ThreadKey
	if key != "" {
		es, err := c.st.Thread(ctx, key, 10)
		if err != nil {
			return fmt.Errorf("email: deliver: thread: %w", err)
		}
		for _, e := range es {
			out.References = append(out.References, e.MessageID)
			if e.Direction == contact.Inbound {
				out.InReplyTo = e.MessageID
			}
		}
		if len(out.References) == 0 || out.References[0] != key {
			out.References = append([]string{key}, out.References...)
		}
		if out.InReplyTo == "" {
			out.InReplyTo = out.References[len(out.References)-1]
		}
	}
	for _, a := range m.Attachments {
		b, err := c.st.Blob(ctx, a.Ref)
		if err != nil {
			return fmt.Errorf("email: deliver: attachment %q: %w", a.Name, err)
		}
		out.Attachments = append(out.Attachments, b)
	}
	raw, err := compose(c.cfg, out, c.now())
	if err != nil {
		return err
	}
	// Indexed before sending, so a quick bounce finds it and the customer's
	// answer threads even if the send's result is lost.
	if key == "" {
		key = out.MessageID
	}
	if err := c.st.IndexMessage(ctx, Entry{MessageID: out.MessageID, ThreadKey: key, Contact: ct.ID, Message: m.ID,
		Direction: contact.Outbound, At: c.now()}); err != nil {
		return fmt.Errorf("email: deliver: index: %w", err)
	}
	if err := c.send(ctx, to, raw); err != nil {
		return err
	}
	c.log.Info("email sent", "contact_id", ct.ID, "message_id", out.MessageID, "to", to)
	return nil
}

// SendTranscript mails a text (the chat channel's transcript) to a
// customer. It is marked Auto-Submitted so auto-responders stay quiet.
func (c *Channel) SendTranscript(ctx context.Context, to, subject, body string) error {
	if _, err := parseAddress(to); err != nil {
		return fmt.Errorf("email: transcript to %q: %w", to, err)
	}
	raw, err := compose(c.cfg, outgoing{To: to, Subject: subject, Text: body, MessageID: c.newMessageID(0, 0), AutoSubmitted: true}, c.now())
	if err != nil {
		return err
	}
	return c.send(ctx, to, raw)
}

func (c *Channel) newMessageID(ct contact.ID, m int64) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("ch.%d.%d.%s@%s", ct, m, hex.EncodeToString(b[:]), c.cfg.domain())
}

var rePrefix = regexp.MustCompile(`(?i)^\s*((re|aw|sv|fw|fwd|回复|答复|轉寄|转发)\s*[:：]\s*)+`)

// replySubject is "Re: <subject> [#CH-<id>]", without piling up prefixes or tokens.
func replySubject(subject string, id contact.ID) string {
	s := strings.TrimSpace(tokenRe.ReplaceAllString(subject, ""))
	s = strings.TrimSpace(rePrefix.ReplaceAllString(s, ""))
	if s == "" {
		s = "Your message"
	}
	return fmt.Sprintf("Re: %s [#CH-%d]", s, id)
}

// compose writes a message with a plain-text and an HTML part (and
// attachments) with go-message's writer.
func compose(cfg Config, o outgoing, now time.Time) ([]byte, error) {
	var h mail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*mail.Address{{Name: cfg.FromName, Address: cfg.From}})
	h.SetAddressList("To", []*mail.Address{{Address: o.To}})
	h.SetSubject(o.Subject)
	h.SetMessageID(o.MessageID)
	if o.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{o.InReplyTo})
	}
	if len(o.References) > 0 {
		h.SetMsgIDList("References", o.References)
	}
	if o.AutoSubmitted {
		h.Set("Auto-Submitted", "auto-generated")
	}
	if o.ConversationHeader != "" {
		h.Set("X-ContactHub-Contact", o.ConversationHeader)
	}
	var buf bytes.Buffer
	var alt *mail.InlineWriter
	var mw *mail.Writer
	var err error
	if len(o.Attachments) > 0 {
		if mw, err = mail.CreateWriter(&buf, h); err != nil {
			return nil, fmt.Errorf("email: compose: %w", err)
		}
		alt, err = mw.CreateInline()
	} else {
		alt, err = mail.CreateInlineWriter(&buf, h)
	}
	if err != nil {
		return nil, fmt.Errorf("email: compose: %w", err)
	}
	if err := writeInline(alt, "text/plain", o.Text); err != nil {
		return nil, err
	}
	if err := writeInline(alt, "text/html", textToHTML(o.Text)); err != nil {
		return nil, err
	}
	if err := alt.Close(); err != nil {
		return nil, fmt.Errorf("email: compose: %w", err)
	}
	if mw != nil {
		for _, a := range o.Attachments {
			var ah mail.AttachmentHeader
			ct := a.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			ah.Set("Content-Type", ct)
			ah.SetFilename(a.Name)
			w, err := mw.CreateAttachment(ah)
			if err != nil {
				return nil, fmt.Errorf("email: compose: %w", err)
			}
			if _, err := w.Write(a.Data); err != nil {
				return nil, fmt.Errorf("email: compose: %w", err)
			}
			if err := w.Close(); err != nil {
				return nil, fmt.Errorf("email: compose: %w", err)
			}
		}
		if err := mw.Close(); err != nil {
			return nil, fmt.Errorf("email: compose: %w", err)
		}
	}
	return buf.Bytes(), nil
}

func writeInline(alt *mail.InlineWriter, typ, body string) error {
	var ih mail.InlineHeader
	ih.SetContentType(typ, map[string]string{"charset": "utf-8"})
	w, err := alt.CreatePart(ih)
	if err != nil {
		return fmt.Errorf("email: compose: %w", err)
	}
	if _, err := io.WriteString(w, body); err != nil {
		return fmt.Errorf("email: compose: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("email: compose: %w", err)
	}
	return nil
}

func textToHTML(s string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><body><div style=\"font-family:sans-serif\">")
	for i, l := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteString("<br>\n")
		}
		b.WriteString(html.EscapeString(l))
	}
	b.WriteString("</div></body></html>")
	return b.String()
}

// send hands a message to the smarthost.
func (c *Channel) send(ctx context.Context, to string, raw []byte) error {
	if c.cfg.Relay == "" {
		return ErrNoRelay
	}
	host, _, err := net.SplitHostPort(c.cfg.Relay)
	if err != nil {
		return fmt.Errorf("email: relay %q: %w", c.cfg.Relay, err)
	}
	tlsCfg := &tls.Config{ServerName: host, InsecureSkipVerify: c.cfg.RelayInsecureSkipVerify} //nolint:gosec // opt-in, tests
	mode := c.cfg.RelayTLS
	if mode == "auto" || mode == "" {
		// STARTTLS when offered: look, then reconnect with it.
		cl, err := c.dialRelay(ctx, "none", tlsCfg)
		if err != nil {
			return err
		}
		mode = "none"
		if ok, _ := cl.Extension("STARTTLS"); ok {
			mode = "starttls"
			_ = cl.Close()
		} else {
			defer cl.Close()
			return c.transact(cl, to, raw)
		}
	}
	cl, err := c.dialRelay(ctx, mode, tlsCfg)
	if err != nil {
		return err
	}
	defer cl.Close()
	return c.transact(cl, to, raw)
}

func (c *Channel) dialRelay(ctx context.Context, mode string, tlsCfg *tls.Config) (*smtp.Client, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	var conn net.Conn
	var err error
	if mode == "tls" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsCfg}).DialContext(ctx, "tcp", c.cfg.Relay)
	} else {
		conn, err = d.DialContext(ctx, "tcp", c.cfg.Relay)
	}
	if err != nil {
		return nil, fmt.Errorf("email: relay dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	}
	var cl *smtp.Client
	if mode == "starttls" {
		if cl, err = smtp.NewClientStartTLS(conn, tlsCfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("email: relay starttls: %w", err)
		}
	} else {
		cl = smtp.NewClient(conn)
	}
	if err := cl.Hello(c.cfg.hostname()); err != nil && mode != "starttls" {
		cl.Close()
		return nil, fmt.Errorf("email: relay hello: %w", err)
	}
	return cl, nil
}

func (c *Channel) transact(cl *smtp.Client, to string, raw []byte) error {
	if c.cfg.RelayUser != "" {
		if err := cl.Auth(sasl.NewPlainClient("", c.cfg.RelayUser, c.cfg.RelayPassword)); err != nil {
			return fmt.Errorf("email: relay auth: %w", err)
		}
	}
	if err := cl.SendMail(c.cfg.From, []string{to}, bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("email: relay send: %w", err)
	}
	if err := cl.Quit(); err != nil {
		c.log.Debug("relay quit", "err", err)
	}
	return nil
}
