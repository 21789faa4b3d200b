package routing

import "github.com/contacthub/contacthub/contact"

// roundRobin offers to the next member after the last one offered, in the
// order agents joined the queue (Asterisk rrmemory).
type roundRobin struct{ last int }

func (*roundRobin) Name() string { return StrategyRoundRobin }

func (r *roundRobin) Choose(dst []contact.AgentID, _ ContactView, cands []AgentView) []contact.AgentID {
	next, first := -1, 0
	for i := range cands {
		p := cands[i].Position
		if p < cands[first].Position {
			first = i
		}
		if p > r.last && (next < 0 || p < cands[next].Position) {
			next = i
		}
	}
	if next < 0 {
		next = first
	}
	r.last = cands[next].Position
	return append(dst, cands[next].ID)
}
