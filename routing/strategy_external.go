package routing

import "github.com/contacthub/contacthub/contact"

// external lets a function decide (Queue.External). Agents it returns that
// are not candidates are ignored; if it returns none, the contact waits
// until the next event that changes the candidates. Unlike the others it
// may leave a contact waiting while an eligible agent is free.
type external struct{ f ExternalFunc }

func (external) Name() string { return StrategyExternal }

func (x external) Choose(dst []contact.AgentID, c ContactView, cands []AgentView) []contact.AgentID {
	return append(dst, x.f(c, cands)...)
}
