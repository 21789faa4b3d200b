package sms

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/contacthub/contacthub/contact"
)

// Twilio's request signature header.
const HeaderTwilioSignature = "X-Twilio-Signature"

// maxMedia bounds NumMedia (Twilio sends at most 10).
const maxMedia = 10

// retryAfter is what a 503 asks the provider to wait, in seconds.
const retryAfter = "5"

// TwilioHandler serves POST /webhooks/sms/twilio: Twilio's incoming
// message webhook. It answers 200 with TwiML only after the message is
// committed; 403 for a missing or wrong signature (nothing is stored);
// 400 for a malformed form; 413 over MaxBodyBytes; 503 with Retry-After
// when the desk is unavailable.
func (a *Adapter) TwilioHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, acc, ok := a.verifiedForm(w, r, false)
		if !ok {
			return
		}
		in, err := parseTwilioInbound(form)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in.account = acc
		reply, err := a.receive(r.Context(), in)
		if err != nil {
			a.fail(w, err, "message_sid", in.sid)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, twiml(reply))
	})
}

// TwilioStatusHandler serves POST /webhooks/sms/twilio/status: delivery
// status callbacks (MessageSid, MessageStatus), signed like inbound.
func (a *Adapter) TwilioStatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, _, ok := a.verifiedForm(w, r, true)
		if !ok {
			return
		}
		sid, status := form.Get("MessageSid"), strings.ToLower(form.Get("MessageStatus"))
		if sid == "" || status == "" {
			http.Error(w, "MessageSid and MessageStatus are required", http.StatusBadRequest)
			return
		}
		msgStatus, rank := statusOf(status)
		if rank == 0 {
			w.WriteHeader(http.StatusNoContent) // a status we do not track
			return
		}
		if _, err := a.store.UpdateStatus(r.Context(), sid, status, rank, form.Get("ErrorCode"), msgStatus); err != nil {
			a.fail(w, fmt.Errorf("%w: %v", contact.ErrUnavailable, err), "message_sid", sid)
			return
		}
		if form.Get("ErrorCode") == "21610" { // "Attempt to send to unsubscribed recipient"
			if _, err := a.store.OptOut(r.Context(), NormalizePhone(form.Get("To")), "provider:21610"); err != nil {
				a.log.Warn("record provider opt-out", "err", err)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// statusOf maps a provider status to the message status and a rank that
// only grows along a message's life (callbacks may arrive out of order).
func statusOf(s string) (string, int) {
	switch s {
	case "accepted", "scheduled", "queued":
		return "sending", 1
	case "sending":
		return "sending", 2
	case "sent":
		return "sent", 3
	case "delivered":
		return "delivered", 5
	case "undelivered", "failed", "canceled":
		return "failed", 5
	case "read":
		return "read", 6
	}
	return "", 0
}

// verifiedForm reads and parses a form body, finds its account and checks
// the signature, answering the error itself when it returns false.
// A status callback (status) is about a message our number sent: its
// company number is From.
func (a *Adapter) verifiedForm(w http.ResponseWriter, r *http.Request, status bool) (url.Values, *Account, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return nil, nil, false
	}
	body, ok := a.readBody(w, r)
	if !ok {
		return nil, nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return nil, nil, false
	}
	number := form.Get("To")
	if status {
		number = form.Get("From")
	}
	acc := a.account(form.Get("AccountSid"), form.Get("MessagingServiceSid"), number)
	if acc == nil {
		a.log.Warn("webhook for no configured account", "account_sid", form.Get("AccountSid"),
			"messaging_service_sid", form.Get("MessagingServiceSid"), "number", number)
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil, nil, false
	}
	if !ValidTwilioSignature(acc.AuthToken, a.requestURL(r), form, r.Header.Get(HeaderTwilioSignature)) {
		a.log.Warn("webhook signature invalid", "account", acc.Name, "url", a.requestURL(r))
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil, nil, false
	}
	return form, acc, true
}

func (a *Adapter) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// requestURL is the URL the provider requested: PublicURL plus the
// request's path and query, or the request's own host and scheme.
func (a *Adapter) requestURL(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || !strings.HasPrefix(uri, "/") {
		uri = r.URL.RequestURI()
	}
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/") + uri
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + uri
}

// parseTwilioInbound takes the fields of an incoming message.
func parseTwilioInbound(form url.Values) (inbound, error) {
	in := inbound{sid: form.Get("MessageSid"), from: strings.TrimSpace(form.Get("From")), to: strings.TrimSpace(form.Get("To")),
		service: form.Get("MessagingServiceSid"), body: form.Get("Body")}
	if in.sid == "" {
		in.sid = form.Get("SmsSid")
	}
	if in.sid == "" || in.from == "" {
		return inbound{}, fmt.Errorf("MessageSid and From are required")
	}
	n := 0
	if v := form.Get("NumMedia"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > maxMedia {
			return inbound{}, fmt.Errorf("NumMedia %q", v)
		}
	}
	for i := 0; i < n; i++ {
		u := form.Get("MediaUrl" + strconv.Itoa(i))
		if u == "" {
			continue
		}
		in.media = append(in.media, contact.Attachment{Name: fmt.Sprintf("media%d", i),
			ContentType: form.Get("MediaContentType" + strconv.Itoa(i)), Ref: u})
	}
	return in, nil
}

// twiml is the response to Twilio: empty, or one message back.
func twiml(reply string) string {
	if reply == "" {
		return `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`
	}
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(reply))
	return `<?xml version="1.0" encoding="UTF-8"?><Response><Message>` + b.String() + `</Message></Response>`
}

// fail answers a processing error: 503 with Retry-After for a temporary
// failure (the provider retries), 400 for an invalid message, else 500.
func (a *Adapter) fail(w http.ResponseWriter, err error, args ...any) {
	switch {
	case errors.Is(err, contact.ErrUnavailable):
		a.log.Warn("webhook: temporarily unavailable", append(args, "err", err)...)
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
	case errors.Is(err, contact.ErrInvalid):
		a.log.Info("webhook: invalid message", append(args, "err", err)...)
		http.Error(w, "invalid message", http.StatusBadRequest)
	default:
		a.log.Error("webhook", append(args, "err", err)...)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// GenericIDPrefix is put before a generic message's id to make its
// Message.ExternalID, so it cannot collide with a Twilio MessageSid.
const GenericIDPrefix = "generic:"

// GenericMessage is the body of the generic JSON webhook.
type GenericMessage struct {
	ID    string         `json:"id"`
	From  string         `json:"from"`
	To    string         `json:"to"`
	Body  string         `json:"body"`
	Media []GenericMedia `json:"media,omitempty"`
}

// GenericMedia is an attachment of a generic webhook message.
type GenericMedia struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
	Name        string `json:"name,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// parseGeneric decodes and checks a generic webhook body.
func parseGeneric(body []byte) (GenericMessage, error) {
	var m GenericMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return GenericMessage{}, fmt.Errorf("malformed JSON: %v", err)
	}
	if dec.More() {
		return GenericMessage{}, fmt.Errorf("malformed JSON: trailing data")
	}
	m.ID, m.From, m.To = strings.TrimSpace(m.ID), strings.TrimSpace(m.From), strings.TrimSpace(m.To)
	if m.ID == "" || m.From == "" {
		return GenericMessage{}, fmt.Errorf("id and from are required")
	}
	if len(m.Media) > maxMedia {
		return GenericMessage{}, fmt.Errorf("at most %d media", maxMedia)
	}
	for _, md := range m.Media {
		if md.URL == "" {
			return GenericMessage{}, fmt.Errorf("media without url")
		}
	}
	return m, nil
}

// GenericHandler serves POST /webhooks/sms/generic: a JSON message signed
// with HMAC-SHA256 (README.md). Answers 200 {"ok":true[,"reply":"..."]}
// after commit, 403 on a bad or stale signature, 400 on a malformed body,
// 413 over MaxBodyBytes, 503 with Retry-After when the desk is unavailable.
func (a *Adapter) GenericHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, ok := a.readBody(w, r)
		if !ok {
			return
		}
		if !verifyGeneric(a.cfg.GenericSecrets, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, a.cfg.Now(), a.cfg.GenericWindow) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		m, err := parseGeneric(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in := inbound{sid: GenericIDPrefix + m.ID, from: m.From, to: m.To, body: m.Body, account: a.account("", "", m.To)}
		for i, md := range m.Media {
			name := md.Name
			if name == "" {
				name = fmt.Sprintf("media%d", i)
			}
			in.media = append(in.media, contact.Attachment{Name: name, ContentType: md.ContentType, Size: md.Size, Ref: md.URL})
		}
		reply, err := a.receive(r.Context(), in)
		if err != nil {
			a.fail(w, err, "message_id", m.ID)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		out := map[string]any{"ok": true}
		if reply != "" {
			out["reply"] = reply
		}
		json.NewEncoder(w).Encode(out)
	})
}
