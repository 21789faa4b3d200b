// Package loadtest drives a running ContactHub over its public interfaces,
// like real integrations and agents would: contacts created over the REST
// API at a fixed rate, and agent bots on websockets that accept every offer
// and wrap up. It measures arrival → screen-pop latency as an agent sees it.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Options of a desk load run.
type Options struct {
	URL      string        // server base URL, e.g. http://127.0.0.1:8080
	Admin    string        // name:password of an admin (provisions bots)
	Agents   int           // agent bots on websockets
	Rate     float64       // contacts per second
	Duration time.Duration // how long to send
	Hold     time.Duration // how long a bot keeps a contact before wrap-up
	Channel  string        // channel of the created contacts (default chat)
	Prefix   string        // bot user names: prefix1..prefixN (default "bot")
	Progress io.Writer     // progress lines; nil: none
}

// Result of a run.
type Result struct {
	Sent, Created, Offered, Accepted, Closed int64
	Errors                                   int64
	SendP50, SendP99                         time.Duration // POST /contacts latency
	PopP50, PopP99, PopMax                   time.Duration // arrival → screen-pop frame
	Duplicates                               int64         // offers for a contact already accepted
	Elapsed                                  time.Duration
	FirstErrors                              []string
}

func (r Result) String() string {
	return fmt.Sprintf("sent %d created %d offered %d accepted %d closed %d errors %d duplicates %d\n"+
		"create latency p50 %v p99 %v; arrival→screen-pop p50 %v p99 %v max %v; elapsed %v",
		r.Sent, r.Created, r.Offered, r.Accepted, r.Closed, r.Errors, r.Duplicates,
		r.SendP50, r.SendP99, r.PopP50, r.PopP99, r.PopMax, r.Elapsed.Round(time.Millisecond))
}

type run struct {
	o       Options
	hc      *http.Client
	mu      sync.Mutex
	t0      map[string]time.Time // external id → send time
	pops    []time.Duration
	sends   []time.Duration
	taken   map[int64]bool
	res     Result
	errs    atomic.Int64
	errList []string
}

func (r *run) fail(format string, a ...any) {
	r.errs.Add(1)
	r.mu.Lock()
	if len(r.errList) < 10 {
		r.errList = append(r.errList, fmt.Sprintf(format, a...))
	}
	r.mu.Unlock()
}

func (r *run) progress(format string, a ...any) {
	if r.o.Progress != nil {
		fmt.Fprintf(r.o.Progress, format+"\n", a...)
	}
}

// session is a logged-in HTTP client.
type session struct {
	base string
	hc   *http.Client
}

func newSession(base string, tr http.RoundTripper) *session {
	jar, _ := cookiejar.New(nil)
	return &session{base: base, hc: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second}}
}

func (s *session) call(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

func (s *session) login(ctx context.Context, name, pw string) error {
	_, err := s.call(ctx, "POST", "/api/v1/login", map[string]string{"name": name, "password": pw}, nil)
	return err
}

const botPassword = "loadtest-bot-pw"

// Desk runs the desk load: bots log in and go available, contacts arrive
// at Rate for Duration, bots accept every offer and wrap up after Hold.
func Desk(ctx context.Context, o Options) (Result, error) {
	if o.Channel == "" {
		o.Channel = "chat"
	}
	if o.Prefix == "" {
		o.Prefix = "bot"
	}
	tr := &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 2000, IdleConnTimeout: time.Minute}
	r := &run{o: o, t0: map[string]time.Time{}, taken: map[int64]bool{}}
	admin := newSession(o.URL, tr)
	name, pw, _ := strings.Cut(o.Admin, ":")
	if err := admin.login(ctx, name, pw); err != nil {
		return Result{}, fmt.Errorf("loadtest: admin login: %w", err)
	}
	var bulk struct{ Created int64 }
	if _, err := admin.call(ctx, "POST", "/api/v1/users/bulk", map[string]any{"prefix": o.Prefix, "count": o.Agents, "role": "agent", "password": botPassword}, &bulk); err != nil {
		return Result{}, fmt.Errorf("loadtest: provision bots: %w", err)
	}
	r.progress("provisioned %d new bot users", bulk.Created)

	// Log bots in and connect their sockets, a few at a time.
	bots := make([]*bot, o.Agents)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var loginErr atomic.Value
	start := time.Now()
	for i := range bots {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			b := &bot{r: r, s: newSession(o.URL, tr)}
			if err := b.connect(ctx, fmt.Sprintf("%s%d", o.Prefix, i+1)); err != nil {
				loginErr.Store(err)
				return
			}
			bots[i] = b
		}(i)
	}
	wg.Wait()
	if err, _ := loginErr.Load().(error); err != nil {
		return Result{}, fmt.Errorf("loadtest: bots: %w", err)
	}
	r.progress("%d bots connected and available in %v", o.Agents, time.Since(start).Round(time.Millisecond))
	for _, b := range bots {
		go b.serve(ctx)
	}

	// Send at a fixed rate.
	sendStart := time.Now()
	interval := time.Duration(float64(time.Second) / o.Rate)
	tick := time.NewTicker(interval)
	var senders sync.WaitGroup
	n := 0
	runID := time.Now().UnixNano()
	lastReport := time.Now()
	for time.Since(sendStart) < o.Duration {
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-tick.C:
		}
		n++
		ext := fmt.Sprintf("lt-%d-%d", runID, n)
		senders.Add(1)
		go func(i int) {
			defer senders.Done()
			r.send(ctx, admin, ext, i)
		}(n)
		if time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			r.mu.Lock()
			r.progress("%5.0fs sent %d offered %d accepted %d closed %d errors %d",
				time.Since(sendStart).Seconds(), n, r.res.Offered, r.res.Accepted, r.res.Closed, r.errs.Load())
			r.mu.Unlock()
		}
	}
	tick.Stop()
	senders.Wait()
	// Drain: wait until every created contact is closed or 30 s pass.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		done := r.res.Closed >= r.res.Created
		r.mu.Unlock()
		if done {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	res.Sent = int64(n)
	res.Errors = r.errs.Load()
	res.Elapsed = time.Since(sendStart)
	res.SendP50, res.SendP99, _ = percentiles(r.sends)
	res.PopP50, res.PopP99, res.PopMax = percentiles(r.pops)
	res.FirstErrors = r.errList
	for _, b := range bots {
		b.close()
	}
	return res, nil
}

func (r *run) send(ctx context.Context, s *session, ext string, i int) {
	body := map[string]any{"channel": r.o.Channel, "external_id": ext,
		"from": map[string]string{"kind": "chat", "value": fmt.Sprintf("load-visitor-%d", i)}, "message": "load test message"}
	if r.o.Channel == "voice" || r.o.Channel == "sms" {
		body["from"] = map[string]string{"kind": "phone", "value": fmt.Sprintf("+86139%08d", i%100000000)}
	}
	t0 := time.Now()
	r.mu.Lock()
	r.t0[ext] = t0
	r.mu.Unlock()
	_, err := s.call(ctx, "POST", "/api/v1/contacts", body, nil)
	d := time.Since(t0)
	r.mu.Lock()
	r.sends = append(r.sends, d)
	if err == nil {
		r.res.Created++
	}
	r.mu.Unlock()
	if err != nil {
		r.fail("create: %v", err)
	}
}

type bot struct {
	r  *run
	s  *session
	ws *websocket.Conn
}

func (b *bot) connect(ctx context.Context, name string) error {
	ws, err := agentSocket(ctx, b.s, name)
	b.ws = ws
	return err
}

// agentSocket logs a bot in, opens its /ws/agent socket and makes it available.
func agentSocket(ctx context.Context, s *session, name string) (*websocket.Conn, error) {
	if err := s.login(ctx, name, botPassword); err != nil {
		return nil, err
	}
	u, _ := url.Parse(s.base)
	d := websocket.Dialer{Jar: s.hc.Jar, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, "ws://"+u.Host+"/ws/agent", nil)
	if err != nil {
		return nil, fmt.Errorf("%s: websocket: %w", name, err)
	}
	if _, err := s.call(ctx, "POST", "/api/v1/agent/state", map[string]string{"state": "available"}, nil); err != nil {
		ws.Close()
		return nil, err
	}
	return ws, nil
}

func (b *bot) close() {
	if b != nil && b.ws != nil {
		b.ws.Close()
	}
}

type frame struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// offer is the part of an offer frame the bots use.
type offer struct {
	OfferID int64 `json:"offer_id"`
	Contact struct {
		ID         int64  `json:"id"`
		Channel    string `json:"channel"`
		ExternalID string `json:"external_id"`
	} `json:"contact"`
}

func (b *bot) serve(ctx context.Context) {
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
			b.r.fail("offer frame: %v", err)
			continue
		}
		r := b.r
		r.mu.Lock()
		r.res.Offered++
		if t0, ok := r.t0[o.Contact.ExternalID]; ok {
			r.pops = append(r.pops, now.Sub(t0))
		}
		dup := r.taken[o.Contact.ID]
		r.mu.Unlock()
		if dup {
			r.mu.Lock()
			r.res.Duplicates++
			r.mu.Unlock()
		}
		go b.handle(ctx, o)
	}
}

func (b *bot) handle(ctx context.Context, o offer) {
	r := b.r
	if _, err := b.s.call(ctx, "POST", fmt.Sprintf("/api/v1/offers/%d/accept", o.OfferID), nil, nil); err != nil {
		r.fail("accept: %v", err)
		return
	}
	r.mu.Lock()
	r.res.Accepted++
	r.taken[o.Contact.ID] = true
	r.mu.Unlock()
	time.Sleep(r.o.Hold)
	if _, err := b.s.call(ctx, "POST", fmt.Sprintf("/api/v1/contacts/%d/wrapup", o.Contact.ID),
		map[string]string{"disposition": "resolved"}, nil); err != nil {
		r.fail("wrap-up: %v", err)
		return
	}
	r.mu.Lock()
	r.res.Closed++
	r.mu.Unlock()
}

func percentiles(ds []time.Duration) (p50, p99, max time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))] }
	return at(0.50), at(0.99), s[len(s)-1]
}
