// Package voice is ContactHub's SIP channel: a registrar for agents' phones,
// inbound calls queued with hold audio, the agent's phone rung and bridged
// when an agent accepts, DTMF for callbacks and the post-call survey.
//
// It is a back-to-back user agent with media anchored here: the caller's
// leg and the agent's leg are two SIP dialogs, and RTP is relayed between
// two of our sockets (package media). It imports contact and its protocol
// libraries only (DESIGN.md); the desk reaches it through
// contact.Conversation and it reaches the desk through contact.Desk.
package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/voice/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config configures the voice channel. The zero value (after
// ConfigFromEnv with nothing set) serves :5060 with every dialled number
// going to the desk's default queue.
type Config struct {
	// Addr is where SIP is served, UDP and TCP (CONTACTHUB_SIP_ADDR, ":5060").
	Addr string
	// PublicHost is the address put in Contact headers and SDP
	// (CONTACTHUB_SIP_PUBLIC_HOST; default: Addr's IP if it has one, else
	// the first non-loopback IPv4 of this host, else 127.0.0.1).
	PublicHost string
	// Realm of digest authentication for agents' phones (CONTACTHUB_SIP_REALM, "contacthub").
	// Stored HA1s depend on it: changing it means setting SIP passwords again.
	Realm string
	// RTPPortMin..RTPPortMax is the RTP port range (CONTACTHUB_SIP_RTP_PORTS
	// "10000-20000"; empty or "0": any free port).
	RTPPortMin, RTPPortMax int
	// HoldAudio is a WAV file (8 kHz mono, PCM16/µ-law/A-law) played to
	// waiting callers (CONTACTHUB_SIP_HOLD_WAV; default: the embedded music).
	HoldAudio string
	// Numbers maps a dialled number (Request-URI or To user) to a queue
	// (CONTACTHUB_SIP_NUMBERS "4001=sales,4002=support"). A number not in
	// it goes to the desk's default queue.
	Numbers map[string]contact.QueueName
	// RingTimeout is how long an agent's phone rings before the agent leg
	// fails (CONTACTHUB_SIP_RING_TIMEOUT, 30s).
	RingTimeout time.Duration
	// MediaTimeout tears down a call whose caller sent no RTP for that long
	// (CONTACTHUB_SIP_MEDIA_TIMEOUT, 30s; 0 disables).
	MediaTimeout time.Duration
	// RetryAfter is sent with 503 when the desk cannot take calls (30s).
	RetryAfter time.Duration
	// CallbackDigit, pressed while waiting, asks for a callback
	// (CONTACTHUB_SIP_CALLBACK_DIGIT, "1"; "" disables). Needs OnCallback.
	CallbackDigit string
	// Survey plays a prompt to the caller after the agent leaves and takes a
	// CSAT digit 1–5 (CONTACTHUB_SIP_SURVEY=1; off by default).
	Survey bool
	// SurveyPrompt is a WAV played as the survey question
	// (CONTACTHUB_SIP_SURVEY_WAV; default: an embedded two-tone beep).
	SurveyPrompt string
	// SurveyTimeout is how long to wait for the rating (10s).
	SurveyTimeout time.Duration
}

// ConfigFromEnv reads the configuration from environment variables through
// getenv (os.Getenv) and fills in defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Addr: getenv("CONTACTHUB_SIP_ADDR"), PublicHost: getenv("CONTACTHUB_SIP_PUBLIC_HOST"),
		Realm: getenv("CONTACTHUB_SIP_REALM"), HoldAudio: getenv("CONTACTHUB_SIP_HOLD_WAV"),
		SurveyPrompt: getenv("CONTACTHUB_SIP_SURVEY_WAV"), CallbackDigit: "1",
	}
	if v, ok := lookup(getenv, "CONTACTHUB_SIP_CALLBACK_DIGIT"); ok {
		c.CallbackDigit = v
	}
	if v := getenv("CONTACTHUB_SIP_RTP_PORTS"); v != "" && v != "0" {
		lo, hi, ok := strings.Cut(v, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || b-a < 10 {
			return c, fmt.Errorf("voice: CONTACTHUB_SIP_RTP_PORTS %q: want LOW-HIGH, e.g. 10000-20000", v)
		}
		c.RTPPortMin, c.RTPPortMax = a, b
	}
	if v := getenv("CONTACTHUB_SIP_NUMBERS"); v != "" {
		c.Numbers = map[string]contact.QueueName{}
		for _, kv := range strings.Split(v, ",") {
			num, q, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || num == "" || q == "" {
				return c, fmt.Errorf("voice: CONTACTHUB_SIP_NUMBERS: %q: want NUMBER=QUEUE", kv)
			}
			c.Numbers[strings.TrimSpace(num)] = contact.QueueName(strings.TrimSpace(q))
		}
	}
	for name, dst := range map[string]*time.Duration{"CONTACTHUB_SIP_RING_TIMEOUT": &c.RingTimeout, "CONTACTHUB_SIP_MEDIA_TIMEOUT": &c.MediaTimeout} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return c, fmt.Errorf("voice: %s %q: want a duration such as 30s", name, v)
			}
			*dst = d
			if d == 0 && name == "CONTACTHUB_SIP_MEDIA_TIMEOUT" {
				*dst = -1 // explicitly disabled
			}
		}
	}
	switch strings.ToLower(getenv("CONTACTHUB_SIP_SURVEY")) {
	case "1", "true", "yes", "on":
		c.Survey = true
	}
	c.defaults()
	return c, nil
}

func lookup(getenv func(string) string, k string) (string, bool) {
	v := getenv(k)
	return v, v != "" // an empty value keeps the default
}

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = ":5060"
	}
	if c.Realm == "" {
		c.Realm = "contacthub"
	}
	if c.RingTimeout == 0 {
		c.RingTimeout = 30 * time.Second
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = 30 * time.Second
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = 30 * time.Second
	}
	if c.SurveyTimeout == 0 {
		c.SurveyTimeout = 10 * time.Second
	}
}

// Server is the voice channel. Build it with New, set the hooks, register
// it with the desk (it is a contact.Conversation) and call Run.
type Server struct {
	cfg   Config
	desk  contact.Desk
	log   *slog.Logger
	reg   *registrar
	sched *media.Scheduler
	hold  *media.Audio
	beep  *media.Audio

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	dua *sipgo.DialogUA

	udp    net.PacketConn
	tcp    net.Listener
	host   netip.Addr // advertised in Contact and SDP
	rtpIP  netip.Addr // RTP sockets bind here
	port   int
	closed chan struct{}

	mu        sync.Mutex
	calls     map[string]*call     // by the caller leg's Call-ID
	byContact map[contact.ID]*call // once the desk accepted it
	legs      map[string]*agentLeg // by the agent leg's Call-ID

	// OnAgentLegFailed is called when the agent's phone could not be
	// connected after the desk's Connect: not registered, busy (486),
	// declined (603), no answer within RingTimeout, or the leg could not
	// be set up. The caller stays on hold; wire it to give the contact
	// back to the queue: by then the desk has the contact active with that
	// agent, so e.g. desk.Transfer(ctx, agent, c.ID, c.Queue, 0, note)
	// re-queues it (and the agent may be set away if not_registered).
	// c is the contact Connect was given. reason is "not_registered",
	// "busy", "declined", "no_answer" or "failed".
	OnAgentLegFailed func(ctx context.Context, c contact.Contact, agent contact.AgentID, reason string)
	// OnCallback is called when a waiting caller presses CallbackDigit.
	// If it returns nil the caller hears a beep and the line is released
	// without reporting an abandon (the contact is now a callback request).
	OnCallback func(ctx context.Context, id contact.ID) error
}

// New binds the SIP listeners (UDP and TCP on the same port) and prepares
// the channel. Nothing is served until Run.
func New(cfg Config, desk contact.Desk, creds Credentials, log *slog.Logger) (*Server, error) {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "voice")
	s := &Server{cfg: cfg, desk: desk, log: log, reg: newRegistrar(cfg.Realm, creds),
		beep:  media.DefaultBeep(),
		calls: map[string]*call{}, byContact: map[contact.ID]*call{}, legs: map[string]*agentLeg{}, closed: make(chan struct{})}
	s.hold = media.DefaultHold()
	if cfg.HoldAudio != "" {
		a, err := media.LoadWAV(cfg.HoldAudio)
		if err != nil {
			return nil, fmt.Errorf("voice: hold audio: %w", err)
		}
		s.hold = a
	}
	if cfg.SurveyPrompt != "" {
		a, err := media.LoadWAV(cfg.SurveyPrompt)
		if err != nil {
			return nil, fmt.Errorf("voice: survey prompt: %w", err)
		}
		s.beep = a
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("ContactHub"), sipgo.WithUserAgentHostname(s.host.String()))
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("voice: user agent: %w", err)
	}
	s.ua = ua
	s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("voice: server: %w", err)
	}
	s.cli, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientHostname(s.host.String()))
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("voice: client: %w", err)
	}
	s.dua = &sipgo.DialogUA{Client: s.cli, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "contacthub", Host: s.host.String(), Port: s.port}}}
	s.sched = media.NewScheduler()
	s.routes()
	return s, nil
}

func (s *Server) listen() error {
	host, portStr, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("voice: CONTACTHUB_SIP_ADDR %q: %w", s.cfg.Addr, err)
	}
	bind, _ := netip.ParseAddr(host)
	s.rtpIP = netip.IPv4Unspecified()
	if bind.IsValid() && !bind.IsUnspecified() {
		s.rtpIP = bind
	}
	// UDP and TCP on one port; with port 0 (tests) retry until both fit.
	for try := 0; try < 20; try++ {
		udp, err := net.ListenPacket("udp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("voice: listen udp %s: %w", s.cfg.Addr, err)
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			udp.Close()
			if portStr == "0" {
				continue
			}
			return fmt.Errorf("voice: listen tcp %s: %w", s.cfg.Addr, err)
		}
		if c, ok := udp.(*net.UDPConn); ok {
			_ = c.SetReadBuffer(4 << 20)
			_ = c.SetWriteBuffer(4 << 20)
		}
		s.udp, s.tcp, s.port = udp, tcp, port
		break
	}
	if s.udp == nil {
		return fmt.Errorf("voice: no port free for both udp and tcp")
	}
	switch {
	case s.cfg.PublicHost != "":
		ip, err := netip.ParseAddr(s.cfg.PublicHost)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("voice: CONTACTHUB_SIP_PUBLIC_HOST %q must be an IP address: %w", s.cfg.PublicHost, err)
		}
		s.host = ip
	case bind.IsValid() && !bind.IsUnspecified():
		s.host = bind
	default:
		s.host = firstIPv4()
	}
	return nil
}

func firstIPv4() netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
				return ip.Unmap()
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
}

// Addr is the SIP address served (host:port, the port actually bound).
func (s *Server) Addr() string { return net.JoinHostPort(s.host.String(), strconv.Itoa(s.port)) }

// Port is the SIP port bound (UDP and TCP).
func (s *Server) Port() int { return s.port }

// EndsWithProcess tells the desk that calls do not survive a restart:
// their dialogs and media live in this process, so the calls left open by
// a crashed process are ended (abandoned or wrapped up) at start.
func (s *Server) EndsWithProcess() bool { return true }

// Registered reports whether the agent's phone has a live registration
// (for the console's indicator: desk.PhoneRegistered = srv.Registered).
func (s *Server) Registered(agent contact.AgentID) bool { return s.reg.registered(agent) }

// Run serves SIP until ctx ends, then hangs up every call (BYE to both
// legs) and closes the listeners.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- s.srv.ServeUDP(s.udp) }()
	go func() { errc <- s.srv.ServeTCP(s.tcp) }()
	go s.watchMedia(ctx)
	s.log.Info("sip listening", "addr", s.cfg.Addr, "port", s.port, "public_host", s.host.String())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("voice: serve: %w", err)
	}
	s.shutdown()
	return err
}

func (s *Server) shutdown() {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.end(endShutdown)
		}()
	}
	wg.Wait()
	close(s.closed)
	s.sched.Stop()
	s.closeListeners()
	_ = s.ua.Close()
}

// watchMedia tears down calls whose caller stopped sending RTP.
func (s *Server) watchMedia(ctx context.Context) {
	if s.cfg.MediaTimeout <= 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			var dead []*call
			for _, c := range s.calls {
				if c.mediaSilent(now, s.cfg.MediaTimeout) {
					dead = append(dead, c)
				}
			}
			s.mu.Unlock()
			for _, c := range dead {
				s.log.Info("no rtp from caller: hanging up", "call_id", c.callID, "contact_id", c.contactID(), "timeout", s.cfg.MediaTimeout)
				go c.end(endMediaTimeout)
			}
		}
	}
}

func (s *Server) routes() {
	s.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER"))
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp, application/dtmf-relay, application/dtmf"))
		_ = tx.Respond(res)
	})
	s.srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.reg.handle(ctx, req, tx)
	})
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching a pending INVITE is answered by the transaction
		// layer (200, then 487 to the INVITE) and seen by the call through
		// the transaction; one arriving here matches nothing.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	})
	s.srv.OnInfo(s.onInfo)
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// errNoPhone means the agent has no registered phone.
var errNoPhone = errors.New("voice: agent has no registered phone")
