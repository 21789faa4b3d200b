package routing

import "github.com/contacthub/contacthub/contact"

// bestSkill offers to the agent with the highest sum of levels in the
// contact's required skills, then longest idle.
type bestSkill struct{}

func (bestSkill) Name() string { return StrategyBestSkill }

func (bestSkill) Choose(dst []contact.AgentID, _ ContactView, cands []AgentView) []contact.AgentID {
	i := pickMin(cands, func(a, b *AgentView) bool {
		if a.SkillScore != b.SkillScore {
			return a.SkillScore > b.SkillScore
		}
		return idleBefore(a, b)
	})
	return append(dst, cands[i].ID)
}
