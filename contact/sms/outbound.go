package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Deliver is contact.Conversation: it sends an agent's message through the
// provider API, to the customer's number from the company number (or
// Messaging Service) the customer wrote to, and records the provider's
// message id for status callbacks. It refuses an opted-out recipient
// (ErrOptedOut) and, with LongMessages "refuse", a message of more than
// MaxSegments segments (ErrTooLong); with "split" such a message is sent
// as several.
func (a *Adapter) Deliver(ctx context.Context, c contact.Contact, m contact.Message) error {
	to := c.Attributes[AttrCustomer]
	if to == "" {
		to = c.From.Value
	}
	acc, from, service := a.sender(c)
	if acc == nil {
		return fmt.Errorf("sms: deliver to contact %d: %w", c.ID, ErrNoAccount)
	}
	parts := []string{m.Body}
	if n, enc := Segments(m.Body); n > a.cfg.MaxSegments {
		if a.cfg.LongMessages == "refuse" {
			return fmt.Errorf("sms: deliver: %d %s segments, at most %d: %w", n, enc, a.cfg.MaxSegments, ErrTooLong)
		}
		parts = split(m.Body, a.cfg.MaxSegments)
	}
	for i, p := range parts {
		sid, status, err := a.send(ctx, acc, to, from, service, p, true)
		if err != nil {
			return fmt.Errorf("sms: deliver message %d part %d/%d: %w", m.ID, i+1, len(parts), err)
		}
		_, rank := statusOf(status)
		if err := a.store.SaveOutbound(ctx, Outbound{SID: sid, MessageID: m.ID, ContactID: c.ID, To: to, Status: status, Rank: rank}); err != nil {
			// Sent: do not report a failure (the agent would resend); its
			// status callbacks will not find the message.
			a.log.Error("record provider id", "contact_id", c.ID, "message_id", m.ID, "sid", sid, "err", err)
		}
	}
	return nil
}

// sender picks the account and the From (number or Messaging Service) of
// replies on a contact.
func (a *Adapter) sender(c contact.Contact) (acc *Account, from, service string) {
	acc = a.byName[c.Attributes[AttrAccount]]
	if acc == nil {
		acc = a.account("", c.Attributes[AttrService], c.To)
	}
	if acc == nil && len(a.cfg.Accounts) > 0 {
		acc = &a.cfg.Accounts[0]
	}
	if acc == nil {
		return nil, "", ""
	}
	service = c.Attributes[AttrService]
	from = c.Attributes[AttrNumber]
	if from == "" {
		from = c.To
	}
	if service == "" && from == "" {
		if len(acc.MessagingServiceSIDs) > 0 {
			service = acc.MessagingServiceSIDs[0]
		} else if len(acc.Numbers) > 0 {
			from = acc.Numbers[0]
		}
	}
	return acc, from, service
}

// send refuses opted-out recipients, then posts one message.
func (a *Adapter) send(ctx context.Context, acc *Account, to, from, service, body string, callback bool) (sid, status string, err error) {
	out, err := a.store.OptedOut(ctx, NormalizePhone(to))
	if err != nil {
		return "", "", fmt.Errorf("opt-out lookup: %w", err)
	}
	if out {
		return "", "", ErrOptedOut
	}
	form := url.Values{"To": {to}, "Body": {body}}
	if service != "" {
		form.Set("MessagingServiceSid", service)
	} else {
		form.Set("From", from)
	}
	if callback && a.cfg.PublicURL != "" {
		form.Set("StatusCallback", strings.TrimRight(a.cfg.PublicURL, "/")+a.cfg.StatusPath)
	}
	res, err := a.client.send(ctx, acc, form)
	if err != nil {
		if res.Code == 21610 { // the provider knows the recipient unsubscribed
			if _, e := a.store.OptOut(ctx, NormalizePhone(to), "provider:21610"); e != nil {
				a.log.Warn("record provider opt-out", "err", e)
			}
			return "", "", fmt.Errorf("%w: %w", ErrOptedOut, err)
		}
		return "", "", err
	}
	return res.SID, res.Status, nil
}

// Connect is contact.Conversation: nothing to tell an SMS customer.
func (a *Adapter) Connect(context.Context, contact.Contact, contact.AgentID, string) error {
	return nil
}

// Hangup is contact.Conversation: the agent ended the conversation. With
// Survey on, the customer gets SurveyText (unless opted out) and a reply
// 1–5 within SurveyWindow becomes the contact's CSAT.
func (a *Adapter) Hangup(ctx context.Context, c contact.Contact) error {
	if !a.cfg.Survey || c.Channel != contact.SMS {
		return nil
	}
	to := c.Attributes[AttrCustomer]
	if to == "" {
		to = c.From.Value
	}
	acc, from, service := a.sender(c)
	if acc == nil {
		return fmt.Errorf("sms: survey for contact %d: %w", c.ID, ErrNoAccount)
	}
	number := c.Attributes[AttrNumber]
	if number == "" {
		number = c.To
	}
	if _, _, err := a.send(ctx, acc, to, from, service, a.cfg.SurveyText, false); err != nil {
		if errors.Is(err, ErrOptedOut) {
			return nil
		}
		return fmt.Errorf("sms: survey for contact %d: %w", c.ID, err)
	}
	if err := a.store.SaveSurvey(ctx, Survey{ContactID: c.ID, Phone: NormalizePhone(to), Number: NormalizePhone(number), SentAt: a.cfg.Now()}); err != nil {
		return fmt.Errorf("sms: survey for contact %d: %w", c.ID, err)
	}
	return nil
}

// client is the provider's REST Messages API (Twilio's shape).
type client struct {
	base       string
	http       *http.Client
	attempts   int
	backoff    time.Duration
	maxBackoff time.Duration
	sleep      func(context.Context, time.Duration) error
}

// sendResult is the part of the provider's answer we use.
type sendResult struct {
	SID     string `json:"sid"`
	Status  string `json:"status"`
	Code    int    `json:"code"`    // error responses
	Message string `json:"message"` // error responses
}

// send posts a message, retrying 429, 5xx and network errors with
// exponential backoff (a Retry-After header wins).
func (c *client) send(ctx context.Context, acc *Account, form url.Values) (sendResult, error) {
	endpoint := c.base + "/2010-04-01/Accounts/" + url.PathEscape(acc.AccountSID) + "/Messages.json"
	body := form.Encode()
	wait := c.backoff
	var last error
	for attempt := 1; ; attempt++ {
		res, retryIn, err := c.post(ctx, acc, endpoint, body)
		if err == nil {
			return res, nil
		}
		last = err
		if retryIn < 0 || attempt >= c.attempts {
			return res, last
		}
		if retryIn == 0 {
			retryIn = wait
			wait = min(wait*2, c.maxBackoff)
		}
		if err := c.sleep(ctx, retryIn); err != nil {
			return res, fmt.Errorf("%w (gave up waiting: %v)", last, err)
		}
	}
}

// post makes one attempt. retryIn < 0: do not retry; 0: retry after the
// backoff; > 0: retry after that (Retry-After).
func (c *client) post(ctx context.Context, acc *Account, endpoint, body string) (sendResult, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return sendResult{}, -1, fmt.Errorf("%w: %v", ErrProvider, err)
	}
	req.SetBasicAuth(acc.AccountSID, acc.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return sendResult{}, -1, fmt.Errorf("%w: %v", ErrProvider, err)
		}
		return sendResult{}, 0, fmt.Errorf("%w: %v", ErrProvider, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var res sendResult
	_ = json.Unmarshal(raw, &res)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if res.SID == "" {
			return res, -1, fmt.Errorf("%w: %d without a sid", ErrProvider, resp.StatusCode)
		}
		return res, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return res, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			fmt.Errorf("%w: HTTP %d %s", ErrProvider, resp.StatusCode, res.Message)
	default:
		return res, -1, fmt.Errorf("%w: HTTP %d: code %d: %s", ErrProvider, resp.StatusCode, res.Code, res.Message)
	}
}

// parseRetryAfter reads seconds or an HTTP date; 0 if absent or invalid.
// It is capped at 5 minutes.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, 5*time.Minute)
}
