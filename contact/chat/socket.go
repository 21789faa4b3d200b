package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/gorilla/websocket"
)

const (
	sendBuffer = 256
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = pongWait * 9 / 10
	authWait   = 10 * time.Second
	// closeUnauthorized is the close code for a bad token sent as the first frame.
	closeUnauthorized = 4401
)

// client is one visitor socket: gorilla's read pump / write pump pair. The
// read pump runs in the handler's goroutine and handles frames in order.
type client struct {
	a    *Adapter
	ws   *websocket.Conn
	cl   claims
	ip   string
	send chan []byte
	done chan struct{}
	once sync.Once

	// Guarded by a.mu: while the history is being sent, live frames wait in
	// pending (messages are dropped if the history already had them).
	buffering bool
	pending   []pendingFrame
	// history holds the ids of messages sent from the history: a delivery
	// of one of them that comes later (the desk delivers asynchronously,
	// so it may come after the history read) is not sent twice.
	history map[int64]bool

	lastTyping time.Time
}

type pendingFrame struct {
	msgID int64
	b     []byte
}

// queue hands a frame to the write pump without blocking; a visitor that
// cannot keep up is dropped. Call with a.mu held.
func (c *client) queue(msgID int64, b []byte) {
	if msgID != 0 && c.history[msgID] {
		delete(c.history, msgID)
		return
	}
	if c.buffering {
		c.pending = append(c.pending, pendingFrame{msgID, b})
		return
	}
	c.enqueue(b)
}

func (c *client) enqueue(b []byte) {
	select {
	case <-c.done:
	case c.send <- b:
	default:
		c.close()
		_ = c.ws.NetConn().Close()
	}
}

func (c *client) close() { c.once.Do(func() { close(c.done) }) }

func (c *client) reply(o Out) { c.enqueue(mustJSON(o)) }

// Socket is GET /ws/chat: the visitor websocket. The token is the query
// parameter "token" (a bad one is refused with 401 before the upgrade) or
// the first frame {"type":"auth","data":{"token":...,"after":N}} (a bad one
// closes the socket with code 4401). "after" (query or auth frame) is the
// last message id the widget has; later messages are sent first.
func (a *Adapter) Socket() http.Handler {
	up := &websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096,
		CheckOrigin: func(r *http.Request) bool { return a.originAllowed(r.Header.Get("Origin")) },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cl claims
		var after int64
		tok := r.URL.Query().Get("token")
		if tok != "" {
			var err error
			if cl, err = verify(a.cfg.Secret, tok, a.cfg.Now()); err != nil {
				httpError(w, http.StatusUnauthorized, "invalid or expired token")
				return
			}
			fmt.Sscan(r.URL.Query().Get("after"), &after)
		}
		ws, err := up.Upgrade(w, r, nil) // answers the refusal itself
		if err != nil {
			return
		}
		ws.SetReadLimit(readLimit)
		if tok == "" {
			if cl, after, err = a.readAuth(ws); err != nil {
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeUnauthorized, "unauthorized"),
					time.Now().Add(time.Second))
				ws.Close()
				return
			}
		}
		c := &client{a: a, ws: ws, cl: cl, ip: a.cfg.ClientIP(r), send: make(chan []byte, sendBuffer), done: make(chan struct{})}
		a.serve(r.Context(), c, after)
	})
}

func (a *Adapter) readAuth(ws *websocket.Conn) (claims, int64, error) {
	_ = ws.SetReadDeadline(time.Now().Add(authWait))
	_, b, err := ws.ReadMessage()
	if err != nil {
		return claims{}, 0, err
	}
	f, err := DecodeFrame(b)
	if err != nil || f.Type != "auth" {
		return claims{}, 0, ErrBadToken
	}
	var d authData
	if err := decodeData(f.Data, &d); err != nil {
		return claims{}, 0, ErrBadToken
	}
	cl, err := verify(a.cfg.Secret, d.Token, a.cfg.Now())
	return cl, d.After, err
}

// serve joins the visitor's room, sends welcome and missed messages, then
// pumps frames until the socket closes.
func (a *Adapter) serve(ctx context.Context, c *client, after int64) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	id := c.cl.Contact
	wrote := make(chan struct{})
	go func() { defer close(wrote); c.writePump() }()
	defer func() {
		c.close()
		<-wrote
		a.mu.Lock()
		if r := a.rooms[id]; r != nil {
			delete(r.conns, c)
			a.dropIfIdle(r)
		}
		a.mu.Unlock()
	}()

	a.mu.Lock()
	r := a.roomLocked(id)
	known := r.known
	r.conns[c] = struct{}{}
	c.buffering = true
	a.mu.Unlock()
	if !known {
		a.learnState(ctx, c.cl)
	}
	hist, err := a.cfg.Messages.Messages(ctx, id, after)
	if err != nil {
		a.log.Warn("chat history", "contact_id", id, "err", err)
		c.reply(errFrame("unavailable", ""))
		return
	}
	a.mu.Lock()
	state := "waiting"
	switch {
	case r.ended != "":
		state = "ended"
	case r.agent != "":
		state = "active"
	}
	agent := r.agent
	c.enqueue(mustJSON(Out{Type: "welcome", Data: map[string]any{
		"contact_id": id, "visitor_id": c.cl.Visitor, "name": c.cl.Name, "state": state, "agent": agent,
		"rated": r.rated, "transcript": a.cfg.SendTranscript != nil && c.cl.Email != "",
	}}))
	c.history = make(map[int64]bool, len(hist))
	for _, m := range hist {
		c.enqueue(mustJSON(a.msgFrame(m, agent)))
		c.history[m.ID] = true
	}
	for _, p := range c.pending {
		if p.msgID != 0 && c.history[p.msgID] {
			delete(c.history, p.msgID)
			continue
		}
		c.enqueue(p.b)
	}
	c.pending, c.buffering = nil, false
	a.mu.Unlock()
	if state == "waiting" {
		a.pushPosition(id, true)
	}
	err = c.readPump(ctx)
	if err != nil && !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) &&
		!errors.Is(err, errClosed) && !strings.Contains(err.Error(), "use of closed network connection") {
		a.log.Debug("chat socket", "contact_id", id, "err", err)
	}
}

// learnState initialises a room from the desk after a restart: is the
// contact still open?
func (a *Adapter) learnState(ctx context.Context, cl claims) {
	c, err := a.cfg.Desk.Thread(ctx, contact.Chat, threadKey(cl.Visitor))
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.roomLocked(cl.Contact)
	if r.known || err != nil {
		return
	}
	r.known = true
	switch {
	case c.ID != cl.Contact || ended(c.State):
		r.ended = "agent"
	case c.State == contact.Active:
		r.agent = "Agent"
	}
}

var errClosed = errors.New("chat: connection closed")

func (c *client) readPump(ctx context.Context) error {
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, b, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		select {
		case <-c.done:
			return errClosed
		default:
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		f, err := DecodeFrame(b)
		if kind != websocket.TextMessage || err != nil {
			c.reply(errFrame("invalid_frame", ""))
			continue
		}
		c.a.handle(ctx, c, f)
	}
}

func (c *client) writePump() {
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		c.ws.Close() // unblocks the read pump
	}()
	for {
		select {
		case b := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.close()
				return
			}
		case <-ping.C:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.close()
				return
			}
		case <-c.done:
			// Flush what is queued (an error frame before a close), then say goodbye.
		flush:
			for {
				select {
				case b := <-c.send:
					_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
					if c.ws.WriteMessage(websocket.TextMessage, b) != nil {
						return
					}
				default:
					break flush
				}
			}
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return
		}
	}
}
