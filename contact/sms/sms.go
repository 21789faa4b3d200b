// Package sms is ContactHub's SMS channel: signed provider webhooks in
// (Twilio's messaging webhook, a generic signed JSON webhook), the
// provider's REST API out, delivery status callbacks, opt-out keywords and
// the post-conversation CSAT survey. It knows its protocol and package
// contact only; the desk is reached through contact.Desk, and its own state
// (opt-outs, provider ids, surveys) through Store. See README.md.
package sms

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Attributes the adapter sets on SMS contacts.
const (
	AttrAccount  = "sms_account"  // Account.Name
	AttrCustomer = "sms_customer" // the customer's number as the provider gives it
	AttrNumber   = "sms_number"   // the company number written to
	AttrService  = "sms_service"  // the Messaging Service SID, if any
)

// Adapter is the SMS channel. It implements contact.Conversation.
type Adapter struct {
	cfg    Config
	desk   contact.Desk
	store  Store
	log    *slog.Logger
	client *client

	// threads serialises messages of one conversation (striped by thread
	// key), so two messages arriving together cannot both start a contact.
	threads [64]sync.Mutex

	byService map[string]*Account
	byNumber  map[string]*Account
	bySID     map[string]*Account
	byName    map[string]*Account
}

// New builds the adapter. cfg is defaulted and validated.
func New(cfg Config, desk contact.Desk, st Store, log *slog.Logger) (*Adapter, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{cfg: cfg, desk: desk, store: st, log: log.With("channel", "sms"),
		byService: map[string]*Account{}, byNumber: map[string]*Account{}, bySID: map[string]*Account{}, byName: map[string]*Account{}}
	for i := range a.cfg.Accounts {
		acc := &a.cfg.Accounts[i]
		if acc.Name == "" {
			acc.Name = acc.AccountSID
		}
		for _, s := range acc.MessagingServiceSIDs {
			a.byService[s] = acc
		}
		for _, n := range acc.Numbers {
			a.byNumber[NormalizePhone(n)] = acc
		}
		if _, dup := a.bySID[acc.AccountSID]; !dup {
			a.bySID[acc.AccountSID] = acc
		}
		a.byName[acc.Name] = acc
	}
	a.client = &client{base: strings.TrimRight(cfg.APIBase, "/"), http: cfg.HTTPClient, attempts: cfg.SendAttempts,
		backoff: cfg.SendBackoff, maxBackoff: cfg.MaxBackoff, sleep: sleepCtx}
	return a, nil
}

var _ contact.Conversation = (*Adapter)(nil)

// account finds the account a webhook is for: by Messaging Service, then by
// the company number, then by the account SID.
func (a *Adapter) account(accountSID, serviceSID, number string) *Account {
	if acc := a.byService[serviceSID]; serviceSID != "" && acc != nil {
		return acc
	}
	if acc := a.byNumber[NormalizePhone(number)]; number != "" && acc != nil {
		return acc
	}
	if acc := a.bySID[accountSID]; accountSID != "" && acc != nil {
		return acc
	}
	return nil
}

// NormalizePhone strips the spacing and punctuation people and providers
// put in numbers and turns a leading 00 into +: "+86 138-0013 8000" and
// "008613800138000" both give "+8613800138000". Opt-outs are keyed by it.
func NormalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return strings.TrimSpace(s) // not a phone number (short code alias, whatsapp:...): as is
		}
	}
	out := b.String()
	if strings.HasPrefix(out, "00") {
		out = "+" + out[2:]
	}
	return out
}

// OptedOut reports whether phone replied STOP (and not START since). An
// error reading the store is logged and reported as false.
func (a *Adapter) OptedOut(ctx context.Context, phone string) bool {
	out, err := a.store.OptedOut(ctx, NormalizePhone(phone))
	if err != nil {
		a.log.Warn("opt-out lookup", "err", err)
		return false
	}
	return out
}

// inbound is a customer's message as any webhook gives it.
type inbound struct {
	account *Account
	sid     string // provider message id
	from    string
	to      string
	service string
	body    string
	media   []contact.Attachment
}

// keyword kinds.
const (
	kwNone = iota
	kwStop
	kwStart
	kwHelp
)

func keyword(body string) int {
	k := strings.ToUpper(strings.TrimSpace(body))
	k = strings.TrimRight(k, ".!。！")
	switch k {
	case "STOP", "UNSUBSCRIBE", "退订", "TD":
		return kwStop
	case "START", "UNSTOP":
		return kwStart
	case "HELP":
		return kwHelp
	}
	return kwNone
}

// rating returns 1–5 if body is just that digit.
func rating(body string) int {
	b := strings.TrimSpace(body)
	if len(b) == 1 && b[0] >= '1' && b[0] <= '5' {
		return int(b[0] - '0')
	}
	return 0
}

// ThreadKey is the thread of a customer's conversation with a company number.
func ThreadKey(customer, number string) string {
	return "sms:" + NormalizePhone(customer) + ":" + NormalizePhone(number)
}

// receive handles one verified inbound message; it returns after
// everything is committed, with the text to answer with, if any.
func (a *Adapter) receive(ctx context.Context, in inbound) (reply string, err error) {
	from := NormalizePhone(in.from)
	switch keyword(in.body) {
	case kwStop:
		changed, err := a.store.OptOut(ctx, from, strings.TrimSpace(in.body))
		if err != nil {
			return "", fmt.Errorf("%w: %v", contact.ErrUnavailable, err)
		}
		a.log.Info("opted out", "phone", from, "changed", changed)
		if err := a.addToOpenThread(ctx, in); err != nil {
			return "", err
		}
		if changed {
			return a.cfg.StopText, nil
		}
		return "", nil
	case kwStart:
		changed, err := a.store.OptIn(ctx, from)
		if err != nil {
			return "", fmt.Errorf("%w: %v", contact.ErrUnavailable, err)
		}
		if err := a.addToOpenThread(ctx, in); err != nil {
			return "", err
		}
		if changed {
			return a.cfg.StartText, nil
		}
		return "", nil
	case kwHelp:
		if err := a.addToOpenThread(ctx, in); err != nil {
			return "", err
		}
		return a.cfg.HelpText, nil
	}
	if n := rating(in.body); n > 0 && a.cfg.Survey {
		if done, err := a.answerSurvey(ctx, in, n); err != nil || done {
			if done && err == nil {
				return a.cfg.SurveyThanks, nil
			}
			return "", err
		}
	}
	return "", a.route(ctx, in)
}

// answerSurvey stores a rating if a survey waits for one; done is false if
// the message is not a survey answer and must be routed.
func (a *Adapter) answerSurvey(ctx context.Context, in inbound, csat int) (done bool, err error) {
	now := a.cfg.Now()
	s, err := a.store.PendingSurvey(ctx, NormalizePhone(in.from), NormalizePhone(in.to), now.Add(-a.cfg.SurveyWindow))
	if errors.Is(err, ErrNoSurvey) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %v", contact.ErrUnavailable, err)
	}
	if s.Answered {
		return s.AnswerSID == in.sid, nil // a redelivery of the answer, or a later digit: route it
	}
	claimed, err := a.store.AnswerSurvey(ctx, s.ContactID, in.sid)
	if err != nil {
		return false, fmt.Errorf("%w: %v", contact.ErrUnavailable, err)
	}
	if !claimed {
		return false, nil
	}
	if err := a.desk.Feedback(ctx, s.ContactID, csat, nil, ""); err != nil {
		if rerr := a.store.ReleaseSurvey(ctx, s.ContactID); rerr != nil {
			a.log.Error("release survey", "contact_id", s.ContactID, "err", rerr)
		}
		return false, fmt.Errorf("sms: survey answer: %w", err)
	}
	a.log.Info("survey answered", "contact_id", s.ContactID, "csat", csat)
	return true, nil
}

// route appends the message to the thread's open contact, or starts a new
// contact when there is none, it is closed or abandoned, or it has been
// idle for longer than IdleClose.
func (a *Adapter) route(ctx context.Context, in inbound) error {
	key := ThreadKey(in.from, in.to)
	mu := &a.threads[stripe(key)]
	mu.Lock()
	defer mu.Unlock()
	c, err := a.desk.Thread(ctx, contact.SMS, key)
	switch {
	case errors.Is(err, contact.ErrNoThread):
	case err != nil:
		return err
	case !c.State.Terminal():
		idle, err := a.idle(ctx, c)
		if err != nil {
			return err
		}
		if !idle {
			_, err := a.desk.AddInbound(ctx, c.ID, a.message(in))
			return err
		}
		if err := a.desk.CustomerEnded(ctx, c.ID); err != nil {
			a.log.Warn("close idle conversation", "contact_id", c.ID, "err", err)
		}
	}
	m := a.message(in)
	queue := a.cfg.Queue
	attrs := map[string]string{AttrCustomer: in.from, AttrNumber: in.to}
	if in.account != nil {
		attrs[AttrAccount] = in.account.Name
		if in.account.Queue != "" {
			queue = in.account.Queue
		}
	}
	if in.service != "" {
		attrs[AttrService] = in.service
	}
	_, err = a.desk.Accept(ctx, contact.Arrival{
		Channel: contact.SMS, From: contact.Identity{Kind: contact.Phone, Value: in.from}, To: in.to,
		Queue: queue, Attributes: attrs, ExternalID: in.sid, ThreadKey: key, Message: &m,
	})
	return err
}

func stripe(key string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return h.Sum32() % 64
}

// idle reports whether an open contact's conversation has been quiet for
// longer than IdleClose. Only contacts older than that are looked at.
func (a *Adapter) idle(ctx context.Context, c contact.Contact) (bool, error) {
	now := a.cfg.Now()
	if now.Sub(c.CreatedAt) <= a.cfg.IdleClose {
		return false, nil
	}
	last, err := a.store.LastActivity(ctx, c.ID)
	if err != nil {
		return false, fmt.Errorf("%w: %v", contact.ErrUnavailable, err)
	}
	return now.Sub(last) > a.cfg.IdleClose, nil
}

// addToOpenThread stores a keyword message on the thread's open contact,
// if there is one, so the agent sees it; it never starts a contact.
func (a *Adapter) addToOpenThread(ctx context.Context, in inbound) error {
	c, err := a.desk.Thread(ctx, contact.SMS, ThreadKey(in.from, in.to))
	if errors.Is(err, contact.ErrNoThread) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.State.Terminal() {
		return nil
	}
	_, err = a.desk.AddInbound(ctx, c.ID, a.message(in))
	return err
}

func (a *Adapter) message(in inbound) contact.Message {
	return contact.Message{Direction: contact.Inbound, Body: in.body, ExternalID: in.sid, Attachments: in.media, CreatedAt: a.cfg.Now()}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
