package desk

import (
	"context"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/routing"
)

// notifyEvent pushes what an event means to the agents concerned. It runs
// after the event is committed, in event order.
func (d *Desk) notifyEvent(ctx context.Context, ev routing.Event) {
	switch ev.Kind {
	case routing.EventOffered:
		o := routing.Offer{ID: ev.Offer, Agent: ev.Agent, Contact: ev.Contact, Queue: ev.Queue, Channel: ev.Channel,
			Tier: ev.Tier, Priority: ev.Priority, Deadline: ev.Deadline, Callback: ev.Callback}
		if v, ok := d.offerView(ctx, o); ok {
			d.send(ev.Agent, "offer", v)
		}
	case routing.EventDeclined, routing.EventTimedOut, routing.EventWithdrawn:
		reason := ev.Reason
		switch {
		case ev.Kind == routing.EventDeclined:
			reason = "declined"
		case ev.Kind == routing.EventTimedOut:
			reason = "timeout"
		case ev.Reason == routing.ReasonAnswered:
			reason = "taken"
		case ev.Reason == routing.ReasonAbandoned:
			reason = "abandoned"
		}
		d.send(ev.Agent, "offer_withdrawn", map[string]any{"offer_id": ev.Offer, "contact_id": ev.Contact, "reason": reason})
	case routing.EventAccepted:
		lc, err := d.live(ctx, ev.Contact)
		if err != nil {
			return
		}
		d.mu.Lock()
		rec, profile := lc.rec, lc.profile
		msgs := append([]contact.Message(nil), lc.msgs...)
		known := lc.msgs != nil
		d.mu.Unlock()
		if !known {
			msgs, _ = d.st.Messages(ctx, ev.Contact, 0)
		}
		if msgs == nil {
			msgs = []contact.Message{}
		}
		d.send(ev.Agent, "contact_assigned", map[string]any{"contact": rec, "profile": profile, "messages": msgs})
		if conv := d.channel(rec.Channel); conv != nil {
			go func() {
				if err := conv.Connect(context.Background(), rec.Contact, ev.Agent, d.view(ev.Agent).DisplayName); err != nil {
					d.log.Warn("connect agent", "contact_id", rec.ID, "agent_id", ev.Agent, "err", err)
				}
			}()
		}
	case routing.EventCompleted:
		if lc, err := d.live(ctx, ev.Contact); err == nil {
			d.mu.Lock()
			rec := lc.rec
			d.mu.Unlock()
			d.send(ev.Agent, "contact_updated", map[string]any{"contact": rec})
		}
	case routing.EventTransferred:
		if ev.Agent != 0 {
			d.send(ev.Agent, "contact_closed", map[string]any{"contact_id": ev.Contact, "reason": "transferred"})
		}
	case routing.EventAbandoned:
		d.mu.Lock()
		delete(d.open, ev.Contact)
		d.mu.Unlock()
	case routing.EventAgentStateChanged:
		v := d.view(ev.Agent)
		data := map[string]any{"state": v.State, "reason": v.Reason, "since": v.Since}
		if PhoneRegistered != nil {
			data["phone_registered"] = PhoneRegistered(ev.Agent)
		}
		d.send(ev.Agent, "agent_state", data)
	}
}
