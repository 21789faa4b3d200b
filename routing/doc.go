// Package routing is ContactHub's routing engine: queues, priorities,
// skills, strategies and offers. It is pure and deterministic: no I/O, no
// SQL, no goroutines and no wall clock. Every method that changes state
// takes the current time, so the same calls give the same events.
//
// # Model
//
// A Queue has a weight, channels, required skills, a Strategy, a service
// level (threshold T, default 20 s, target 80 %), an ageing rate, level
// widening (LevelWait), a max wait and max length with an Overflow queue,
// an EmptyOverflow for when no member is logged in, an offer timeout, a
// wrap-up time and an abandoned-resume window.
//
// A contact (Item) enters a queue with a base priority, usually from a
// TierPolicy (tier and rules such as open_complaint, quadrant=hostage,
// lifecycle=at_risk → queue and priority; first matching rule, then every
// matching boost). Its effective priority ages:
//
//	effective = priority + rate × (now − EnqueuedAt)
//	          = (priority − rate × EnqueuedAt) + rate × now
//
// so within a queue, where the rate is uniform, the order never changes as
// time passes: each queue keeps binary heaps keyed on the constant
// priority − rate × EnqueuedAt (then EnqueuedAt, then arrival order: FIFO
// within equal effective priority), and effective priorities are compared
// across queues at the current time. Arithmetic is in integers
// (millisecond times, 0.001 point rates), so comparisons are exact. A
// declined, timed-out or withdrawn offer puts the contact back under the
// same key, i.e. in its original place; so does Restore after a restart,
// and so does a caller who abandoned and calls again within the queue's
// ResumeWindow (same Item.CallerKey). A callback request keeps the place;
// the offer then says Callback.
//
// The heaps are split by class (channel and required skills: contacts any
// given agent can either all take or none) and by stage: with LevelWait W
// a contact that waited k×W in the queue is visible to members of level ≤
// k+1, so level-1 members are served first and the pool widens with the
// wait. An agent picking work therefore looks only at heap tops:
// O(memberships × classes × levels) plus O(log n) to take the contact.
//
// An Agent has skills (levels 1–5), queue memberships with levels,
// capacity per channel (voice 1, chat 3, email 5, SMS 5; a voice call
// blocks the other channels unless TextDuringVoice) and a presence
// (Available, Away(reason), Offline). Its state is offline, available,
// reserved (an offer rings), busy, wrapup or away. After Config.AutoAwayAfter
// consecutive missed offers it is set Away("missed_offers").
//
// # Matching
//
// An agent that becomes free takes, in order: a contact transferred to it;
// then from the heaviest of its queues that has a contact it can take, the
// contact with the highest effective priority, then the oldest. A contact
// that becomes visible (arrives, is requeued, widens to a new level) is
// matched against its queue's free eligible members at the lowest eligible
// level, and the queue's Strategy picks: longest_idle (default),
// least_occupied, round_robin, best_skill, ring_all (offer to all; the
// first accept wins, the others are withdrawn) or external (a function).
// Contacts that become visible together are placed best first (queue
// weight, then effective priority, then age), so an agent never receives a
// contact while a better one it could take waits. After every call no free
// agent is left with a contact it could take (except with external).
//
// # Offers and deadlines
//
// A match is an Offer (id, agent, contact, deadline) that reserves the
// agent. Accept assigns the contact; Decline and the deadline put it back
// in its place. Deadlines (offer timeouts, wrap-up ends, level widening,
// max wait, resume windows) fire when the caller passes a later time to
// any method, or to Tick; NextDeadline says when the next one is due.
//
// # Events and statistics
//
// Every state change emits an Event (enqueued, offered, accepted,
// declined, timed_out, withdrawn, abandoned, overflowed, transferred,
// completed, wrapup_ended, agent_state_changed, callback_requested)
// carrying the time, contact, agent, queue, tier, channel and waits. Each
// method returns its events, and Config.Sink receives them too, for
// persistence, the hub and statistics. Stats turns events into live
// figures per queue and tier (service level, ASA, AHT, abandonment rate,
// occupancy, waiting, longest wait, agents by state); Engine.Stats keeps one.
//
// # Snapshot and restore
//
// Snapshot returns every queue, waiting contact (with its original
// enqueue time, priority and attributes), agent and live offer. Restore
// rebuilds an engine from the waiting contacts and agents persisted by
// the desk, keeping every place.
//
// # Concurrency
//
// An Engine is safe for concurrent use: each method holds the Engine's
// mutex for its whole step, so steps are serialised and events come out in
// a single order. The Sink runs under that mutex and must not call back
// into the Engine. Strategies and ExternalFunc are also called under it.
// Stats on its own is not safe for concurrent use.
package routing
