package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contacthub/contacthub/contact/sms"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
)

// Channels of a mixed load, in report order.
var Channels = []string{"voice", "chat", "sms", "email"}

// MixedOptions of a mixed load run: calls from sipp, web chats, signed SMS
// webhooks and SMTP messages at once, taken by agent bots.
type MixedOptions struct {
	URL      string // server base URL
	SIPAddr  string // server SIP address (UDP); empty: no calls
	SMTPAddr string // server SMTP address; empty: no email
	Admin    string // name:password of an admin
	Agents   int
	Rate     float64            // contacts per second, all channels together
	Mix      map[string]float64 // channel → share (normalised)
	Duration time.Duration
	Hold     time.Duration // how long a bot keeps a contact before wrap-up
	CallWait time.Duration // how long a sipp caller waits on hold before hanging up
	Prefix   string        // bot user names (default "mx" + run id: fresh bots each run)
	// SMS: the Twilio account the server is configured with.
	SMSAccountSID, SMSAuthToken, SMSNumber string
	SMSURL                                 string // URL the server signs against (default URL + /webhooks/sms/twilio)
	Sipp                                   string // sipp binary (default "sipp")
	Scenario                               string // sipp caller scenario (default contact/voice/testdata/caller.xml)
	DatabaseURL                            string // for database size, the bots' profiles and the consistency check
	ServerPID                              int    // for CPU and RSS; 0: found by the HTTP port
	Drain                                  time.Duration
	// Outbound sinks served by the load client during the run, so agents'
	// replies go somewhere local: a Twilio-compatible API (the server's
	// CONTACTHUB_SMS_API_BASE) and an SMTP relay (CONTACTHUB_SMTP_RELAY).
	// Empty: not served.
	ProviderAddr, RelayAddr string
	Progress                io.Writer
}

// ChannelResult is one channel's figures.
type ChannelResult struct {
	Sent, Acked, Offered, Accepted, Replied, Closed, Errors int64
	Rate                                                    float64       // acknowledged contacts per second
	AckP50, AckP99                                          time.Duration // send → acknowledgement (250, 200, session)
	PopP50, PopP99, PopMax                                  time.Duration
}

// Sample is one reading of the server process and database.
type Sample struct {
	At      time.Duration
	CPU     float64 // cores used since the previous sample
	RSS     int64   // bytes
	DBBytes int64
	Load    string // /proc/loadavg
}

// MixedResult is what a mixed run measured.
type MixedResult struct {
	Channels    map[string]*ChannelResult
	Duplicates  int64 // offers for a contact a bot already accepted
	ProviderSMS int64 // replies the server sent to the fake SMS provider
	RelayMail   int64 // replies the server sent through the fake SMTP relay
	BoardFrames int64
	HoldRTP     int64 // hold audio packets the callers received
	Samples     []Sample
	Elapsed     time.Duration
	FirstErrors []string
	Check       *CheckReport
}

func (r *MixedResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %7s %7s %7s %8s %7s %7s %6s %8s %9s %9s %9s %9s %9s\n", "chan", "sent", "acked", "offered", "accepted", "replied", "closed", "errors", "acked/s", "ack p50", "ack p99", "pop p50", "pop p99", "pop max")
	for _, ch := range Channels {
		c := r.Channels[ch]
		r10 := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
		fmt.Fprintf(&b, "%-6s %7d %7d %7d %8d %7d %7d %6d %8.1f %9v %9v %9v %9v %9v\n", ch, c.Sent, c.Acked, c.Offered, c.Accepted, c.Replied, c.Closed, c.Errors, c.Rate,
			r10(c.AckP50), r10(c.AckP99), c.PopP50.Round(10*time.Microsecond), c.PopP99.Round(10*time.Microsecond), c.PopMax.Round(10*time.Microsecond))
	}
	fmt.Fprintf(&b, "duplicates %d, supervisor board frames %d, hold RTP packets received %d, replies out: SMS to provider %d, email to relay %d; elapsed %v\n",
		r.Duplicates, r.BoardFrames, r.HoldRTP, r.ProviderSMS, r.RelayMail, r.Elapsed.Round(time.Second))
	if len(r.Samples) > 0 {
		fmt.Fprintf(&b, "%8s %6s %9s %10s  %s\n", "t", "cpu", "rss MiB", "db MiB", "loadavg")
		for _, s := range r.Samples {
			fmt.Fprintf(&b, "%8v %6.2f %9.1f %10.1f  %s\n", s.At.Round(time.Second), s.CPU, float64(s.RSS)/(1<<20), float64(s.DBBytes)/(1<<20), s.Load)
		}
	}
	if r.Check != nil {
		b.WriteString(r.Check.String())
		b.WriteString("\n")
		for _, p := range r.Check.Problems {
			fmt.Fprintf(&b, "  problem: %s\n", p)
		}
	}
	return b.String()
}

// SMSEnv is the environment the server needs for the mixed load: the SMS
// account, and where replies go (the load client's sinks).
func (o MixedOptions) SMSEnv() []string {
	env := []string{"CONTACTHUB_SMS_TWILIO_ACCOUNT_SID=" + o.SMSAccountSID, "CONTACTHUB_SMS_TWILIO_AUTH_TOKEN=" + o.SMSAuthToken,
		"CONTACTHUB_SMS_TWILIO_NUMBERS=" + o.SMSNumber}
	if o.ProviderAddr != "" {
		env = append(env, "CONTACTHUB_SMS_API_BASE=http://"+o.ProviderAddr)
	}
	if o.RelayAddr != "" {
		env = append(env, "CONTACTHUB_SMTP_RELAY="+o.RelayAddr, "CONTACTHUB_SMTP_RELAY_TLS=none")
	}
	return env
}

// serveProvider answers a Twilio-compatible "send message" API.
func (m *mixed) serveProvider(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("loadtest: fake SMS provider: %w", err)
	}
	var n atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		i := n.Add(1)
		m.mu.Lock()
		m.res.ProviderSMS++
		m.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SMout%s%08d","status":"queued"}`, m.runID, i)
	})}
	go func() { <-ctx.Done(); srv.Close() }()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// serveRelay is a minimal SMTP server that accepts and discards everything.
func (m *mixed) serveRelay(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("loadtest: fake SMTP relay: %w", err)
	}
	go func() { <-ctx.Done(); ln.Close() }()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go m.relayConn(c)
		}
	}()
	return nil
}

func (m *mixed) relayConn(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	say := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
	say("220 relay.loadtest ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-relay.loadtest")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go ahead")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
			}
			m.mu.Lock()
			m.res.RelayMail++
			m.mu.Unlock()
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default: // HELO, MAIL, RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}

type mixed struct {
	o       MixedOptions
	runID   string
	seed    int // 0–999, varies the customers' numbers between runs
	mu      sync.Mutex
	t0      map[string]time.Time // arrival key → send time
	pops    map[string][]time.Duration
	acks    map[string][]time.Duration
	early   map[int64]time.Time // chat offers seen before the session answer
	res     MixedResult
	taken   map[int64]bool
	expect  []Expected
	msgs    []int64
	errList []string
}

func (m *mixed) ch(name string) *ChannelResult { return m.res.Channels[name] }

func (m *mixed) fail(ch string, format string, a ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.res.Channels[ch].Errors++
	if len(m.errList) < 20 {
		m.errList = append(m.errList, ch+": "+fmt.Sprintf(format, a...))
	}
}

func (m *mixed) progress(format string, a ...any) {
	if m.o.Progress != nil {
		fmt.Fprintf(m.o.Progress, format+"\n", a...)
	}
}

// Mixed runs the mixed load and, with a database URL, the consistency check.
func Mixed(ctx context.Context, o MixedOptions) (*MixedResult, error) {
	if o.Drain == 0 {
		o.Drain = 60 * time.Second
	}
	if o.Sipp == "" {
		o.Sipp = "sipp"
	}
	if o.Scenario == "" {
		o.Scenario = filepath.Join("contact", "voice", "testdata", "caller.xml")
	}
	// Fail before any load rather than run without calls (the default
	// scenario path is relative to the repository root).
	if _, err := os.Stat(o.Scenario); err != nil && o.SIPAddr != "" {
		return nil, fmt.Errorf("loadtest: sipp scenario: %w (run from the repository root or pass -scenario)", err)
	}
	runID := strconv.FormatInt(time.Now().Unix()%1e7, 36)
	if o.Prefix == "" {
		o.Prefix = "mx" + runID + "-"
	}
	if o.SMSURL == "" {
		o.SMSURL = strings.TrimRight(o.URL, "/") + "/webhooks/sms/twilio"
	}
	m := &mixed{o: o, runID: runID, seed: int(time.Now().Unix() % 1000), t0: map[string]time.Time{}, pops: map[string][]time.Duration{}, acks: map[string][]time.Duration{}, early: map[int64]time.Time{}, taken: map[int64]bool{},
		res: MixedResult{Channels: map[string]*ChannelResult{}}}
	for _, c := range Channels {
		m.res.Channels[c] = &ChannelResult{}
	}
	share := map[string]float64{}
	var total float64
	for _, c := range Channels {
		if o.Mix[c] > 0 {
			share[c] = o.Mix[c]
			total += o.Mix[c]
		}
	}
	if o.SIPAddr == "" {
		total -= share["voice"]
		delete(share, "voice")
	}
	if o.SMTPAddr == "" {
		total -= share["email"]
		delete(share, "email")
	}
	if total <= 0 {
		return nil, errors.New("loadtest: no channel to send on")
	}
	since := time.Now()

	sinkCtx, stopSinks := context.WithCancel(context.Background())
	defer stopSinks()
	if o.ProviderAddr != "" {
		if err := m.serveProvider(sinkCtx, o.ProviderAddr); err != nil {
			return nil, err
		}
	}
	if o.RelayAddr != "" {
		if err := m.serveRelay(sinkCtx, o.RelayAddr); err != nil {
			return nil, err
		}
	}

	tr := &http.Transport{MaxIdleConns: 4000, MaxIdleConnsPerHost: 4000, IdleConnTimeout: time.Minute}
	admin := newSession(o.URL, tr)
	name, pw, _ := strings.Cut(o.Admin, ":")
	if err := admin.login(ctx, name, pw); err != nil {
		return nil, fmt.Errorf("loadtest: admin login: %w", err)
	}
	if _, err := admin.call(ctx, "POST", "/api/v1/users/bulk", map[string]any{"prefix": o.Prefix, "count": o.Agents, "role": "agent", "password": botPassword}, nil); err != nil {
		return nil, fmt.Errorf("loadtest: provision bots: %w", err)
	}
	// Bots have no SIP phones: they take no calls (voice capacity 0), so
	// callers wait on hold and hang up (abandon) after CallWait.
	if o.DatabaseURL != "" && share["voice"] > 0 {
		if err := noVoice(ctx, o.DatabaseURL, o.Prefix); err != nil {
			return nil, err
		}
	}

	bots := make([]*mbot, o.Agents)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var loginErr atomic.Value
	for i := range bots {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			b := &mbot{m: m, s: newSession(o.URL, tr)}
			if err := b.connect(ctx, fmt.Sprintf("%s%d", o.Prefix, i+1)); err != nil {
				loginErr.Store(err)
				return
			}
			bots[i] = b
		}(i)
	}
	wg.Wait()
	if err, _ := loginErr.Load().(error); err != nil {
		return nil, fmt.Errorf("loadtest: bots: %w", err)
	}
	m.progress("%d bots connected and available", o.Agents)
	bctx, stopBots := context.WithCancel(ctx)
	defer stopBots()
	for _, b := range bots {
		go b.serve(bctx)
	}
	defer func() {
		for _, b := range bots {
			b.close()
		}
	}()
	go m.board(bctx, admin)

	// Server process and database size, every 10 s.
	pid := o.ServerPID
	if pid == 0 {
		if u, err := url.Parse(o.URL); err == nil {
			pid = PIDByPort(u.Port())
		}
	}
	var db *pgx.Conn
	if o.DatabaseURL != "" {
		c, err := pgx.Connect(ctx, o.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("loadtest: database: %w", err)
		}
		db = c
		defer db.Close(context.Background())
	}
	start := time.Now()
	var sampWG sync.WaitGroup
	sampWG.Add(1)
	go func() {
		defer sampWG.Done()
		m.sample(bctx, start, pid, db)
	}()

	// Calls from sipp, at their share of the rate.
	var sippWG sync.WaitGroup
	sippOK, sippFailed := new(int), new(int)
	if r := o.Rate * share["voice"] / total; r > 0 {
		sink, err := listenRTP()
		if err != nil {
			return nil, err
		}
		defer sink.Close()
		go m.countRTP(sink)
		n := int(r * o.Duration.Seconds())
		m.ch("voice").Sent = int64(n)
		sippWG.Add(1)
		go func() {
			defer sippWG.Done()
			ok, failed, err := m.sipp(ctx, r, n, sink.LocalAddr().(*net.UDPAddr).Port)
			*sippOK, *sippFailed = ok, failed
			if err != nil {
				m.fail("voice", "sipp: %v", err)
			}
		}()
	}

	// Text channels from Go at their shares, on one ticker.
	rate := o.Rate * (total - share["voice"]) / total
	var senders sync.WaitGroup
	if rate > 0 {
		var text []string
		var weights []float64
		for _, c := range []string{"chat", "sms", "email"} {
			if share[c] > 0 {
				text = append(text, c)
				weights = append(weights, share[c])
			}
		}
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		credit := make([]float64, len(text))
		n := 0
		last := time.Now()
	send:
		for time.Since(start) < o.Duration {
			select {
			case <-ctx.Done():
				break send
			case <-tick.C:
			}
			// Deterministic weighted round robin: the channel with most credit.
			best := 0
			for i := range text {
				credit[i] += weights[i]
				if credit[i] > credit[best] {
					best = i
				}
			}
			credit[best] -= total - share["voice"]
			n++
			ch, i := text[best], n
			senders.Add(1)
			go func() {
				defer senders.Done()
				switch ch {
				case "chat":
					m.chat(ctx, i)
				case "sms":
					m.sms(ctx, tr, i)
				case "email":
					m.email(ctx, i)
				}
			}()
			if time.Since(last) >= 10*time.Second {
				last = time.Now()
				m.mu.Lock()
				line := fmt.Sprintf("%5.0fs", time.Since(start).Seconds())
				for _, c := range Channels {
					x := m.res.Channels[c]
					line += fmt.Sprintf("  %s acked %d closed %d err %d", c, x.Acked, x.Closed, x.Errors)
				}
				m.mu.Unlock()
				m.progress("%s", line)
			}
		}
		tick.Stop()
	}
	sendTime := time.Since(start)
	senders.Wait()
	sippWG.Wait()
	m.mu.Lock()
	m.ch("voice").Acked = int64(*sippOK)
	m.ch("voice").Errors += int64(*sippFailed)
	m.mu.Unlock()
	// Drain: every acknowledged text contact closed, or Drain passes.
	deadline := time.Now().Add(o.Drain)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		done := true
		for _, c := range []string{"chat", "sms", "email"} {
			x := m.res.Channels[c]
			if x.Closed < x.Acked {
				done = false
			}
		}
		m.mu.Unlock()
		if done {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopBots()
	sampWG.Wait()

	m.mu.Lock()
	res := m.res
	res.Elapsed = time.Since(start)
	res.FirstErrors = m.errList
	for _, c := range Channels {
		x := res.Channels[c]
		x.Rate = float64(x.Acked) / sendTime.Seconds()
		x.PopP50, x.PopP99, x.PopMax = percentiles(m.pops[c])
		x.AckP50, x.AckP99, _ = percentiles(m.acks[c])
	}
	expect, msgs := m.expect, m.msgs
	m.mu.Unlock()

	if o.DatabaseURL != "" {
		spec := CheckSpec{Expect: expect, Messages: msgs, Since: since}
		if share["voice"] > 0 {
			spec.Prefixes = map[string]string{"voice": "ltv" + runID + "-"}
		}
		rep, err := Check(ctx, o.DatabaseURL, spec)
		if err != nil {
			return &res, err
		}
		res.Check = &rep
	}
	return &res, nil
}

// noVoice gives the bots a routing profile without voice.
func noVoice(ctx context.Context, dsn, prefix string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("loadtest: database: %w", err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, `INSERT INTO agent_profiles (user_id, routing)
		SELECT id, '{"capacity":{"voice":0}}' FROM users WHERE name LIKE $1
		ON CONFLICT (user_id) DO UPDATE SET routing = EXCLUDED.routing`, prefix+"%")
	if err != nil {
		return fmt.Errorf("loadtest: bot profiles: %w", err)
	}
	return nil
}

func (m *mixed) sample(ctx context.Context, start time.Time, pid int, db *pgx.Conn) {
	var lastCPU float64
	lastAt := time.Now()
	if pid > 0 {
		lastCPU, _ = ProcCPU(pid)
	}
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	take := func() {
		s := Sample{At: time.Since(start)}
		if pid > 0 {
			cpu, _ := ProcCPU(pid)
			now := time.Now()
			s.CPU = (cpu - lastCPU) / now.Sub(lastAt).Seconds()
			lastCPU, lastAt = cpu, now
			s.RSS, _ = ProcRSS(pid)
		}
		if db != nil {
			qctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = db.QueryRow(qctx, `SELECT pg_database_size(current_database())`).Scan(&s.DBBytes)
			cancel()
		}
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			f := strings.Fields(string(b))
			if len(f) >= 3 {
				s.Load = strings.Join(f[:3], " ")
			}
		}
		m.mu.Lock()
		m.res.Samples = append(m.res.Samples, s)
		m.mu.Unlock()
	}
	take()
	for {
		select {
		case <-ctx.Done():
			take()
			return
		case <-tick.C:
			take()
		}
	}
}

// ProcCPU returns the CPU seconds (user + system) process pid has used.
func ProcCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("loadtest: /proc/%d/stat: short", pid)
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

// ProcRSS returns the resident set size of process pid in bytes.
func ProcRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("loadtest: /proc/%d/status: no VmRSS", pid)
}

// PIDByPort finds the process listening on a TCP port (0: not found),
// from /proc/net/tcp{,6} and the processes' socket descriptors.
func PIDByPort(port string) int {
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n")[1:] {
			x := strings.Fields(line)
			if len(x) < 10 || x[3] != "0A" { // LISTEN
				continue
			}
			if i := strings.LastIndexByte(x[1], ':'); i > 0 {
				if lp, err := strconv.ParseInt(x[1][i+1:], 16, 32); err == nil && int(lp) == p {
					inodes["socket:["+x[9]+"]"] = true
				}
			}
		}
	}
	procs, _ := os.ReadDir("/proc")
	for _, pe := range procs {
		pid, err := strconv.Atoi(pe.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", pe.Name(), "fd"))
		for _, fd := range fds {
			l, _ := os.Readlink(filepath.Join("/proc", pe.Name(), "fd", fd.Name()))
			if inodes[l] {
				return pid
			}
		}
	}
	return 0
}

// board keeps a supervisor board websocket open and counts its frames.
func (m *mixed) board(ctx context.Context, s *session) {
	u, _ := url.Parse(s.base)
	d := websocket.Dialer{Jar: s.hc.Jar, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, "ws://"+u.Host+"/ws/supervisor", nil)
	if err != nil {
		m.fail("chat", "supervisor board: %v", err)
		return
	}
	go func() { <-ctx.Done(); ws.Close() }()
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			return
		}
		m.mu.Lock()
		m.res.BoardFrames++
		m.mu.Unlock()
	}
}

func listenRTP() (*net.UDPConn, error) {
	return net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
}

func (m *mixed) countRTP(c *net.UDPConn) {
	buf := make([]byte, 2048)
	for {
		if _, _, err := c.ReadFrom(buf); err != nil {
			return
		}
		m.mu.Lock()
		m.res.HoldRTP++
		m.mu.Unlock()
	}
}

var sippCounter = regexp.MustCompile(`(Successful call|Failed call)\s+\|\s+\d+\s+\|\s+(\d+)`)

// sipp places n calls at rate r; each caller waits CallWait on hold, then
// hangs up. Call-IDs are ltv<run>-<n>-<pid>@host, for the check.
func (m *mixed) sipp(ctx context.Context, r float64, n, rtpPort int) (ok, failed int, err error) {
	scen := m.o.Scenario
	if scen == "" {
		scen = filepath.Join("contact", "voice", "testdata", "caller.xml")
	}
	host, port, err := net.SplitHostPort(m.o.SIPAddr)
	if err != nil {
		return 0, 0, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	dir, err := os.MkdirTemp("", "ltsipp")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	abs, _ := filepath.Abs(scen)
	wait := m.o.CallWait
	if wait <= 0 {
		wait = 3 * time.Second
	}
	args := []string{"-sf", abs, "-i", "127.0.0.1", "-nostdin", "-max_socket", "65000", "-timeout", fmt.Sprint(int(m.o.Duration.Seconds())+120, "s"),
		"-r", strconv.FormatFloat(r, 'f', 2, 64), "-m", strconv.Itoa(n), "-d", strconv.Itoa(int(wait / time.Millisecond)),
		"-cid_str", "ltv" + m.runID + "-%u-%p@%s",
		"-key", "from", "13700000000", "-key", "rtp_port", strconv.Itoa(rtpPort), "-s", "4000", net.JoinHostPort(host, port)}
	cmd := exec.CommandContext(ctx, m.o.Sipp, args...)
	cmd.Dir = dir
	out, runErr := cmd.CombinedOutput()
	for _, x := range sippCounter.FindAllStringSubmatch(string(out), -1) {
		v, _ := strconv.Atoi(x[2])
		if x[1] == "Successful call" {
			ok = v
		} else {
			failed = v
		}
	}
	if ok == 0 && runErr != nil {
		return ok, failed, fmt.Errorf("%v: %s", runErr, tailString(string(out), 500))
	}
	return ok, failed, nil
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (m *mixed) arrived(ch, key string) time.Time {
	now := time.Now()
	m.mu.Lock()
	if key != "" {
		m.t0[key] = now
	}
	m.res.Channels[ch].Sent++
	m.mu.Unlock()
	return now
}

func (m *mixed) acked(ch string, e Expected, t0 time.Time) {
	m.mu.Lock()
	m.res.Channels[ch].Acked++
	m.acks[ch] = append(m.acks[ch], time.Since(t0))
	m.expect = append(m.expect, e)
	m.mu.Unlock()
}

// chat: a visitor opens a session (from its own loopback address, as the
// server limits sessions per client IP), says one thing, waits for the
// agent's reply and ends the chat.
func (m *mixed) chat(ctx context.Context, i int) {
	ip := net.IPv4(127, byte(1+i>>16), byte(i>>8), byte(i))
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	vid := fmt.Sprintf("lt%s-%d", m.runID, i)
	t0 := m.arrived("chat", "")
	body, _ := json.Marshal(map[string]string{"visitor_id": vid, "name": "Load visitor " + strconv.Itoa(i)})
	resp, err := hc.Post(m.o.URL+"/chat/session", "application/json", strings.NewReader(string(body)))
	if err != nil {
		m.fail("chat", "session: %v", err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		m.fail("chat", "session: %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		return
	}
	var sess struct {
		Token     string `json:"token"`
		ContactID int64  `json:"contact_id"`
	}
	if err := json.Unmarshal(b, &sess); err != nil || sess.ContactID == 0 {
		m.fail("chat", "session answer %s", b)
		return
	}
	m.acked("chat", Expected{Channel: "chat", ContactID: sess.ContactID}, t0)
	m.mu.Lock()
	if at, ok := m.early[sess.ContactID]; ok { // the offer came first
		m.pops["chat"] = append(m.pops["chat"], at.Sub(t0))
		delete(m.early, sess.ContactID)
	} else {
		m.t0["cid:"+strconv.FormatInt(sess.ContactID, 10)] = t0
	}
	m.mu.Unlock()
	u, _ := url.Parse(m.o.URL)
	wd := websocket.Dialer{NetDialContext: dialer.DialContext, HandshakeTimeout: 10 * time.Second}
	ws, _, err := wd.DialContext(ctx, "ws://"+u.Host+"/ws/chat?token="+url.QueryEscape(sess.Token), nil)
	if err != nil {
		m.fail("chat", "ws: %v", err)
		return
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "message", "data": map[string]string{"client_id": "c1", "body": "Hello, load test " + vid}}); err != nil {
		m.fail("chat", "send: %v", err)
		return
	}
	deadline := time.Now().Add(m.o.Drain)
	for {
		_ = ws.SetReadDeadline(deadline)
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			m.fail("chat", "contact %d: read: %v", sess.ContactID, err)
			return
		}
		switch f.Type {
		case "ack":
			var a struct {
				ID int64 `json:"id"`
			}
			_ = json.Unmarshal(f.Data, &a)
			m.mu.Lock()
			m.msgs = append(m.msgs, a.ID)
			m.mu.Unlock()
		case "error":
			m.fail("chat", "contact %d: error frame %s", sess.ContactID, f.Data)
		case "message":
			var msg struct {
				Direction string `json:"direction"`
			}
			_ = json.Unmarshal(f.Data, &msg)
			if msg.Direction == "outbound" {
				_ = ws.WriteJSON(map[string]any{"type": "end", "data": map[string]any{}})
				return
			}
		case "ended":
			return
		}
	}
}

// sms: a signed Twilio-style webhook from a fresh number.
func (m *mixed) sms(ctx context.Context, tr http.RoundTripper, i int) {
	sid := fmt.Sprintf("SMlt%s%08d", m.runID, i)
	form := url.Values{"MessageSid": {sid}, "AccountSid": {m.o.SMSAccountSID}, "From": {fmt.Sprintf("+86138%03d%05d", m.seed, i%100000)},
		"To": {m.o.SMSNumber}, "Body": {"Load test SMS " + strconv.Itoa(i)}, "NumMedia": {"0"}}
	t0 := m.arrived("sms", sid)
	code, err := PostTwilio(ctx, &http.Client{Transport: tr, Timeout: 30 * time.Second}, m.o.SMSURL, m.o.SMSAuthToken, form)
	if err != nil || code != 200 {
		m.fail("sms", "%s: %d %v", sid, code, err)
		return
	}
	m.acked("sms", Expected{Channel: "sms", ExternalID: sid}, t0)
}

// PostTwilio posts a Twilio-signed form and returns the status code.
func PostTwilio(ctx context.Context, hc *http.Client, u, token string, form url.Values) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sms.TwilioSignature(token, u, form))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// email: one message over SMTP from a fresh sender.
func (m *mixed) email(ctx context.Context, i int) {
	id := fmt.Sprintf("lt%s-%d@load.example.net", m.runID, i)
	from := fmt.Sprintf("customer%s-%d@load.example.net", m.runID, i)
	t0 := m.arrived("email", id)
	if err := SendMail(m.o.SMTPAddr, from, "support@example.com", id, "Load test "+strconv.Itoa(i), "Hello, this is load test message "+strconv.Itoa(i)); err != nil {
		m.fail("email", "%s: %v", id, err)
		return
	}
	m.acked("email", Expected{Channel: "email", ExternalID: id}, t0)
}

// SendMail sends one plain-text message with the given Message-ID (no
// angle brackets) over SMTP without authentication.
func SendMail(addr, from, to, messageID, subject, body string) error {
	msg := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		from, to, subject, messageID, time.Now().Format(time.RFC1123Z), body)
	return smtp.SendMail(addr, nil, from, []string{to}, []byte(msg))
}

// mbot is an agent bot of the mixed load: accepts every offer, replies
// once on text channels, keeps the contact Hold, wraps up.
type mbot struct {
	m  *mixed
	s  *session
	ws *websocket.Conn
}

func (b *mbot) connect(ctx context.Context, name string) error {
	ws, err := agentSocket(ctx, b.s, name)
	b.ws = ws
	return err
}

func (b *mbot) close() {
	if b != nil && b.ws != nil {
		b.ws.Close()
	}
}

func (b *mbot) serve(ctx context.Context) {
	for {
		var f frame
		if err := b.ws.ReadJSON(&f); err != nil {
			return
		}
		if f.Type != "offer" {
			continue
		}
		now := time.Now()
		var o offer
		if err := json.Unmarshal(f.Data, &o); err != nil {
			b.m.fail("chat", "offer frame: %v", err)
			continue
		}
		m := b.m
		ch := o.Contact.Channel
		m.mu.Lock()
		x := m.res.Channels[ch]
		if x == nil {
			m.mu.Unlock()
			continue
		}
		x.Offered++
		key := o.Contact.ExternalID
		if ch == "chat" {
			key = "cid:" + strconv.FormatInt(o.Contact.ID, 10)
		}
		if t0, ok := m.t0[key]; ok {
			m.pops[ch] = append(m.pops[ch], now.Sub(t0))
			delete(m.t0, key)
		} else if ch == "chat" && !m.taken[o.Contact.ID] {
			if _, seen := m.early[o.Contact.ID]; !seen {
				m.early[o.Contact.ID] = now
			}
		}
		if m.taken[o.Contact.ID] {
			m.res.Duplicates++
		}
		m.mu.Unlock()
		go b.handle(ctx, o)
	}
}

func (b *mbot) handle(ctx context.Context, o offer) {
	m, ch := b.m, o.Contact.Channel
	if _, err := b.s.call(ctx, "POST", fmt.Sprintf("/api/v1/offers/%d/accept", o.OfferID), nil, nil); err != nil {
		if ctx.Err() == nil {
			m.fail(ch, "accept: %v", err)
		}
		return
	}
	m.mu.Lock()
	m.res.Channels[ch].Accepted++
	m.taken[o.Contact.ID] = true
	m.mu.Unlock()
	if ch != "voice" {
		if _, err := b.s.call(ctx, "POST", fmt.Sprintf("/api/v1/contacts/%d/messages", o.Contact.ID), map[string]string{"body": "Thanks, we are on it."}, nil); err != nil {
			if ctx.Err() == nil {
				m.fail(ch, "reply: %v", err)
			}
		} else {
			m.mu.Lock()
			m.res.Channels[ch].Replied++
			m.mu.Unlock()
		}
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(m.o.Hold):
	}
	if _, err := b.s.call(ctx, "POST", fmt.Sprintf("/api/v1/contacts/%d/wrapup", o.Contact.ID), map[string]string{"disposition": "resolved"}, nil); err != nil {
		if ctx.Err() == nil {
			m.fail(ch, "wrap-up: %v", err)
		}
		return
	}
	m.mu.Lock()
	m.res.Channels[ch].Closed++
	m.mu.Unlock()
}
