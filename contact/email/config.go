package email

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Config configures the email channel. The zero value is not useful; start
// from DefaultConfig (safe defaults: the server runs with no configuration).
type Config struct {
	// Addr is the inbound SMTP listen address (CONTACTHUB_SMTP_ADDR, ":2525";
	// "off" disables the listener).
	Addr string
	// Hostname is announced in the SMTP greeting (CONTACTHUB_SMTP_HOSTNAME,
	// default the domain of From).
	Hostname string
	// Recipients maps a local part ("support") or a full address
	// ("help@acme.com") to a queue; an empty queue means the desk's default.
	// CONTACTHUB_SMTP_RECIPIENTS="support=general,vip=priority".
	Recipients map[string]contact.QueueName
	// Domains are the domains local parts are accepted for
	// (CONTACTHUB_SMTP_DOMAINS="localhost,example.com").
	Domains []string
	// MaxBytes limits a message's size (CONTACTHUB_SMTP_MAX_BYTES, 25 MiB).
	MaxBytes int64
	// TLSCert and TLSKey enable STARTTLS (CONTACTHUB_SMTP_TLS_CERT / _KEY).
	TLSCert, TLSKey string
	// Users are SMTP AUTH PLAIN accounts for relays, user → password
	// (CONTACTHUB_SMTP_AUTH="relay:secret,other:pw"). AUTH is offered only
	// over TLS unless InsecureAuth (CONTACTHUB_SMTP_INSECURE_AUTH=true).
	Users        map[string]string
	RequireAuth  bool // CONTACTHUB_SMTP_AUTH_REQUIRED=true
	InsecureAuth bool

	// From is the address replies are sent from (CONTACTHUB_MAIL_FROM,
	// "support@example.com"); its domain names our Message-IDs.
	From     string
	FromName string // CONTACTHUB_MAIL_FROM_NAME, "Customer Service"
	// Relay is the smarthost replies go through (CONTACTHUB_SMTP_RELAY,
	// host:port; empty: replies fail with ErrNoRelay).
	Relay         string
	RelayUser     string // CONTACTHUB_SMTP_RELAY_USER
	RelayPassword string // CONTACTHUB_SMTP_RELAY_PASSWORD
	// RelayTLS: "auto" (STARTTLS when offered, the default), "starttls"
	// (required), "tls" (implicit TLS, port 465) or "none"
	// (CONTACTHUB_SMTP_RELAY_TLS).
	RelayTLS string
	// RelayInsecureSkipVerify disables certificate checks (tests only).
	RelayInsecureSkipVerify bool

	// ReopenWindow: a customer's reply to a closed conversation within this
	// time of the thread's last message reopens it as a new contact in the
	// same thread; later replies start a new thread
	// (CONTACTHUB_EMAIL_REOPEN_WINDOW, 168h).
	ReopenWindow time.Duration
	// RemoteImages keeps remote images in sanitised HTML
	// (CONTACTHUB_EMAIL_REMOTE_IMAGES, false: blocked).
	RemoteImages bool

	// IMAP accounts polled for mailboxes hosted elsewhere
	// (CONTACTHUB_IMAP_ACCOUNTS, comma-separated URLs, see ParseIMAPURL).
	IMAP []IMAPAccount
}

// IMAPAccount is one polled mailbox.
type IMAPAccount struct {
	Name     string // key for UID tracking; default user@host/mailbox
	Addr     string // host:port
	TLS      string // "tls" (imaps, default), "starttls", "none" (imap://, tests)
	User     string
	Password string
	Mailbox  string            // default INBOX
	Queue    contact.QueueName // empty: desk default
	Poll     time.Duration     // interval when IDLE is not supported (60 s)
	// InsecureSkipVerify disables certificate checks (?insecure=1).
	InsecureSkipVerify bool
}

// DefaultConfig accepts support@localhost and support@example.com into the
// general queue and vip@ into priority, on :2525, up to 25 MiB.
func DefaultConfig() Config {
	return Config{
		Addr:         ":2525",
		Recipients:   map[string]contact.QueueName{"support": "general", "vip": "priority"},
		Domains:      []string{"localhost", "example.com"},
		MaxBytes:     25 << 20,
		From:         "support@example.com",
		FromName:     "Customer Service",
		RelayTLS:     "auto",
		ReopenWindow: 7 * 24 * time.Hour,
	}
}

// ConfigFromEnv returns DefaultConfig overridden by the environment
// variables named on Config's fields; pass os.Getenv.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	set := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	set("CONTACTHUB_SMTP_ADDR", &c.Addr)
	set("CONTACTHUB_SMTP_HOSTNAME", &c.Hostname)
	set("CONTACTHUB_SMTP_TLS_CERT", &c.TLSCert)
	set("CONTACTHUB_SMTP_TLS_KEY", &c.TLSKey)
	set("CONTACTHUB_MAIL_FROM", &c.From)
	set("CONTACTHUB_MAIL_FROM_NAME", &c.FromName)
	set("CONTACTHUB_SMTP_RELAY", &c.Relay)
	set("CONTACTHUB_SMTP_RELAY_USER", &c.RelayUser)
	set("CONTACTHUB_SMTP_RELAY_PASSWORD", &c.RelayPassword)
	set("CONTACTHUB_SMTP_RELAY_TLS", &c.RelayTLS)
	if v := getenv("CONTACTHUB_SMTP_RECIPIENTS"); v != "" {
		c.Recipients = map[string]contact.QueueName{}
		for _, kv := range splitList(v) {
			k, q, _ := strings.Cut(kv, "=")
			c.Recipients[strings.ToLower(strings.TrimSpace(k))] = contact.QueueName(strings.TrimSpace(q))
		}
	}
	if v := getenv("CONTACTHUB_SMTP_DOMAINS"); v != "" {
		c.Domains = splitList(v)
	}
	if v := getenv("CONTACTHUB_SMTP_AUTH"); v != "" {
		c.Users = map[string]string{}
		for _, kv := range splitList(v) {
			u, p, ok := strings.Cut(kv, ":")
			if !ok {
				return c, fmt.Errorf("%w: CONTACTHUB_SMTP_AUTH: want user:password", ErrConfig)
			}
			c.Users[u] = p
		}
	}
	var err error
	boolean := func(name string, dst *bool) {
		if v := getenv(name); v != "" && err == nil {
			*dst, err = strconv.ParseBool(v)
			if err != nil {
				err = fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
			}
		}
	}
	boolean("CONTACTHUB_SMTP_AUTH_REQUIRED", &c.RequireAuth)
	boolean("CONTACTHUB_SMTP_INSECURE_AUTH", &c.InsecureAuth)
	boolean("CONTACTHUB_EMAIL_REMOTE_IMAGES", &c.RemoteImages)
	if err != nil {
		return c, err
	}
	if v := getenv("CONTACTHUB_SMTP_MAX_BYTES"); v != "" {
		if c.MaxBytes, err = strconv.ParseInt(v, 10, 64); err != nil {
			return c, fmt.Errorf("%w: CONTACTHUB_SMTP_MAX_BYTES: %v", ErrConfig, err)
		}
	}
	if v := getenv("CONTACTHUB_EMAIL_REOPEN_WINDOW"); v != "" {
		if c.ReopenWindow, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("%w: CONTACTHUB_EMAIL_REOPEN_WINDOW: %v", ErrConfig, err)
		}
	}
	if v := getenv("CONTACTHUB_IMAP_ACCOUNTS"); v != "" {
		for _, u := range splitList(v) {
			a, err := ParseIMAPURL(u)
			if err != nil {
				return c, err
			}
			c.IMAP = append(c.IMAP, a)
		}
	}
	return c, c.Validate()
}

// ParseIMAPURL parses imaps://user:password@host[:993]/Mailbox?queue=general&poll=60s
// (imap:// is plain text, imap+starttls:// upgrades; &insecure=1 skips
// certificate checks; &name= sets the tracking key).
func ParseIMAPURL(s string) (IMAPAccount, error) {
	u, err := url.Parse(s)
	if err != nil {
		return IMAPAccount{}, fmt.Errorf("%w: imap account: %v", ErrConfig, err)
	}
	a := IMAPAccount{Mailbox: strings.TrimPrefix(u.Path, "/"), Poll: time.Minute}
	port := "993"
	switch u.Scheme {
	case "imaps":
		a.TLS = "tls"
	case "imap+starttls":
		a.TLS, port = "starttls", "143"
	case "imap":
		a.TLS, port = "none", "143"
	default:
		return IMAPAccount{}, fmt.Errorf("%w: imap account scheme %q", ErrConfig, u.Scheme)
	}
	a.Addr = u.Host
	if u.Port() == "" {
		a.Addr = net.JoinHostPort(u.Hostname(), port)
	}
	if u.User != nil {
		a.User = u.User.Username()
		a.Password, _ = u.User.Password()
	}
	q := u.Query()
	a.Queue = contact.QueueName(q.Get("queue"))
	a.Name = q.Get("name")
	a.InsecureSkipVerify = q.Get("insecure") == "1" || q.Get("insecure") == "true"
	if p := q.Get("poll"); p != "" {
		if a.Poll, err = time.ParseDuration(p); err != nil {
			return IMAPAccount{}, fmt.Errorf("%w: imap poll: %v", ErrConfig, err)
		}
	}
	return a.withDefaults(), nil
}

func (a IMAPAccount) withDefaults() IMAPAccount {
	if a.Mailbox == "" {
		a.Mailbox = "INBOX"
	}
	if a.TLS == "" {
		a.TLS = "tls"
	}
	if a.Poll <= 0 {
		a.Poll = time.Minute
	}
	if a.Name == "" {
		a.Name = a.User + "@" + a.Addr + "/" + a.Mailbox
	}
	return a
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if _, err := parseAddress(c.From); err != nil {
		return fmt.Errorf("%w: mail from %q: %v", ErrConfig, c.From, err)
	}
	if c.MaxBytes <= 0 {
		return fmt.Errorf("%w: max bytes must be positive", ErrConfig)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("%w: set both TLS cert and key", ErrConfig)
	}
	if c.RequireAuth && len(c.Users) == 0 {
		return fmt.Errorf("%w: auth required but no users", ErrConfig)
	}
	switch c.RelayTLS {
	case "", "auto", "starttls", "tls", "none":
	default:
		return fmt.Errorf("%w: relay tls %q: want auto, starttls, tls or none", ErrConfig, c.RelayTLS)
	}
	if len(c.Recipients) == 0 {
		return fmt.Errorf("%w: no recipients", ErrConfig)
	}
	return nil
}

// queueFor maps an envelope recipient to its queue.
func (c Config) queueFor(rcpt string) (contact.QueueName, bool) {
	rcpt = strings.ToLower(strings.Trim(strings.TrimSpace(rcpt), "<>"))
	if q, ok := c.Recipients[rcpt]; ok && strings.Contains(rcpt, "@") {
		return q, true
	}
	local, domain, ok := strings.Cut(rcpt, "@")
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(local, '+'); i > 0 { // support+tag@
		local = local[:i]
	}
	q, ok := c.Recipients[local]
	if !ok {
		return "", false
	}
	for _, d := range c.Domains {
		if strings.EqualFold(d, domain) {
			return q, true
		}
	}
	return "", false
}

// domain is the domain of our Message-IDs.
func (c Config) domain() string {
	if _, d, ok := strings.Cut(c.From, "@"); ok && d != "" {
		return strings.ToLower(d)
	}
	return "contacthub.invalid"
}

func (c Config) hostname() string {
	if c.Hostname != "" {
		return c.Hostname
	}
	return c.domain()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
