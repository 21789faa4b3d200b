package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Envelope is every frame on the wire: {"type":"...","data":{...}}.
type Envelope struct {
	Type string `json:"type"`
	Data any    `json:"data,omitempty"`
}

// frame is an incoming envelope with its data left raw.
type frame struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Options tune the hub and its connections. Zero values take the defaults.
type Options struct {
	// Grace is how long an agent may be without any connection before the
	// handler's AgentGone is called (default 30s; negative: no grace).
	Grace time.Duration
	// SendBuffer is each connection's outgoing queue length (default 256).
	SendBuffer int
	// ReadLimit is the largest frame accepted from a client (default 64 KiB);
	// a bigger one closes that connection (close code 1009).
	ReadLimit int64
	// PingPeriod (default 54s) must be shorter than PongWait (default 60s),
	// the time a silent client is given before it is considered dead.
	PingPeriod, PongWait time.Duration
	// WriteWait bounds each write to the client (default 10s).
	WriteWait time.Duration
	// CheckOrigin vets the Origin header of the upgrade request
	// (default: same host as the request, or no Origin header).
	CheckOrigin func(*http.Request) bool
}

func (o Options) withDefaults() Options {
	if o.Grace == 0 {
		o.Grace = 30 * time.Second
	}
	if o.Grace < 0 {
		o.Grace = 0
	}
	if o.SendBuffer <= 0 {
		o.SendBuffer = 256
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
	if o.PongWait <= 0 {
		o.PongWait = 60 * time.Second
	}
	if o.PingPeriod <= 0 || o.PingPeriod >= o.PongWait {
		o.PingPeriod = o.PongWait * 9 / 10
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 10 * time.Second
	}
	return o
}

// Upgrader returns the websocket upgrader for these options.
func (o Options) Upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     o.CheckOrigin, // nil: gorilla's same-host check
	}
}

// Conn is one websocket connection with gorilla's pump pair: a read pump
// (read limit, pong handler extending the read deadline) and a write pump
// fed by a buffered channel (pings, write deadlines). It is the building
// block of the agent hub and is meant for the supervisor and chat endpoints
// too.
//
// Send and Close are safe from any goroutine. The send channel is never
// closed (a done channel signals shutdown instead), so a producer racing a
// close cannot panic; a producer never blocks: a full buffer closes the
// connection and returns ErrChannelFull.
type Conn struct {
	ws   *websocket.Conn
	o    Options
	send chan []byte
	done chan struct{}
	once sync.Once
}

// NewConn wraps an upgraded websocket. Frames may be queued with Send at
// once; they are written when Serve runs.
func NewConn(ws *websocket.Conn, o Options) *Conn {
	o = o.withDefaults()
	return &Conn{ws: ws, o: o, send: make(chan []byte, o.SendBuffer), done: make(chan struct{})}
}

// Send queues one encoded frame without blocking.
func (c *Conn) Send(b []byte) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	select {
	case c.send <- b:
		return nil
	default:
		// Dropped: close the socket at once, so a write pump stuck writing
		// to a peer that does not read is not kept until WriteWait.
		c.Close()
		_ = c.ws.NetConn().Close()
		return ErrChannelFull
	}
}

// SendEnvelope marshals e and queues it.
func (c *Conn) SendEnvelope(e Envelope) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return c.Send(b)
}

// Close stops the pumps; the write pump sends a close frame if it can.
func (c *Conn) Close() { c.once.Do(func() { close(c.done) }) }

// Done is closed when the connection is closing.
func (c *Conn) Done() <-chan struct{} { return c.done }

// invalidFrame is the reply to a frame that is not a JSON envelope.
var invalidFrame = mustMarshal(Envelope{Type: "error", Data: map[string]string{"message": "invalid JSON frame"}})

func mustMarshal(e Envelope) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

// Serve writes first (if not nil) before anything queued, then runs the
// write pump in a goroutine and the read pump in the caller's, handing each
// well-formed envelope to onFrame in order. A frame that is not a JSON
// envelope with a type is answered with an "error" frame and the connection
// is kept. Serve returns when the connection is closed, by either side, and
// always closes the underlying websocket. The error is nil for an ordinary
// close (by the peer, by Close, or by a full buffer) and otherwise says why
// the connection ended (read limit exceeded, protocol error, timeout).
func (c *Conn) Serve(ctx context.Context, first []byte, onFrame func(ctx context.Context, typ string, data json.RawMessage)) error {
	defer c.ws.Close()
	if first != nil {
		_ = c.ws.SetWriteDeadline(time.Now().Add(c.o.WriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, first); err != nil {
			c.Close()
			return unexpectedClose(err)
		}
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		c.writePump()
	}()
	err := c.readPump(ctx, onFrame)
	c.Close()
	<-wrote
	return unexpectedClose(err)
}

func (c *Conn) readPump(ctx context.Context, onFrame func(context.Context, string, json.RawMessage)) error {
	c.ws.SetReadLimit(c.o.ReadLimit)
	_ = c.ws.SetReadDeadline(time.Now().Add(c.o.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(c.o.PongWait))
	})
	for {
		kind, b, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		// Any frame proves the client alive, not only pongs.
		_ = c.ws.SetReadDeadline(time.Now().Add(c.o.PongWait))
		var f frame
		if kind != websocket.TextMessage || json.Unmarshal(b, &f) != nil || f.Type == "" {
			if err := c.Send(invalidFrame); err != nil {
				return err
			}
			continue
		}
		if onFrame != nil {
			onFrame(ctx, f.Type, f.Data)
		}
	}
}

func (c *Conn) writePump() {
	ping := time.NewTicker(c.o.PingPeriod)
	defer func() {
		ping.Stop()
		// Unblock the read pump: a peer that never answers our close frame
		// must not keep it waiting for PongWait.
		c.ws.Close()
	}()
	for {
		select {
		case b := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.o.WriteWait))
			w, err := c.ws.NextWriter(websocket.TextMessage)
			if err != nil {
				c.Close()
				return
			}
			_, _ = w.Write(b)
			if err := w.Close(); err != nil {
				c.Close()
				return
			}
		case <-ping.C:
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.o.WriteWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.Close()
				return
			}
		case <-c.done:
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(c.o.WriteWait))
			return
		}
	}
}

// unexpectedClose filters out the ordinary ends of a connection, leaving
// errors worth a log line (read limit, protocol errors, timeouts).
func unexpectedClose(err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, ErrClosed) || errors.Is(err, ErrChannelFull) ||
		websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
		return nil
	}
	return err
}
