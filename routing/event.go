package routing

import (
	"time"

	"github.com/contacthub/contacthub/contact"
)

// EventKind names a state change.
type EventKind string

// Event kinds. Every state change in the engine emits exactly one event.
const (
	EventEnqueued          EventKind = "enqueued"            // contact entered a queue (Reason "restored" after Restore, "resumed" if Resumed)
	EventOffered           EventKind = "offered"             // an offer was made to Agent (Offer, Deadline)
	EventAccepted          EventKind = "accepted"            // Agent accepted: the contact is assigned (answered)
	EventDeclined          EventKind = "declined"            // Agent declined; the contact is back in its place
	EventTimedOut          EventKind = "timed_out"           // the offer deadline passed; the contact is back in its place
	EventWithdrawn         EventKind = "withdrawn"           // the engine took an offer back (ring_all lost, agent away, abandon, transfer)
	EventAbandoned         EventKind = "abandoned"           // the customer left before being answered
	EventOverflowed        EventKind = "overflowed"          // moved from Queue to ToQueue (Reason: max_wait, max_length, no_agents)
	EventTransferred       EventKind = "transferred"         // moved to ToQueue or ToAgent; Agent set if an agent handed it on
	EventCompleted         EventKind = "completed"           // Agent finished the contact (Talk); wrap-up may follow
	EventWrapUpEnded       EventKind = "wrapup_ended"        // Agent's wrap-up for Contact ended (WrapUp)
	EventAgentStateChanged EventKind = "agent_state_changed" // Agent went From → State (Reason for away)
	EventCallbackRequested EventKind = "callback_requested"  // the waiting contact now wants a callback
)

// Event is one state change. Fields that do not apply to a kind are zero.
type Event struct {
	Kind      EventKind         `json:"kind"`
	At        time.Time         `json:"at"`
	Contact   contact.ID        `json:"contact_id,omitempty"`
	Agent     contact.AgentID   `json:"agent_id,omitempty"`
	Offer     OfferID           `json:"offer_id,omitempty"`
	Queue     contact.QueueName `json:"queue,omitempty"`
	ToQueue   contact.QueueName `json:"to_queue,omitempty"`
	ToAgent   contact.AgentID   `json:"to_agent,omitempty"`
	Tier      string            `json:"tier,omitempty"`
	Channel   contact.Channel   `json:"channel,omitempty"`
	Priority  int               `json:"priority,omitempty"`
	Wait      time.Duration     `json:"wait,omitempty"`       // since the contact's original EnqueuedAt
	QueueWait time.Duration     `json:"queue_wait,omitempty"` // since it entered Queue
	Talk      time.Duration     `json:"talk,omitempty"`       // accepted → completed/transferred (includes hold)
	WrapUp    time.Duration     `json:"wrapup,omitempty"`
	Deadline  time.Time         `json:"deadline,omitempty"`
	Callback  bool              `json:"callback,omitempty"`
	Resumed   bool              `json:"resumed,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	From      AgentState        `json:"from,omitempty"`
	State     AgentState        `json:"state,omitempty"`
}

// Overflow and other reasons carried in Event.Reason.
const (
	ReasonMaxWait      = "max_wait"
	ReasonMaxLength    = "max_length"
	ReasonNoAgents     = "no_agents"
	ReasonRestored     = "restored"
	ReasonResumed      = "resumed"
	ReasonMissedOffers = "missed_offers"
	ReasonAgentAway    = "agent_unavailable"
	ReasonAnswered     = "answered_elsewhere"
	ReasonAbandoned    = "abandoned"
	ReasonTransferred  = "transferred"
	ReasonRemoved      = "agent_removed"
)
