package routing

import "github.com/contacthub/contacthub/contact"

// ringAll offers to every eligible agent at the lowest eligible level at
// once; the first to accept gets the contact and the other offers are
// withdrawn. When a single agent frees up and picks a waiting contact of a
// ring_all queue, only that agent is offered (no one else is free).
type ringAll struct{}

func (ringAll) Name() string  { return StrategyRingAll }
func (ringAll) RingAll() bool { return true }

func (ringAll) Choose(dst []contact.AgentID, _ ContactView, cands []AgentView) []contact.AgentID {
	for i := range cands {
		dst = append(dst, cands[i].ID)
	}
	return dst
}
