package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/chat"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/hub"
)

// hubNotifier lets the desk push to agents through the hub.
type hubNotifier struct{ h *hub.Hub }

func (n hubNotifier) Send(a contact.AgentID, typ string, data any) error {
	return n.h.Send(a, hub.Envelope{Type: typ, Data: data})
}

func (n hubNotifier) Broadcast(typ string, data any) {
	n.h.Broadcast(hub.Envelope{Type: typ, Data: data})
}

// deskHub is the hub's view of the desk: connections come and go.
type deskHub struct {
	d   *desk.Desk
	log *slog.Logger
	// typing/read frames from agents go to the chat channel when it is wired.
	onFrame func(ctx context.Context, agent contact.AgentID, typ string, data json.RawMessage)
}

func (h *deskHub) hello(ctx context.Context, a hub.AgentInfo) any {
	hello, err := h.d.AgentConnected(ctx, a.ID)
	if err != nil {
		h.log.Warn("agent connected", "agent_id", a.ID, "err", err)
		return map[string]any{"error": err.Error()}
	}
	return hello
}

func (h *deskHub) AgentConnected(ctx context.Context, a hub.AgentInfo) any   { return h.hello(ctx, a) }
func (h *deskHub) AgentReconnected(ctx context.Context, a hub.AgentInfo) any { return h.hello(ctx, a) }
func (h *deskHub) AgentGone(ctx context.Context, id contact.AgentID)         { h.d.AgentGone(ctx, id) }
func (h *deskHub) AgentMessage(ctx context.Context, id contact.AgentID, typ string, data json.RawMessage) {
	if h.onFrame != nil {
		h.onFrame(ctx, id, typ, data)
	}
}

// agentFrames routes frames from the agents' consoles to the chat channel:
// "typing" {contact_id} and "read" {contact_id, message_id}.
func agentFrames(d *desk.Desk, c *chat.Adapter) func(context.Context, contact.AgentID, string, json.RawMessage) {
	return func(_ context.Context, agent contact.AgentID, typ string, data json.RawMessage) {
		var f struct {
			ContactID contact.ID `json:"contact_id"`
			MessageID int64      `json:"message_id"`
		}
		if json.Unmarshal(data, &f) != nil || f.ContactID == 0 || !d.Handles(agent, f.ContactID) {
			return
		}
		switch typ {
		case "typing":
			c.AgentTyping(f.ContactID)
		case "read":
			c.MarkRead(f.ContactID, f.MessageID)
		}
	}
}
