// Package hub is the agents' real-time edge: one websocket hub that keeps
// every open agent console connection, pushes envelopes to them for the desk
// and hands their frames back to it. It follows gorilla's examples/chat: one
// goroutine (Run) owns the map of connections; each connection has its own
// read and write pumps (Conn) fed by a buffered channel; a client that cannot
// keep up is dropped, never allowed to block the hub.
//
// The wire protocol is documented in docs/PROTOCOL.md.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/gorilla/websocket"
)

// AgentInfo is the authenticated agent behind a connection.
type AgentInfo struct {
	ID          contact.AgentID
	Name        string
	DisplayName string
}

// Handler is implemented by the desk. The hub never calls it from its own
// goroutine, so a Handler may call back into the hub (Send, Broadcast).
// Calls about one agent are serialised with respect to its session: a new
// session's AgentConnected starts only after the previous session's
// AgentGone has returned.
type Handler interface {
	// AgentConnected is called when an agent's first connection opens (not
	// on a reconnect within the grace period). It returns the "hello"
	// envelope data to send first (state, active contacts, pending offers).
	AgentConnected(ctx context.Context, a AgentInfo) (hello any)
	// AgentReconnected is called for every other connection of a live
	// session: a reconnect within the grace period, or a further tab while
	// another is open. It returns hello data too (current state, pending
	// offers kept).
	AgentReconnected(ctx context.Context, a AgentInfo) (hello any)
	// AgentGone is called when the agent's last connection closed and the
	// grace period passed without a reconnect: the desk logs them out and
	// requeues their offers. It is not called when the hub shuts down.
	AgentGone(ctx context.Context, id contact.AgentID)
	// AgentMessage is a frame from the agent (e.g. "typing"), in the order
	// that connection sent them. Malformed frames never reach here: the hub
	// answers {"type":"error","data":{"message":"invalid JSON frame"}} and
	// keeps the connection.
	AgentMessage(ctx context.Context, id contact.AgentID, typ string, data json.RawMessage)
}

// Hub keeps the agents' websocket connections.
type Hub struct {
	h   Handler
	log *slog.Logger
	o   Options
	up  *websocket.Upgrader

	ops  chan func(*state) // run by the Run goroutine, which owns state
	done chan struct{}     // closed when Run has stopped serving ops

	mu     sync.Mutex // guards closed and conns.Add against Run's final Wait
	closed bool
	conns  sync.WaitGroup
}

// state is owned by the Run goroutine and touched nowhere else.
type state struct {
	ctx      context.Context
	sessions map[contact.AgentID]*session
	leaving  map[contact.AgentID]chan struct{} // AgentGone in progress
}

// session is one agent's set of connections, kept through the grace period.
type session struct {
	conns map[*Conn]struct{}
	grace *time.Timer // running while the session has no connection
	gen   uint64      // invalidates a stale grace timer
}

// New returns a hub; call Run to start it.
func New(h Handler, log *slog.Logger, o Options) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o = o.withDefaults()
	return &Hub{h: h, log: log, o: o, up: o.Upgrader(), ops: make(chan func(*state)), done: make(chan struct{})}
}

// Run owns the hub's state until ctx is done, then closes every connection
// (with a close frame), waits for their pumps to finish and returns nil.
func (h *Hub) Run(ctx context.Context) error {
	st := &state{ctx: ctx, sessions: map[contact.AgentID]*session{}, leaving: map[contact.AgentID]chan struct{}{}}
	for {
		select {
		case op := <-h.ops:
			op(st)
		case <-ctx.Done():
			h.mu.Lock()
			h.closed = true
			h.mu.Unlock()
			close(h.done)
			for _, s := range st.sessions {
				if s.grace != nil {
					s.grace.Stop()
				}
				for c := range s.conns {
					c.Close()
				}
			}
			h.conns.Wait()
			return nil
		}
	}
}

// do runs op on the hub goroutine and waits for it; false if the hub stopped.
func (h *Hub) do(op func(*state)) bool {
	ran := make(chan struct{})
	select {
	case h.ops <- func(st *state) { op(st); close(ran) }:
		<-ran
		return true
	case <-h.done:
		return false
	}
}

// ServeAgent upgrades the request (the caller has authenticated the agent),
// registers the connection, sends the handler's hello first and runs the
// pumps. It returns when the connection closes.
func (h *Hub) ServeAgent(w http.ResponseWriter, r *http.Request, a AgentInfo) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	h.conns.Add(1)
	h.mu.Unlock()
	defer h.conns.Done()

	ws, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		h.log.Debug("agent websocket upgrade failed", "agent_id", a.ID, "error", err)
		return // the upgrader has answered the request
	}
	c := NewConn(ws, h.o)
	log := h.log.With("agent_id", a.ID)

	// Register before asking for hello, so nothing sent in between is lost:
	// it is queued behind the hello (clients treat offers and contacts as
	// idempotent by id).
	var first bool
	var wait chan struct{}
	if !h.do(func(st *state) { first, wait = st.register(a.ID, c) }) {
		c.Close()
		_ = c.Serve(r.Context(), nil, nil)
		return
	}
	if wait != nil {
		<-wait // the previous session's AgentGone is still running
	}
	var hello any
	if first {
		hello = h.h.AgentConnected(r.Context(), a)
	} else {
		hello = h.h.AgentReconnected(r.Context(), a)
	}
	b, err := json.Marshal(Envelope{Type: "hello", Data: hello})
	if err != nil {
		log.Error("agent hello not encodable", "error", err)
		b = mustMarshal(Envelope{Type: "error", Data: map[string]string{"message": "internal error"}})
	}
	log.Debug("agent connected", "first", first)
	err = c.Serve(r.Context(), b, func(ctx context.Context, typ string, data json.RawMessage) {
		h.h.AgentMessage(ctx, a.ID, typ, data)
	})
	if err != nil {
		log.Info("agent connection closed", "error", err)
	}
	h.do(func(st *state) { st.unregister(h, a.ID, c) })
}

// register adds c to the agent's session. first reports a new session; wait,
// if not nil, is closed when the previous session's AgentGone returns.
func (st *state) register(id contact.AgentID, c *Conn) (first bool, wait chan struct{}) {
	s := st.sessions[id]
	if s == nil {
		s = &session{conns: map[*Conn]struct{}{}}
		st.sessions[id] = s
		first, wait = true, st.leaving[id]
	}
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
		s.gen++
	}
	s.conns[c] = struct{}{}
	return first, wait
}

// unregister removes c; the last connection out starts the grace period.
func (st *state) unregister(h *Hub, id contact.AgentID, c *Conn) {
	s := st.sessions[id]
	if s == nil {
		return
	}
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if len(s.conns) > 0 {
		return
	}
	s.gen++
	gen := s.gen
	s.grace = time.AfterFunc(h.o.Grace, func() {
		h.do(func(st *state) { st.expire(h, id, gen) })
	})
}

// expire ends a session whose grace period passed without a reconnect.
func (st *state) expire(h *Hub, id contact.AgentID, gen uint64) {
	s := st.sessions[id]
	if s == nil || s.gen != gen || len(s.conns) > 0 {
		return
	}
	delete(st.sessions, id)
	left := make(chan struct{})
	st.leaving[id] = left
	ctx := st.ctx
	go func() {
		defer close(left)
		h.log.Debug("agent gone", "agent_id", id)
		h.h.AgentGone(ctx, id)
		h.do(func(st *state) {
			if st.leaving[id] == left {
				delete(st.leaving, id)
			}
		})
	}()
}

// Send queues e to every connection of the agent, marshalled once. It
// returns ErrNotConnected if the agent has no connection, and an error
// wrapping ErrChannelFull if every connection was too slow and got dropped
// (one slow tab among healthy ones is dropped silently).
func (h *Hub) Send(id contact.AgentID, e Envelope) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("hub: send %q to agent %d: %w", e.Type, id, err)
	}
	var sendErr error
	if !h.do(func(st *state) { sendErr = st.send(h, id, b) }) {
		return ErrClosed
	}
	if sendErr != nil {
		return fmt.Errorf("hub: send %q to agent %d: %w", e.Type, id, sendErr)
	}
	return nil
}

func (st *state) send(h *Hub, id contact.AgentID, b []byte) error {
	s := st.sessions[id]
	if s == nil || len(s.conns) == 0 {
		return ErrNotConnected
	}
	var sent bool
	for c := range s.conns {
		if err := c.Send(b); err != nil {
			if errors.Is(err, ErrChannelFull) {
				h.log.Warn("agent connection too slow, dropped", "agent_id", id)
				st.unregister(h, id, c)
			}
			continue
		}
		sent = true
	}
	if !sent {
		return ErrChannelFull
	}
	return nil
}

// Broadcast queues e to every connection of every agent, marshalled once.
// Slow connections are dropped.
func (h *Hub) Broadcast(e Envelope) {
	b, err := json.Marshal(e)
	if err != nil {
		h.log.Error("broadcast not encodable", "type", e.Type, "error", err)
		return
	}
	h.do(func(st *state) {
		for id, s := range st.sessions {
			for c := range s.conns {
				if errors.Is(c.Send(b), ErrChannelFull) {
					h.log.Warn("agent connection too slow, dropped", "agent_id", id)
					st.unregister(h, id, c)
				}
			}
		}
	})
}

// Connected reports whether the agent has at least one open connection.
func (h *Hub) Connected(id contact.AgentID) bool {
	var ok bool
	h.do(func(st *state) {
		s := st.sessions[id]
		ok = s != nil && len(s.conns) > 0
	})
	return ok
}

// Count returns the number of agents with at least one open connection.
func (h *Hub) Count() int {
	var n int
	h.do(func(st *state) {
		for _, s := range st.sessions {
			if len(s.conns) > 0 {
				n++
			}
		}
	})
	return n
}
