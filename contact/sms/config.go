package sms

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Account is one provider account (a Twilio account or subaccount) and the
// numbers it receives on. A webhook is matched to its account by
// MessagingServiceSid, then by To, then by AccountSid, and that account's
// auth token verifies the signature, so messages to any number of a
// Messaging Service's pool are accepted without listing each number.
type Account struct {
	Name       string `json:"name"`
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token"`
	// Numbers this account sends from / receives on, E.164.
	Numbers []string `json:"numbers"`
	// MessagingServiceSIDs of this account's number pools.
	MessagingServiceSIDs []string `json:"messaging_service_sids"`
	// Queue for new contacts to this account; empty: Config.Queue.
	Queue contact.QueueName `json:"queue"`
}

// Config configures the SMS channel. The zero value plus Defaults runs.
type Config struct {
	Accounts []Account
	// PublicURL is the base URL the provider calls (https://host[:port]),
	// used to rebuild the signed URL behind a proxy and for StatusCallback.
	// Empty: the URL is taken from the request (scheme from TLS, Host
	// header) and no StatusCallback is sent.
	PublicURL string
	// APIBase is the provider REST API base URL (default https://api.twilio.com).
	APIBase string
	// StatusPath is where status callbacks are mounted (default
	// /webhooks/sms/twilio/status), appended to PublicURL.
	StatusPath string

	// GenericSecrets sign the generic JSON webhook (several while rotating).
	// Empty: the generic webhook refuses everything.
	GenericSecrets []string
	// GenericWindow is the accepted clock difference of its timestamp (default 5 min).
	GenericWindow time.Duration

	// Queue for new SMS contacts; empty: the tier policy decides.
	Queue contact.QueueName
	// IdleClose: a message to a conversation whose last message is older
	// than this starts a new contact (default 24 h).
	IdleClose time.Duration
	// MaxBodyBytes bounds a webhook body (default 64 KiB).
	MaxBodyBytes int64

	// MaxSegments per provider request (default 10, Twilio's limit).
	MaxSegments int
	// LongMessages: "split" (default) sends a longer reply as several
	// messages; "refuse" fails its delivery.
	LongMessages string

	StopText  string // acknowledgement of STOP (sent once)
	StartText string // acknowledgement of START
	HelpText  string // answer to HELP

	// Survey sends SurveyText after an agent ends a conversation; a reply
	// 1–5 within SurveyWindow is stored as CSAT.
	Survey       bool
	SurveyText   string
	SurveyWindow time.Duration
	SurveyThanks string // reply to a rating; empty: none

	// SendAttempts and SendBackoff: retries on 5xx, 429 and network errors,
	// exponential from SendBackoff (default 5 attempts from 1 s, capped at
	// MaxBackoff 30 s); a Retry-After header is honoured.
	SendAttempts int
	SendBackoff  time.Duration
	MaxBackoff   time.Duration
	// HTTPClient for the provider API (default: 15 s timeout).
	HTTPClient *http.Client
	// Now is the clock (tests).
	Now func() time.Time
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.APIBase == "" {
		c.APIBase = "https://api.twilio.com"
	}
	if c.StatusPath == "" {
		c.StatusPath = "/webhooks/sms/twilio/status"
	}
	if c.GenericWindow == 0 {
		c.GenericWindow = 5 * time.Minute
	}
	if c.IdleClose == 0 {
		c.IdleClose = 24 * time.Hour
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.MaxSegments == 0 {
		c.MaxSegments = 10
	}
	if c.LongMessages == "" {
		c.LongMessages = "split"
	}
	if c.StopText == "" {
		c.StopText = "You are unsubscribed and will receive no more messages from us. Reply START to resubscribe."
	}
	if c.StartText == "" {
		c.StartText = "You are subscribed again. Reply STOP to unsubscribe."
	}
	if c.HelpText == "" {
		c.HelpText = "Reply to this number to reach our service team. Reply STOP to unsubscribe."
	}
	if c.SurveyText == "" {
		c.SurveyText = "How did we do? Reply 1-5 (5 = excellent)."
	}
	if c.SurveyWindow == 0 {
		c.SurveyWindow = 24 * time.Hour
	}
	if c.SendAttempts == 0 {
		c.SendAttempts = 5
	}
	if c.SendBackoff == 0 {
		c.SendBackoff = time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports the first problem of a defaulted configuration.
func (c *Config) Validate() error {
	if c.LongMessages != "split" && c.LongMessages != "refuse" {
		return fmt.Errorf("%w: long messages %q: want split or refuse", ErrConfig, c.LongMessages)
	}
	if c.MaxSegments < 1 {
		return fmt.Errorf("%w: max segments %d", ErrConfig, c.MaxSegments)
	}
	if u, err := url.Parse(c.APIBase); err != nil || u.Host == "" {
		return fmt.Errorf("%w: api base %q", ErrConfig, c.APIBase)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" {
			return fmt.Errorf("%w: public url %q", ErrConfig, c.PublicURL)
		}
	}
	seen := map[string]string{}
	for i, a := range c.Accounts {
		if a.AccountSID == "" || a.AuthToken == "" {
			return fmt.Errorf("%w: account %d (%s): account_sid and auth_token are required", ErrConfig, i, a.Name)
		}
		for _, k := range append(append([]string{}, a.Numbers...), a.MessagingServiceSIDs...) {
			if other, dup := seen[k]; dup {
				return fmt.Errorf("%w: %s is configured for accounts %s and %s", ErrConfig, k, other, a.Name)
			}
			seen[k] = a.Name
		}
	}
	return nil
}

// ConfigFromEnv reads the SMS configuration from the environment (names
// in contact/sms/README.md). publicURL is the server's CONTACTHUB_PUBLIC_URL,
// used when CONTACTHUB_SMS_PUBLIC_URL is not set.
func ConfigFromEnv(getenv func(string) string, publicURL string) (Config, error) {
	var c Config
	c.PublicURL = publicURL
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	var err error
	dur := func(key string, dst *time.Duration) {
		if v := getenv(key); v != "" && err == nil {
			if *dst, err = time.ParseDuration(v); err != nil {
				err = fmt.Errorf("%w: %s: %v", ErrConfig, key, err)
			}
		}
	}
	num := func(key string, dst *int) {
		if v := getenv(key); v != "" && err == nil {
			if *dst, err = strconv.Atoi(v); err != nil {
				err = fmt.Errorf("%w: %s: %v", ErrConfig, key, err)
			}
		}
	}
	list := func(v string) []string {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if v := getenv("CONTACTHUB_SMS_ACCOUNTS"); v != "" {
		if e := json.Unmarshal([]byte(v), &c.Accounts); e != nil {
			return c, fmt.Errorf("%w: CONTACTHUB_SMS_ACCOUNTS: %v", ErrConfig, e)
		}
	}
	if sid := getenv("CONTACTHUB_SMS_TWILIO_ACCOUNT_SID"); sid != "" {
		c.Accounts = append(c.Accounts, Account{Name: "twilio", AccountSID: sid,
			AuthToken:            getenv("CONTACTHUB_SMS_TWILIO_AUTH_TOKEN"),
			Numbers:              list(getenv("CONTACTHUB_SMS_TWILIO_NUMBERS")),
			MessagingServiceSIDs: list(getenv("CONTACTHUB_SMS_TWILIO_MESSAGING_SERVICE_SIDS"))})
	}
	str("CONTACTHUB_SMS_PUBLIC_URL", &c.PublicURL)
	str("CONTACTHUB_SMS_API_BASE", &c.APIBase)
	c.GenericSecrets = list(getenv("CONTACTHUB_SMS_GENERIC_SECRETS"))
	dur("CONTACTHUB_SMS_GENERIC_WINDOW", &c.GenericWindow)
	var q string
	str("CONTACTHUB_SMS_QUEUE", &q)
	c.Queue = contact.QueueName(q)
	dur("CONTACTHUB_SMS_IDLE_CLOSE", &c.IdleClose)
	num("CONTACTHUB_SMS_MAX_SEGMENTS", &c.MaxSegments)
	str("CONTACTHUB_SMS_LONG_MESSAGES", &c.LongMessages)
	str("CONTACTHUB_SMS_STOP_TEXT", &c.StopText)
	str("CONTACTHUB_SMS_START_TEXT", &c.StartText)
	str("CONTACTHUB_SMS_HELP_TEXT", &c.HelpText)
	if v := getenv("CONTACTHUB_SMS_SURVEY"); v != "" {
		b, e := strconv.ParseBool(v)
		if e != nil {
			return c, fmt.Errorf("%w: CONTACTHUB_SMS_SURVEY: %v", ErrConfig, e)
		}
		c.Survey = b
	}
	str("CONTACTHUB_SMS_SURVEY_TEXT", &c.SurveyText)
	dur("CONTACTHUB_SMS_SURVEY_WINDOW", &c.SurveyWindow)
	str("CONTACTHUB_SMS_SURVEY_THANKS", &c.SurveyThanks)
	num("CONTACTHUB_SMS_SEND_ATTEMPTS", &c.SendAttempts)
	dur("CONTACTHUB_SMS_SEND_BACKOFF", &c.SendBackoff)
	if err != nil {
		return c, err
	}
	c.Defaults()
	return c, c.Validate()
}
