package routing

import (
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Strategy names.
const (
	StrategyLongestIdle   = "longest_idle"
	StrategyLeastOccupied = "least_occupied"
	StrategyRoundRobin    = "round_robin"
	StrategyBestSkill     = "best_skill"
	StrategyRingAll       = "ring_all"
	StrategyExternal      = "external"
)

// ContactView is what a strategy sees of the contact being placed.
type ContactView struct {
	ID         contact.ID
	Channel    contact.Channel
	Queue      contact.QueueName
	Priority   int
	Tier       string
	Skills     map[string]int // the contact's own requirements (the queue's are in its config)
	Attributes map[string]string
	Wait       time.Duration // since EnqueuedAt
	Callback   bool
}

// AgentView is what a strategy sees of a candidate. Every candidate is
// logged in, available, has capacity on the contact's channel, has the
// required skills and is a member at the lowest level currently eligible.
type AgentView struct {
	ID          contact.AgentID
	Level       int       // membership level in the queue
	Position    int       // order of joining the queue (round robin)
	IdleSince   time.Time // last time the agent finished work or became available
	Load        int       // contacts in hand, all channels
	ChannelLoad int       // contacts in hand on the contact's channel
	Capacity    int       // capacity on the contact's channel
	SkillScore  int       // sum of the agent's levels in the contact's required skills
	Handled     int       // contacts completed since the engine started
}

// Strategy picks which of the free eligible agents get a contact. Choose
// appends to dst the chosen agents, best first, and returns it; candidates
// are never empty, and sorted by ID for ring_all and external queues only
// (other strategies must break ties by ID themselves, so that the choice
// does not depend on the order). The engine offers the contact to the
// first chosen agent, or to all of them for a strategy whose RingAll
// reports true. Returning nothing leaves the contact waiting. A Strategy
// is called under the engine's lock and may keep state (round robin).
type Strategy interface {
	Name() string
	Choose(dst []contact.AgentID, c ContactView, candidates []AgentView) []contact.AgentID
}

// Ringer is implemented by strategies that offer to several agents at once.
type Ringer interface {
	RingAll() bool
}

// ExternalFunc decides for the external strategy: it returns the agents to
// offer c to (only the first is used), chosen among candidates.
type ExternalFunc func(c ContactView, candidates []AgentView) []contact.AgentID

// NewStrategy returns a fresh strategy by name ("" is longest_idle). ext is
// required for external and ignored otherwise.
func NewStrategy(name string, ext ExternalFunc) (Strategy, error) {
	switch name {
	case "", StrategyLongestIdle:
		return longestIdle{}, nil
	case StrategyLeastOccupied:
		return leastOccupied{}, nil
	case StrategyRoundRobin:
		return &roundRobin{last: -1}, nil
	case StrategyBestSkill:
		return bestSkill{}, nil
	case StrategyRingAll:
		return ringAll{}, nil
	case StrategyExternal:
		if ext == nil {
			return nil, fmt.Errorf("%w: external strategy needs Queue.External", ErrUnknownStrategy)
		}
		return external{f: ext}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownStrategy, name)
}

// idleBefore orders agents longest idle first: agents holding no contact
// before agents holding some, then earlier IdleSince, then lower ID.
func idleBefore(a, b *AgentView) bool {
	la, lb := a.Load > 0, b.Load > 0
	if la != lb {
		return !la
	}
	if !a.IdleSince.Equal(b.IdleSince) {
		return a.IdleSince.Before(b.IdleSince)
	}
	return a.ID < b.ID
}

// pickMin returns the index of the best candidate under before.
func pickMin(cands []AgentView, before func(a, b *AgentView) bool) int {
	best := 0
	for i := 1; i < len(cands); i++ {
		if before(&cands[i], &cands[best]) {
			best = i
		}
	}
	return best
}
