package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/gorilla/websocket"
)

// fakeDesk records the hub's calls.
type fakeDesk struct {
	mu           sync.Mutex
	connected    []contact.AgentID
	reconnected  []contact.AgentID
	gone         []contact.AgentID
	goneCh       chan contact.AgentID
	msgs         chan string // "agent:type:data"
	reconnectCh  chan contact.AgentID
	connectDelay time.Duration
}

func newFakeDesk() *fakeDesk {
	return &fakeDesk{goneCh: make(chan contact.AgentID, 16), msgs: make(chan string, 16), reconnectCh: make(chan contact.AgentID, 16)}
}

func (d *fakeDesk) AgentConnected(_ context.Context, a AgentInfo) any {
	d.mu.Lock()
	d.connected = append(d.connected, a.ID)
	d.mu.Unlock()
	return map[string]any{"agent": map[string]any{"id": a.ID, "name": a.Name}, "state": "offline", "first": true}
}

func (d *fakeDesk) AgentReconnected(_ context.Context, a AgentInfo) any {
	d.mu.Lock()
	d.reconnected = append(d.reconnected, a.ID)
	d.mu.Unlock()
	d.reconnectCh <- a.ID
	return map[string]any{"agent": map[string]any{"id": a.ID, "name": a.Name}, "state": "available", "first": false}
}

func (d *fakeDesk) AgentGone(_ context.Context, id contact.AgentID) {
	d.mu.Lock()
	d.gone = append(d.gone, id)
	d.mu.Unlock()
	d.goneCh <- id
}

func (d *fakeDesk) AgentMessage(_ context.Context, id contact.AgentID, typ string, data json.RawMessage) {
	d.msgs <- typ + ":" + string(data)
}

func (d *fakeDesk) counts() (conn, reconn, gone int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.connected), len(d.reconnected), len(d.gone)
}

// env starts a hub behind an httptest server; the agent id is the ?agent=
// query parameter.
type env struct {
	t    *testing.T
	hub  *Hub
	desk *fakeDesk
	srv  *httptest.Server
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	d := newFakeDesk()
	h := New(d, nil, o)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = h.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id int64
		for _, ch := range r.URL.Query().Get("agent") {
			id = id*10 + int64(ch-'0')
		}
		h.ServeAgent(w, r, AgentInfo{ID: contact.AgentID(id), Name: "agent" + r.URL.Query().Get("agent")})
	}))
	t.Cleanup(func() {
		cancel()
		select {
		case <-ran:
		case <-time.After(15 * time.Second):
			t.Error("hub Run did not return")
		}
		srv.Close()
	})
	return &env{t: t, hub: h, desk: d, srv: srv}
}

func (e *env) dial(agent string) *websocket.Conn {
	e.t.Helper()
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/?agent=" + agent
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { ws.Close() })
	return ws
}

type rx struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func read(t *testing.T, ws *websocket.Conn) rx {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m rx
	if err := ws.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func readType(t *testing.T, ws *websocket.Conn, typ string) rx {
	t.Helper()
	m := read(t, ws)
	if m.Type != typ {
		t.Fatalf("got frame %q %s, want %q", m.Type, m.Data, typ)
	}
	return m
}

// waitFor polls cond up to a generous timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHelloSendReceive(t *testing.T) {
	e := newEnv(t, Options{})
	ws := e.dial("7")
	hello := readType(t, ws, "hello")
	if !strings.Contains(string(hello.Data), `"first":true`) {
		t.Fatalf("hello data %s", hello.Data)
	}
	if !e.hub.Connected(7) || e.hub.Count() != 1 {
		t.Fatalf("Connected/Count wrong: %v %d", e.hub.Connected(7), e.hub.Count())
	}
	if err := e.hub.Send(7, Envelope{Type: "offer", Data: map[string]any{"offer_id": "o1"}}); err != nil {
		t.Fatal(err)
	}
	m := readType(t, ws, "offer")
	if string(m.Data) != `{"offer_id":"o1"}` {
		t.Fatalf("data %s", m.Data)
	}
	if err := e.hub.Send(8, Envelope{Type: "offer"}); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("send to absent agent: %v", err)
	}
	// client → server
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"typing","data":{"contact_id":3}}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-e.desk.msgs:
		if got != `typing:{"contact_id":3}` {
			t.Fatalf("AgentMessage got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no AgentMessage")
	}
	e.hub.Broadcast(Envelope{Type: "queues", Data: []int{1}})
	readType(t, ws, "queues")
}

func TestInvalidFrameKeepsConnection(t *testing.T) {
	e := newEnv(t, Options{})
	ws := e.dial("1")
	readType(t, ws, "hello")
	for _, bad := range []string{`{not json`, `[1,2]`, `{"data":{}}`, `"typing"`} {
		t.Run(bad, func(t *testing.T) {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(bad)); err != nil {
				t.Fatal(err)
			}
			m := readType(t, ws, "error")
			if string(m.Data) != `{"message":"invalid JSON frame"}` {
				t.Fatalf("error data %s", m.Data)
			}
		})
	}
	if err := e.hub.Send(1, Envelope{Type: "ping_test"}); err != nil {
		t.Fatal(err)
	}
	readType(t, ws, "ping_test")
	select {
	case got := <-e.desk.msgs:
		t.Fatalf("malformed frame reached the handler: %q", got)
	default:
	}
}

func TestOversizeFrameClosesOnlyThatConnection(t *testing.T) {
	e := newEnv(t, Options{ReadLimit: 1024})
	big, small := e.dial("5"), e.dial("5")
	readType(t, big, "hello")
	readType(t, small, "hello")
	payload := `{"type":"typing","data":"` + strings.Repeat("x", 4096) + `"}`
	// The server may close before the whole frame is written: a write error
	// here is the expected outcome too.
	_ = big.WriteMessage(websocket.TextMessage, []byte(payload))
	_ = big.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := big.ReadMessage()
		if err == nil {
			continue
		}
		var netErr interface{ Timeout() bool }
		if errors.As(err, &netErr) && netErr.Timeout() {
			t.Fatalf("oversize frame did not close the connection: %v", err)
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Logf("connection ended without the 1009 close frame: %v", err)
		}
		break
	}
	if err := e.hub.Send(5, Envelope{Type: "still_here"}); err != nil {
		t.Fatal(err)
	}
	readType(t, small, "still_here")
	if !e.hub.Connected(5) {
		t.Fatal("agent should stay connected through the other tab")
	}
}

func TestSlowClientDropped(t *testing.T) {
	e := newEnv(t, Options{SendBuffer: 8})
	slow, fast := e.dial("1"), e.dial("2")
	readType(t, slow, "hello") // and never read again
	readType(t, fast, "hello")

	received := make(chan int, 1)
	var got atomic.Int64 // paces the sender to what the healthy client reads
	go func() {
		n := 0
		defer func() { received <- n }()
		for {
			_ = fast.SetReadDeadline(time.Now().Add(10 * time.Second))
			var m rx
			if err := fast.ReadJSON(&m); err != nil {
				return
			}
			if m.Type == "end" {
				return
			}
			n++
			got.Add(1)
		}
	}()

	blob := strings.Repeat("y", 32<<10) // fills the socket buffers quickly
	sent, dropped := 0, false
	for i := 0; i < 20000 && !dropped; i++ {
		// A healthy client reads as fast as it can; keep it within its
		// buffer so only the client that never reads can fall behind.
		waitFor(t, "healthy client to read", func() bool { return got.Load() >= int64(sent-4) })
		if err := e.hub.Send(2, Envelope{Type: "blob", Data: blob}); err != nil {
			t.Fatalf("healthy client: %v", err)
		}
		sent++
		err := e.hub.Send(1, Envelope{Type: "blob", Data: blob})
		switch {
		case err == nil:
		case errors.Is(err, ErrChannelFull), errors.Is(err, ErrNotConnected):
			dropped = true
		default:
			t.Fatalf("slow client: %v", err)
		}
	}
	if !dropped {
		t.Fatal("slow client never dropped")
	}
	if err := e.hub.Send(2, Envelope{Type: "end"}); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-received:
		if n != sent {
			t.Fatalf("healthy client got %d of %d", n, sent)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("healthy client stalled")
	}
	waitFor(t, "slow client unregistered", func() bool { return !e.hub.Connected(1) })
	if !e.hub.Connected(2) {
		t.Fatal("healthy client was dropped")
	}
}

func TestReconnectWithinGrace(t *testing.T) {
	e := newEnv(t, Options{Grace: 2 * time.Second})
	ws := e.dial("3")
	readType(t, ws, "hello")
	ws.Close()
	waitFor(t, "disconnect noticed", func() bool { return !e.hub.Connected(3) })
	if err := e.hub.Send(3, Envelope{Type: "x"}); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("send in grace: %v", err)
	}
	ws2 := e.dial("3")
	hello := readType(t, ws2, "hello")
	if !strings.Contains(string(hello.Data), `"first":false`) {
		t.Fatalf("want reconnect hello, got %s", hello.Data)
	}
	time.Sleep(2500 * time.Millisecond) // past the original grace period
	if c, r, g := e.desk.counts(); c != 1 || r != 1 || g != 0 {
		t.Fatalf("connected=%d reconnected=%d gone=%d, want 1 1 0", c, r, g)
	}
}

func TestGoneAfterGrace(t *testing.T) {
	e := newEnv(t, Options{Grace: 50 * time.Millisecond})
	ws := e.dial("4")
	readType(t, ws, "hello")
	ws.Close()
	select {
	case id := <-e.desk.goneCh:
		if id != 4 {
			t.Fatalf("gone %d", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AgentGone not called")
	}
	time.Sleep(200 * time.Millisecond)
	if _, _, g := e.desk.counts(); g != 1 {
		t.Fatalf("AgentGone called %d times", g)
	}
	// A later connection starts a new session.
	ws2 := e.dial("4")
	hello := readType(t, ws2, "hello")
	if !strings.Contains(string(hello.Data), `"first":true`) {
		t.Fatalf("want a first hello after gone, got %s", hello.Data)
	}
}

func TestTwoConnectionsBothReceive(t *testing.T) {
	e := newEnv(t, Options{Grace: 50 * time.Millisecond})
	a, b := e.dial("9"), e.dial("9")
	readType(t, a, "hello")
	readType(t, b, "hello")
	if err := e.hub.Send(9, Envelope{Type: "message", Data: map[string]string{"body": "hi"}}); err != nil {
		t.Fatal(err)
	}
	readType(t, a, "message")
	readType(t, b, "message")
	if e.hub.Count() != 1 {
		t.Fatalf("Count %d, want 1 agent", e.hub.Count())
	}
	// Closing one tab keeps the session; closing both ends it once.
	a.Close()
	time.Sleep(150 * time.Millisecond)
	if _, _, g := e.desk.counts(); g != 0 {
		t.Fatal("AgentGone while a tab is still open")
	}
	b.Close()
	select {
	case <-e.desk.goneCh:
	case <-time.After(5 * time.Second):
		t.Fatal("AgentGone not called")
	}
	if c, r, _ := e.desk.counts(); c != 1 || r != 1 {
		t.Fatalf("connected=%d reconnected=%d, want 1 and 1 (second tab)", c, r)
	}
}

func TestShutdownClosesConnections(t *testing.T) {
	d := newFakeDesk()
	h := New(d, nil, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = h.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeAgent(w, r, AgentInfo{ID: 1})
	}))
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	readType(t, ws, "hello")
	cancel()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("want normal close, got %v", err)
	}
	<-ran
	if err := h.Send(1, Envelope{Type: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after shutdown: %v", err)
	}
	if _, _, g := d.counts(); g != 0 {
		t.Fatal("AgentGone on shutdown")
	}
}
