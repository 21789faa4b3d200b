package routing

import "github.com/contacthub/contacthub/contact"

// longestIdle offers to the agent idle the longest (the default).
type longestIdle struct{}

func (longestIdle) Name() string { return StrategyLongestIdle }

func (longestIdle) Choose(dst []contact.AgentID, _ ContactView, cands []AgentView) []contact.AgentID {
	return append(dst, cands[pickMin(cands, idleBefore)].ID)
}
