// Package chat is the web chat channel: an embeddable widget (widget.js), a
// demo page, the visitor session endpoint and the visitor websocket. It
// implements contact.Conversation for contact.Chat and calls a contact.Desk;
// it knows nothing of the store, routing or the agent hub, which it reaches
// through the hooks in Config.
//
// A visitor fills the pre-chat form; POST /chat/session accepts a contact
// (committed by the desk) and returns a signed visitor token. The widget
// opens /ws/chat with the token; every message is committed (desk.AddInbound,
// idempotent on the client's message id) before it is acknowledged. Agent
// replies reach the adapter through Deliver and are pushed to every socket
// of the visitor; a reconnecting widget sends the last message id it has
// and receives what it missed, in order, once. The wire protocol is
// documented in protocol.go.
package chat

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Messages is the message history the adapter reads (and marks) for
// resume and transcripts; *store.Store has these methods.
type Messages interface {
	// Messages returns a contact's messages in id order, those after afterID.
	Messages(ctx context.Context, id contact.ID, afterID int64) ([]contact.Message, error)
	// SetMessageStatus records a delivery status: delivered, read.
	SetMessageStatus(ctx context.Context, id int64, status string) error
}

// Config configures the adapter. Desk and Messages are required; the rest
// has safe defaults.
type Config struct {
	Desk     contact.Desk
	Messages Messages
	// Secret signs visitor tokens (HMAC-SHA256). Empty: a random key per
	// process, so tokens do not survive a restart. Env CONTACTHUB_CHAT_SECRET.
	Secret []byte
	// TokenTTL is how long a visitor token is valid (default 24h).
	TokenTTL time.Duration
	// DefaultQueue takes chats whose widget names no queue (default "general").
	DefaultQueue contact.QueueName
	// RequireEmail, RequirePhone make those pre-chat fields mandatory (the
	// name always is). Env CONTACTHUB_CHAT_REQUIRE=email,phone.
	RequireEmail, RequirePhone bool
	// AllowedOrigins restricts the pages that may embed the widget
	// ("https://shop.example.com", "https://*.example.com"). Empty: any.
	// Env CONTACTHUB_CHAT_ORIGINS (comma-separated).
	AllowedOrigins []string
	// MaxMessageBytes bounds a visitor's message (default 4 KiB).
	MaxMessageBytes int
	// VisitorRate and IPRate limit messages per visitor and per client IP
	// (defaults 1/s burst 10 and 10/s burst 50); SessionRate limits chats
	// started per IP (default 1 per 10 s, burst 20). A negative Per disables one.
	VisitorRate, IPRate, SessionRate Rate
	// Position reports a waiting contact's place in the queue and estimated
	// wait (the routing engine); polled every PositionEvery (default 2s).
	Position      func(contact.ID) (pos int, eta time.Duration, ok bool)
	PositionEvery time.Duration
	// OnTyping is called (at most once a second per socket) when the
	// visitor types; push a "typing" frame to the agent.
	OnTyping func(contact.ID)
	// OnReceipt is called when the widget reports agent messages up to
	// messageID delivered or read (status "delivered" or "read").
	OnReceipt func(c contact.ID, messageID int64, status string)
	// SendTranscript emails a transcript (the email channel provides it).
	// Nil: the widget does not offer it.
	SendTranscript func(ctx context.Context, to, subject, body string) error
	// ClientIP returns the client address used for rate limits (default:
	// the host of RemoteAddr; set it when behind a proxy).
	ClientIP func(*http.Request) string
	Log      *slog.Logger
	Now      func() time.Time
}

// ConfigFromEnv reads the environment variables named in Config's fields
// into c (Desk, Messages and the hooks stay as they are).
func ConfigFromEnv(c Config, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv("CONTACTHUB_CHAT_SECRET"); v != "" {
		if len(v) < 16 {
			return c, fmt.Errorf("%w: CONTACTHUB_CHAT_SECRET: want at least 16 characters", ErrConfig)
		}
		c.Secret = []byte(v)
	}
	if v := getenv("CONTACTHUB_CHAT_ORIGINS"); v != "" {
		c.AllowedOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.AllowedOrigins = append(c.AllowedOrigins, o)
			}
		}
	}
	if v := getenv("CONTACTHUB_CHAT_REQUIRE"); v != "" {
		for _, f := range strings.Split(v, ",") {
			switch strings.TrimSpace(f) {
			case "email":
				c.RequireEmail = true
			case "phone":
				c.RequirePhone = true
			case "name", "":
			default:
				return c, fmt.Errorf("%w: CONTACTHUB_CHAT_REQUIRE: %q: want email, phone", ErrConfig, f)
			}
		}
	}
	if v := getenv("CONTACTHUB_CHAT_QUEUE"); v != "" {
		c.DefaultQueue = contact.QueueName(v)
	}
	if v := getenv("CONTACTHUB_CHAT_MAX_MESSAGE_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > readLimit/2 {
			return c, fmt.Errorf("%w: CONTACTHUB_CHAT_MAX_MESSAGE_BYTES: %q", ErrConfig, v)
		}
		c.MaxMessageBytes = n
	}
	if v := getenv("CONTACTHUB_CHAT_TOKEN_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%w: CONTACTHUB_CHAT_TOKEN_TTL: %q", ErrConfig, v)
		}
		c.TokenTTL = d
	}
	return c, nil
}

func (c Config) withDefaults() Config {
	if len(c.Secret) == 0 {
		c.Secret = []byte(randomString(32))
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = 24 * time.Hour
	}
	if c.DefaultQueue == "" {
		c.DefaultQueue = "general"
	}
	if c.MaxMessageBytes <= 0 || c.MaxMessageBytes > readLimit/2 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.VisitorRate == (Rate{}) {
		c.VisitorRate = Rate{Per: 1, Burst: 10}
	}
	if c.IPRate == (Rate{}) {
		c.IPRate = Rate{Per: 10, Burst: 50}
	}
	if c.SessionRate == (Rate{}) {
		c.SessionRate = Rate{Per: 0.1, Burst: 20}
	}
	if c.PositionEvery <= 0 {
		c.PositionEvery = 2 * time.Second
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteHost
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Adapter is the web chat channel.
type Adapter struct {
	cfg                      Config
	log                      *slog.Logger
	byVisitor, byIP, session *limiter

	mu    sync.Mutex
	rooms map[contact.ID]*room
}

// room is the live state of one chat contact: the visitor's sockets.
type room struct {
	id      contact.ID
	conns   map[*client]struct{}
	agent   string // display name of the agent who joined
	ended   string // "", "agent" or "customer"
	rated   bool
	known   bool // state initialised from the desk
	lastPos int
	lastETA int
}

// New builds the adapter. Register it with the desk for contact.Chat and
// run Run in the background.
func New(c Config) (*Adapter, error) {
	if c.Desk == nil || c.Messages == nil {
		return nil, fmt.Errorf("%w: Desk and Messages are required", ErrConfig)
	}
	for _, o := range c.AllowedOrigins {
		if _, err := url.Parse(strings.Replace(o, "*.", "x.", 1)); err != nil || !strings.Contains(o, "://") {
			return nil, fmt.Errorf("%w: origin %q: want scheme://host", ErrConfig, o)
		}
	}
	c = c.withDefaults()
	return &Adapter{
		cfg: c, log: c.Log.With("channel", "chat"),
		byVisitor: newLimiter(c.VisitorRate), byIP: newLimiter(c.IPRate), session: newLimiter(c.SessionRate),
		rooms: map[contact.ID]*room{},
	}, nil
}

// Run pushes queue positions to waiting visitors and forgets idle rate
// buckets until ctx ends.
func (a *Adapter) Run(ctx context.Context) error {
	pos := time.NewTicker(a.cfg.PositionEvery)
	defer pos.Stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-pos.C:
			a.pushPositions()
		case <-sweep.C:
			now := a.cfg.Now()
			a.byVisitor.sweep(now)
			a.byIP.sweep(now)
			a.session.sweep(now)
		}
	}
}

// roomLocked returns the room of a contact, creating it. Call with a.mu held.
func (a *Adapter) roomLocked(id contact.ID) *room {
	r := a.rooms[id]
	if r == nil {
		r = &room{id: id, conns: map[*client]struct{}{}, lastPos: -1}
		a.rooms[id] = r
	}
	return r
}

// dropIfIdle forgets an ended room without sockets. Call with a.mu held.
func (a *Adapter) dropIfIdle(r *room) {
	if r.ended != "" && len(r.conns) == 0 {
		delete(a.rooms, r.id)
	}
}

// push sends one frame to every socket of a contact except skip.
func (a *Adapter) push(id contact.ID, msgID int64, o Out, skip *client) {
	b := mustJSON(o)
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.rooms[id]
	if r == nil {
		return
	}
	for c := range r.conns {
		if c != skip {
			c.queue(msgID, b)
		}
	}
}

// msgOut is a message as the widget sees it.
type msgOut struct {
	ID        int64             `json:"id"`
	Direction contact.Direction `json:"direction"`
	Body      string            `json:"body"`
	CreatedAt time.Time         `json:"created_at"`
	Agent     string            `json:"agent,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
}

func (a *Adapter) msgFrame(m contact.Message, agent string) Out {
	o := msgOut{ID: m.ID, Direction: m.Direction, Body: m.Body, CreatedAt: m.CreatedAt, ClientID: m.ExternalID}
	if m.Direction == contact.Outbound {
		o.Agent = agent
	}
	return Out{Type: "message", Data: o}
}

// Deliver is contact.Conversation: an agent's message goes to every socket
// of the visitor. It is stored already, so a visitor who is offline gets it
// when the widget reconnects; Deliver does not fail for that.
func (a *Adapter) Deliver(_ context.Context, c contact.Contact, m contact.Message) error {
	a.mu.Lock()
	agent := ""
	if r := a.rooms[c.ID]; r != nil {
		agent = r.agent
	}
	a.mu.Unlock()
	a.push(c.ID, m.ID, a.msgFrame(m, agent), nil)
	return nil
}

// Connect is contact.Conversation: an agent joined the chat.
func (a *Adapter) Connect(_ context.Context, c contact.Contact, _ contact.AgentID, agentName string) error {
	a.mu.Lock()
	r := a.roomLocked(c.ID)
	r.agent, r.known = agentName, true
	if agentName == "" {
		r.agent = "Agent"
	}
	a.mu.Unlock()
	a.push(c.ID, 0, Out{Type: "agent_joined", Data: map[string]string{"name": agentName}}, nil)
	return nil
}

// Hangup is contact.Conversation: the agent ended the chat; the widget
// asks for a rating.
func (a *Adapter) Hangup(_ context.Context, c contact.Contact) error {
	a.end(c.ID, "agent")
	return nil
}

func (a *Adapter) end(id contact.ID, by string) {
	a.mu.Lock()
	r := a.roomLocked(id)
	already := r.ended != ""
	if !already {
		r.ended, r.known = by, true
	}
	a.mu.Unlock()
	if !already {
		a.push(id, 0, Out{Type: "ended", Data: map[string]string{"by": by}}, nil)
	}
	a.mu.Lock()
	a.dropIfIdle(r)
	a.mu.Unlock()
}

// AgentTyping tells the visitor the agent is typing (wire the agent
// console's typing frame here).
func (a *Adapter) AgentTyping(id contact.ID) {
	a.push(id, 0, Out{Type: "typing", Data: struct{}{}}, nil)
}

// MarkRead tells the visitor the agent has read their messages up to
// messageID (wire the agent console's read frame here); the status is stored.
func (a *Adapter) MarkRead(id contact.ID, messageID int64) {
	if messageID <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.cfg.Messages.SetMessageStatus(ctx, messageID, "read"); err != nil {
		a.log.Warn("mark read", "contact_id", id, "message_id", messageID, "err", err)
	}
	a.push(id, 0, Out{Type: "receipt", Data: map[string]any{"message_id": messageID, "status": "read"}}, nil)
}

// Visitors returns how many visitor sockets are connected.
func (a *Adapter) Visitors() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.rooms {
		n += len(r.conns)
	}
	return n
}

func (a *Adapter) pushPositions() {
	if a.cfg.Position == nil {
		return
	}
	a.mu.Lock()
	var waiting []contact.ID
	for id, r := range a.rooms {
		if r.agent == "" && r.ended == "" && len(r.conns) > 0 {
			waiting = append(waiting, id)
		}
	}
	a.mu.Unlock()
	for _, id := range waiting {
		a.pushPosition(id, false)
	}
}

func (a *Adapter) pushPosition(id contact.ID, always bool) {
	if a.cfg.Position == nil {
		return
	}
	pos, eta, ok := a.cfg.Position(id)
	if !ok {
		return
	}
	secs := int(eta.Round(time.Second) / time.Second)
	a.mu.Lock()
	r := a.rooms[id]
	changed := r != nil && (r.lastPos != pos || r.lastETA != secs)
	if r != nil {
		r.lastPos, r.lastETA = pos, secs
	}
	a.mu.Unlock()
	if changed || always {
		a.push(id, 0, Out{Type: "queue", Data: map[string]int{"position": pos, "eta_seconds": secs}}, nil)
	}
}

var _ contact.Conversation = (*Adapter)(nil)
