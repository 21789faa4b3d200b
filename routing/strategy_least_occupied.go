package routing

import "github.com/contacthub/contacthub/contact"

// leastOccupied offers to the agent holding the fewest contacts on any
// channel (useful for chat agents with capacity > 1), then the least loaded
// on the contact's channel relative to capacity, then longest idle.
type leastOccupied struct{}

func (leastOccupied) Name() string { return StrategyLeastOccupied }

func (leastOccupied) Choose(dst []contact.AgentID, _ ContactView, cands []AgentView) []contact.AgentID {
	i := pickMin(cands, func(a, b *AgentView) bool {
		if a.Load != b.Load {
			return a.Load < b.Load
		}
		// a.ChannelLoad/a.Capacity < b.ChannelLoad/b.Capacity without division
		if l, r := a.ChannelLoad*b.Capacity, b.ChannelLoad*a.Capacity; l != r {
			return l < r
		}
		return idleBefore(a, b)
	})
	return append(dst, cands[i].ID)
}
