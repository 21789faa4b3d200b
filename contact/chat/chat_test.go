package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/demo"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/gorilla/websocket"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var testSecret = []byte("test-secret-0123456789abcdef")

type env struct {
	r   *desktest.Rig
	a   *Adapter
	srv *httptest.Server
	ws  string // ws://host/ws/chat
}

func newEnv(t testing.TB, agents int, mod func(*Config)) *env {
	t.Helper()
	r := desktest.New(t, agents)
	cfg := Config{Desk: r.Desk, Messages: r.Store, Secret: testSecret}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Desk.Register(contact.Chat, a)
	srv := httptest.NewServer(a.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	go a.Run(ctx)
	t.Cleanup(func() { cancel(); srv.Close() })
	return &env{r: r, a: a, srv: srv, ws: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat"}
}

func (e *env) session(t testing.TB, body map[string]string) sessionResponse {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.srv.URL+"/chat/session", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var m map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&m)
		t.Fatalf("session: %d %v", resp.StatusCode, m)
	}
	var s sessionResponse
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// wsc is a visitor websocket client for tests.
type wsc struct {
	t  testing.TB
	c  *websocket.Conn
	in chan in
}

type in struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
	err  error
}

func (e *env) dial(t testing.TB, token string, after int64) *wsc {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s?token=%s&after=%d", e.ws, token, after), nil)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, code)
	}
	return wrap(t, c)
}

func wrap(t testing.TB, c *websocket.Conn) *wsc {
	w := &wsc{t: t, c: c, in: make(chan in, 1000)}
	go func() {
		for {
			var f in
			_, b, err := c.ReadMessage()
			if err != nil {
				w.in <- in{err: err}
				close(w.in)
				return
			}
			if err := json.Unmarshal(b, &f); err != nil {
				panic(err)
			}
			w.in <- f
		}
	}()
	t.Cleanup(func() { c.Close() })
	return w
}

func (w *wsc) send(typ string, data any) {
	w.t.Helper()
	if err := w.c.WriteJSON(map[string]any{"type": typ, "data": data}); err != nil {
		w.t.Fatal(err)
	}
}

// next returns the next frame of type typ, skipping others, decoding into v.
func (w *wsc) next(typ string, v any) {
	w.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-w.in:
			if !ok || f.err != nil {
				w.t.Fatalf("waiting for %q: connection closed: %v", typ, f.err)
			}
			if f.Type == typ {
				if v != nil {
					if err := json.Unmarshal(f.Data, v); err != nil {
						w.t.Fatal(err)
					}
				}
				return
			}
		case <-timeout:
			w.t.Fatalf("no %q frame within 10s", typ)
		}
	}
}

// quiet collects every frame of type typ arriving within d.
func (w *wsc) collect(typ string, d time.Duration) []in {
	var out []in
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-w.in:
			if !ok || f.err != nil {
				return out
			}
			if f.Type == typ {
				out = append(out, f)
			}
		case <-timeout:
			return out
		}
	}
}

type ackData struct {
	ClientID string `json:"client_id"`
	ID       int64  `json:"id"`
}

// accept makes agent 0 available and accepts the next offer.
func (e *env) accept(t testing.TB) desktest.Offer {
	t.Helper()
	e.r.Available(t, e.r.Agents[0])
	of := e.r.NextOffer(t, e.r.Agents[0])
	e.r.Accept(t, e.r.Agents[0], of)
	return of
}

func TestSessionIdentity(t *testing.T) {
	e := newEnv(t, 1, nil)
	e.r.SeedDemoCustomers(t, 200)
	s := e.session(t, map[string]string{"name": "Li Wei", "email": demo.LiWei.Email, "queue": "general"})
	if !visitorRE.MatchString(s.VisitorID) || s.ContactID == 0 || s.Token == "" {
		t.Fatalf("session %+v", s)
	}
	e.r.Available(t, e.r.Agents[0])
	of := e.r.NextOffer(t, e.r.Agents[0])
	c := of.Contact
	if c.ID != s.ContactID || c.Channel != contact.Chat || c.From.Kind != contact.EmailAddr || c.From.Value != demo.LiWei.Email {
		t.Fatalf("contact %+v", c.Contact)
	}
	if c.Attributes["visitor_id"] != s.VisitorID || c.Attributes["name"] != "Li Wei" {
		t.Fatalf("attributes %v", c.Attributes)
	}
	if of.Profile == nil || of.Profile.Tier != "gold" || of.Profile.Name != demo.LiWei.Name {
		t.Fatalf("profile %+v", of.Profile)
	}

	// A visitor without email or phone is known by the visitor id.
	s2 := e.session(t, map[string]string{"name": "Anon"})
	c2, err := e.r.Desk.Thread(context.Background(), contact.Chat, threadKey(s2.VisitorID))
	if err != nil || c2.ID != s2.ContactID || c2.From.Kind != contact.Visitor || c2.From.Value != s2.VisitorID {
		t.Fatalf("anonymous contact %+v %v", c2, err)
	}
	// The returning visitor with a chat still open resumes it.
	s3 := e.session(t, map[string]string{"name": "Anon", "visitor_id": s2.VisitorID})
	if s3.ContactID != s2.ContactID || !s3.Resumed {
		t.Fatalf("resume %+v, want contact %d", s3, s2.ContactID)
	}
}

func TestSessionValidation(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.RequireEmail = true })
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"no name", `{"email":"a@b.example"}`, 400},
		{"email required", `{"name":"A"}`, 400},
		{"bad email", `{"name":"A","email":"<x>"}`, 400},
		{"bad phone", `{"name":"A","email":"a@b.example","phone":"call me"}`, 400},
		{"bad queue", `{"name":"A","email":"a@b.example","queue":"../x"}`, 400},
		{"not json", `nope`, 400},
		{"ok", `{"name":"A","email":"a@b.example"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(e.srv.URL+"/chat/session", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
		})
	}
}

func TestMessagePersistedBeforeAck(t *testing.T) {
	e := newEnv(t, 1, nil)
	s := e.session(t, map[string]string{"name": "Ann"})
	w := e.dial(t, s.Token, 0)
	var wel struct {
		ContactID contact.ID `json:"contact_id"`
		State     string     `json:"state"`
	}
	w.next("welcome", &wel)
	if wel.ContactID != s.ContactID || wel.State != "waiting" {
		t.Fatalf("welcome %+v", wel)
	}
	w.send("message", map[string]string{"client_id": "m1", "body": "  hello <b>there</b> "})
	var ack ackData
	w.next("ack", &ack)
	// Acknowledged means stored: read it back without waiting.
	msgs, err := e.r.Store.Messages(context.Background(), s.ContactID, 0)
	if err != nil || len(msgs) != 1 || msgs[0].ID != ack.ID || msgs[0].Body != "hello <b>there</b>" ||
		msgs[0].ExternalID != "m1" || msgs[0].Direction != contact.Inbound {
		t.Fatalf("ack %+v, stored %+v %v", ack, msgs, err)
	}
	// A resend with the same client id is not stored twice.
	w.send("message", map[string]string{"client_id": "m1", "body": "hello <b>there</b>"})
	var ack2 ackData
	w.next("ack", &ack2)
	msgs, _ = e.r.Store.Messages(context.Background(), s.ContactID, 0)
	if ack2.ID != ack.ID || len(msgs) != 1 {
		t.Fatalf("resend: ack %+v, %d stored", ack2, len(msgs))
	}
}

func TestAgentReplyDelivered(t *testing.T) {
	e := newEnv(t, 1, nil)
	s := e.session(t, map[string]string{"name": "Ann"})
	w := e.dial(t, s.Token, 0)
	w.next("welcome", nil)
	of := e.accept(t)
	var joined map[string]string
	w.next("agent_joined", &joined)
	if joined["name"] != "Agent 1" {
		t.Fatalf("joined %v", joined)
	}
	ag := e.r.Agents[0]
	w.send("message", map[string]string{"client_id": "a", "body": "my order is late"})
	w.next("ack", nil)
	var pushed struct {
		Message contact.Message `json:"message"`
	}
	if err := json.Unmarshal(e.r.Rec.Next(t, ag, "message"), &pushed); err != nil || pushed.Message.Body != "my order is late" {
		t.Fatalf("agent got %+v %v", pushed, err)
	}
	m, err := e.r.Desk.Reply(context.Background(), ag, of.Contact.ID, "Let me check <script>x</script>")
	if err != nil {
		t.Fatal(err)
	}
	var got msgOut
	w.next("message", &got)
	if got.ID != m.ID || got.Body != "Let me check <script>x</script>" || got.Direction != contact.Outbound || got.Agent != "Agent 1" {
		t.Fatalf("delivered %+v", got)
	}
}

func TestResumeExactlyOnceInOrder(t *testing.T) {
	e := newEnv(t, 1, nil)
	s := e.session(t, map[string]string{"name": "Ann"})
	of := e.accept(t)
	ctx, ag := context.Background(), e.r.Agents[0]
	w := e.dial(t, s.Token, 0)
	w.next("welcome", nil)
	var last int64
	for i := range 3 {
		if _, err := e.r.Desk.Reply(ctx, ag, of.Contact.ID, fmt.Sprintf("online %d", i)); err != nil {
			t.Fatal(err)
		}
		var m msgOut
		w.next("message", &m)
		last = max(last, m.ID)
	}
	w.c.Close()
	// While the visitor is away the agent writes; the adapter may be called
	// with no socket to deliver to.
	var missed []int64
	for i := range 5 {
		m, err := e.r.Desk.Reply(ctx, ag, of.Contact.ID, fmt.Sprintf("offline %d", i))
		if err != nil {
			t.Fatal(err)
		}
		missed = append(missed, m.ID)
	}
	time.Sleep(100 * time.Millisecond) // let the desk's deliveries run against no socket
	// Reconnect while the agent keeps writing: nothing twice, nothing lost.
	var live []int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 10 {
			m, err := e.r.Desk.Reply(ctx, ag, of.Contact.ID, fmt.Sprintf("live %d", i))
			if err != nil {
				t.Error(err)
				return
			}
			live = append(live, m.ID)
		}
	}()
	w2 := e.dial(t, s.Token, last)
	w2.next("welcome", nil)
	wg.Wait()
	frames := w2.collect("message", time.Second)
	var got []int64
	seen := map[int64]bool{}
	for _, f := range frames {
		var m msgOut
		_ = json.Unmarshal(f.Data, &m)
		if seen[m.ID] {
			t.Fatalf("message %d delivered twice", m.ID)
		}
		seen[m.ID] = true
		got = append(got, m.ID)
	}
	want := append(append([]int64{}, missed...), live...)
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// The missed ones come first, in order (history); live ones follow
	// (the desk delivers each reply on its own goroutine, so the widget
	// orders live messages by id).
	for i, id := range missed {
		if got[i] != id {
			t.Fatalf("resumed %v, want %v first", got, missed)
		}
	}
	for _, id := range live {
		if !seen[id] {
			t.Fatalf("live message %d lost: got %v", id, got)
		}
	}
}

func TestInvalidFramesKeepConnection(t *testing.T) {
	e := newEnv(t, 1, nil)
	s := e.session(t, map[string]string{"name": "Ann"})
	w := e.dial(t, s.Token, 0)
	w.next("welcome", nil)
	for _, raw := range []string{"not json", `{"data":{}}`, `[1,2]`, "\xff\xfe"} {
		if err := w.c.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		var ed errData
		w.next("error", &ed)
		if ed.Code != "invalid_frame" {
			t.Fatalf("%q: error %+v", raw, ed)
		}
	}
	w.send("bogus", nil)
	var ed errData
	w.next("error", &ed)
	if ed.Code != "unknown_type" {
		t.Fatalf("unknown type: %+v", ed)
	}
	w.send("message", map[string]any{"client_id": 5})
	w.next("error", &ed)
	if ed.Code != "invalid" {
		t.Fatalf("bad data: %+v", ed)
	}
	w.send("message", map[string]string{"client_id": "x", "body": "still here"})
	w.next("ack", nil)
}

func TestOversize(t *testing.T) {
	e := newEnv(t, 1, nil)
	s := e.session(t, map[string]string{"name": "Ann"})
	w := e.dial(t, s.Token, 0)
	w.next("welcome", nil)
	w.send("message", map[string]string{"client_id": "big", "body": strings.Repeat("x", DefaultMaxMessageBytes+1)})
	var ed errData
	w.next("error", &ed)
	if ed.Code != "too_large" || ed.ClientID != "big" {
		t.Fatalf("error %+v", ed)
	}
	w.send("message", map[string]string{"client_id": "ok", "body": strings.Repeat("y", DefaultMaxMessageBytes)})
	w.next("ack", nil)
	// A frame over the read limit closes the socket (1009).
	w.send("message", map[string]string{"client_id": "huge", "body": strings.Repeat("z", readLimit)})
	for f := range w.in {
		if f.err != nil {
			if !websocket.IsCloseError(f.err, websocket.CloseMessageTooBig) {
				t.Fatalf("closed with %v, want 1009", f.err)
			}
			return
		}
	}
}

func TestRateLimit(t *testing.T) {
	t.Run("visitor", func(t *testing.T) {
		e := newEnv(t, 1, func(c *Config) { c.VisitorRate = Rate{Per: 0.01, Burst: 3} })
		s := e.session(t, map[string]string{"name": "Ann"})
		w := e.dial(t, s.Token, 0)
		w.next("welcome", nil)
		for i := range 3 {
			w.send("message", map[string]string{"client_id": fmt.Sprint(i), "body": "hi"})
			w.next("ack", nil)
		}
		w.send("message", map[string]string{"client_id": "4", "body": "hi"})
		var ed errData
		w.next("error", &ed)
		if ed.Code != "rate_limited" || ed.ClientID != "4" || ed.Message == "" {
			t.Fatalf("error %+v", ed)
		}
		// The same visitor in a second tab shares the budget.
		w2 := e.dial(t, s.Token, 0)
		w2.next("welcome", nil)
		w2.send("message", map[string]string{"client_id": "5", "body": "hi"})
		w2.next("error", &ed)
		if ed.Code != "rate_limited" {
			t.Fatalf("second tab: %+v", ed)
		}
	})
	t.Run("ip", func(t *testing.T) {
		e := newEnv(t, 1, func(c *Config) { c.IPRate = Rate{Per: 0.01, Burst: 2} })
		var ed errData
		for i := range 3 {
			s := e.session(t, map[string]string{"name": fmt.Sprint("V", i)})
			w := e.dial(t, s.Token, 0)
			w.next("welcome", nil)
			w.send("message", map[string]string{"client_id": "x", "body": "hi"})
			if i < 2 {
				w.next("ack", nil)
				continue
			}
			w.next("error", &ed)
			if ed.Code != "rate_limited" {
				t.Fatalf("third visitor from one IP: %+v", ed)
			}
		}
	})
	t.Run("sessions", func(t *testing.T) {
		e := newEnv(t, 1, func(c *Config) { c.SessionRate = Rate{Per: 0.01, Burst: 2} })
		e.session(t, map[string]string{"name": "A"})
		e.session(t, map[string]string{"name": "B"})
		resp, err := http.Post(e.srv.URL+"/chat/session", "application/json", strings.NewReader(`{"name":"C"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", resp.StatusCode)
		}
	})
}

func TestBadTokenRefused(t *testing.T) {
	e := newEnv(t, 1, nil)
	s := e.session(t, map[string]string{"name": "Ann"})
	payload, mac, _ := strings.Cut(s.Token, ".")
	forgedClaims := claims{Visitor: s.VisitorID, Contact: s.ContactID + 1, Expires: time.Now().Add(time.Hour).Unix()}
	for name, tok := range map[string]string{
		"garbage":       "abc",
		"other secret":  sign([]byte("another-secret-entirely"), claims{Visitor: s.VisitorID, Contact: s.ContactID, Expires: time.Now().Add(time.Hour).Unix()}),
		"forged claims": b64.EncodeToString(mustJSON(forgedClaims)) + "." + mac,
		"bad mac":       payload + "." + b64.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
		"expired":       sign(testSecret, claims{Visitor: s.VisitorID, Contact: s.ContactID, Expires: time.Now().Add(-time.Minute).Unix()}),
	} {
		t.Run(name, func(t *testing.T) {
			_, resp, err := websocket.DefaultDialer.Dial(e.ws+"?token="+tok, nil)
			if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("dial: %v %v, want 401", err, resp)
			}
		})
	}
	t.Run("auth frame", func(t *testing.T) {
		c, _, err := websocket.DefaultDialer.Dial(e.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		w := wrap(t, c)
		w.send("auth", map[string]any{"token": "forged.token"})
		f := <-w.in
		if !websocket.IsCloseError(f.err, closeUnauthorized) {
			t.Fatalf("got %+v, want close 4401", f)
		}
		c2, _, err := websocket.DefaultDialer.Dial(e.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		w2 := wrap(t, c2)
		w2.send("auth", map[string]any{"token": s.Token})
		w2.next("welcome", nil)
	})
}

func TestEndAndCSAT(t *testing.T) {
	ctx := context.Background()
	t.Run("customer ends", func(t *testing.T) {
		e := newEnv(t, 1, nil)
		s := e.session(t, map[string]string{"name": "Ann"})
		e.accept(t)
		w := e.dial(t, s.Token, 0)
		w.next("welcome", nil)
		w.send("feedback", map[string]any{"csat": 5})
		var ed errData
		w.next("error", &ed)
		if ed.Code != "not_ended" {
			t.Fatalf("feedback before end: %+v", ed)
		}
		w.send("end", nil)
		var by map[string]string
		w.next("ended", &by)
		if by["by"] != "customer" {
			t.Fatalf("ended %v", by)
		}
		c, err := e.r.Store.ContactByID(ctx, s.ContactID)
		if err != nil || c.State != contact.WrapUp {
			t.Fatalf("contact %v %v, want wrapup", c.State, err)
		}
		w.send("message", map[string]string{"client_id": "late", "body": "hello?"})
		w.next("error", &ed)
		if ed.Code != "ended" {
			t.Fatalf("message after end: %+v", ed)
		}
		w.send("feedback", map[string]any{"csat": 9})
		w.next("error", &ed)
		if ed.Code != "invalid" {
			t.Fatalf("csat 9: %+v", ed)
		}
		w.send("feedback", map[string]any{"csat": 4, "comment": "quick <b>help</b>"})
		w.next("feedback_ok", nil)
		var csat int
		var comment string
		if err := e.r.Store.Pool.QueryRow(ctx, `SELECT csat, comment FROM feedback WHERE contact_id = $1`, s.ContactID).Scan(&csat, &comment); err != nil || csat != 4 || comment != "quick <b>help</b>" {
			t.Fatalf("feedback row %d %q %v", csat, comment, err)
		}
		w.send("feedback", map[string]any{"csat": 1})
		w.next("error", &ed)
		if ed.Code != "already_rated" {
			t.Fatalf("second rating: %+v", ed)
		}
	})
	t.Run("agent ends", func(t *testing.T) {
		var mu sync.Mutex
		var sent []string
		e := newEnv(t, 1, func(c *Config) {
			c.SendTranscript = func(_ context.Context, to, subject, body string) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, to, subject, body)
				return nil
			}
		})
		s := e.session(t, map[string]string{"name": "Ann", "email": "ann@example.org"})
		of := e.accept(t)
		w := e.dial(t, s.Token, 0)
		w.next("welcome", nil)
		w.send("message", map[string]string{"client_id": "1", "body": "thanks, bye"})
		w.next("ack", nil)
		if _, err := e.r.Desk.End(ctx, e.r.Agents[0], of.Contact.ID); err != nil {
			t.Fatal(err)
		}
		var by map[string]string
		w.next("ended", &by)
		if by["by"] != "agent" {
			t.Fatalf("ended %v", by)
		}
		// A reload after the end goes straight to the rating.
		w2 := e.dial(t, s.Token, 0)
		var wel map[string]any
		w2.next("welcome", &wel)
		if wel["state"] != "ended" || wel["transcript"] != true {
			t.Fatalf("welcome after end %v", wel)
		}
		w2.send("feedback", map[string]any{"csat": 2})
		w2.next("feedback_ok", nil)
		w.next("feedback_ok", nil) // every tab moves on
		w2.send("transcript", nil)
		w2.next("transcript_sent", nil)
		mu.Lock()
		defer mu.Unlock()
		if len(sent) != 3 || sent[0] != "ann@example.org" || !strings.Contains(sent[2], "Ann: thanks, bye") {
			t.Fatalf("transcript %q", sent)
		}
	})
	t.Run("customer leaves the queue", func(t *testing.T) {
		e := newEnv(t, 1, nil)
		s := e.session(t, map[string]string{"name": "Ann"})
		w := e.dial(t, s.Token, 0)
		w.next("welcome", nil)
		w.send("end", nil)
		w.next("ended", nil)
		c, err := e.r.Store.ContactByID(ctx, s.ContactID)
		if err != nil || c.State != contact.Abandoned {
			t.Fatalf("contact %v %v, want abandoned", c.State, err)
		}
		// The next session of the same visitor is a new contact.
		s2 := e.session(t, map[string]string{"name": "Ann", "visitor_id": s.VisitorID})
		if s2.ContactID == s.ContactID || s2.VisitorID != s.VisitorID {
			t.Fatalf("new session %+v after %+v", s2, s)
		}
	})
}

func TestTypingReceiptsQueue(t *testing.T) {
	typing := make(chan contact.ID, 10)
	receipts := make(chan string, 10)
	e := newEnv(t, 1, func(c *Config) {
		c.OnTyping = func(id contact.ID) { typing <- id }
		c.OnReceipt = func(id contact.ID, m int64, status string) { receipts <- fmt.Sprint(id, m, status) }
		c.Position = func(contact.ID) (int, time.Duration, bool) { return 3, 95 * time.Second, true }
	})
	s := e.session(t, map[string]string{"name": "Ann"})
	w := e.dial(t, s.Token, 0)
	w.next("welcome", nil)
	var q map[string]int
	w.next("queue", &q)
	if q["position"] != 3 || q["eta_seconds"] != 95 {
		t.Fatalf("queue %v", q)
	}
	w.send("typing", nil)
	w.send("typing", nil) // throttled
	if id := <-typing; id != s.ContactID {
		t.Fatalf("typing for %d", id)
	}
	of := e.accept(t)
	e.a.AgentTyping(of.Contact.ID)
	w.next("typing", nil)
	w.send("message", map[string]string{"client_id": "1", "body": "hi"})
	var ack ackData
	w.next("ack", &ack)
	e.a.MarkRead(of.Contact.ID, ack.ID)
	var rc map[string]any
	w.next("receipt", &rc)
	if rc["status"] != "read" || int64(rc["message_id"].(float64)) != ack.ID {
		t.Fatalf("receipt %v", rc)
	}
	m, err := e.r.Desk.Reply(context.Background(), e.r.Agents[0], of.Contact.ID, "hello")
	if err != nil {
		t.Fatal(err)
	}
	w.next("message", nil)
	w.send("read", map[string]int64{"message_id": m.ID})
	if got, want := <-receipts, fmt.Sprint(s.ContactID, m.ID, "read"); got != want {
		t.Fatalf("receipt %q, want %q", got, want)
	}
	select {
	case id := <-typing:
		t.Fatalf("second typing within a second reached the agent (%d)", id)
	default:
	}
}

func TestOriginAllowList(t *testing.T) {
	e := newEnv(t, 1, func(c *Config) { c.AllowedOrigins = []string{"https://shop.example.com", "https://*.example.org"} })
	post := func(origin string) *http.Response {
		req, _ := http.NewRequest("POST", e.srv.URL+"/chat/session", strings.NewReader(`{"name":"A"}`))
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("https://evil.example"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("evil origin: %d", r.StatusCode)
	}
	r := post("https://shop.example.com")
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
		t.Fatalf("allowed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := post("https://www.example.org"); r.StatusCode != 200 {
		t.Fatalf("wildcard origin: %d", r.StatusCode)
	}
	s := e.session(t, map[string]string{"name": "A"})
	_, resp, err := websocket.DefaultDialer.Dial(e.ws+"?token="+s.Token, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("websocket from evil origin: %v %v", err, resp)
	}
	c, _, err := websocket.DefaultDialer.Dial(e.ws+"?token="+s.Token, http.Header{"Origin": {"https://shop.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"CONTACTHUB_CHAT_SECRET": "0123456789abcdefXYZ", "CONTACTHUB_CHAT_ORIGINS": "https://a.example, https://*.b.example",
		"CONTACTHUB_CHAT_REQUIRE": "email", "CONTACTHUB_CHAT_QUEUE": "sales", "CONTACTHUB_CHAT_MAX_MESSAGE_BYTES": "2000", "CONTACTHUB_CHAT_TOKEN_TTL": "2h"}
	c, err := ConfigFromEnv(Config{}, func(k string) string { return env[k] })
	if err != nil || string(c.Secret) != env["CONTACTHUB_CHAT_SECRET"] || len(c.AllowedOrigins) != 2 || !c.RequireEmail ||
		c.RequirePhone || c.DefaultQueue != "sales" || c.MaxMessageBytes != 2000 || c.TokenTTL != 2*time.Hour {
		t.Fatalf("%+v %v", c, err)
	}
	env["CONTACTHUB_CHAT_SECRET"] = "short"
	if _, err := ConfigFromEnv(Config{}, func(k string) string { return env[k] }); err == nil {
		t.Fatal("short secret accepted")
	}
}
