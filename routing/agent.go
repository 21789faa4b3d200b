package routing

import (
	"fmt"
	"sort"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// AgentState is an agent's routing state as seen from outside.
type AgentState string

// Agent states. Offline, Available and Away are presences the agent (or
// desk) sets; Reserved, Busy and WrapUp follow from the work the engine gave.
const (
	StateOffline   AgentState = "offline"
	StateAvailable AgentState = "available" // logged in, can take more work, nothing ringing
	StateReserved  AgentState = "reserved"  // an offer is ringing
	StateBusy      AgentState = "busy"      // handling at least one contact
	StateWrapUp    AgentState = "wrapup"    // after-contact work; no new offers
	StateAway      AgentState = "away"      // logged in, paused (Reason)
)

// Presence is what an agent asked for: Available, Offline or Away(reason).
type Presence struct {
	State  AgentState `json:"state"`
	Reason string     `json:"reason,omitempty"`
}

// Presences.
var (
	Available = Presence{State: StateAvailable}
	Offline   = Presence{State: StateOffline}
)

// Away is the paused presence with a reason ("break", "lunch", "missed_offers").
func Away(reason string) Presence { return Presence{State: StateAway, Reason: reason} }

// DefaultCapacity is the number of simultaneous contacts per channel.
var DefaultCapacity = map[contact.Channel]int{contact.Voice: 1, contact.Chat: 3, contact.Email: 5, contact.SMS: 5}

// Membership puts an agent in a queue at a level: level 1 is served first;
// higher levels get contacts that waited longer (Queue.LevelWait) or when
// no lower-level member is free.
type Membership struct {
	Queue contact.QueueName `json:"queue"`
	Level int               `json:"level,omitempty"` // 1..MaxLevel; 0 means 1
}

// Agent is an agent's routing configuration.
type Agent struct {
	ID contact.AgentID `json:"id"`
	// Skills: name → level 1–5.
	Skills map[string]int `json:"skills,omitempty"`
	Queues []Membership   `json:"queues,omitempty"`
	// Capacity per channel; a missing channel takes DefaultCapacity, 0 in
	// the map means the agent does not take that channel.
	Capacity map[contact.Channel]int `json:"capacity,omitempty"`
	// TextDuringVoice lets the agent take chats, emails and SMS while on a
	// call. By default a voice call blocks every other channel.
	TextDuringVoice bool `json:"text_during_voice,omitempty"`
}

const numChannels = 4

func chIdx(c contact.Channel) int {
	switch c {
	case contact.Voice:
		return 0
	case contact.Chat:
		return 1
	case contact.Email:
		return 2
	default:
		return 3
	}
}

// agent is an agent's live state.
type agent struct {
	cfg      Agent
	capacity [numChannels]int
	load     [numChannels]int // assigned contacts plus the ringing offer
	members  []*member        // by queue weight desc, then name
	presence Presence

	offer     *offer
	assigned  map[contact.ID]*waiting
	direct    []*waiting // contacts transferred to this agent, waiting
	wrapping  bool
	wrapC     *waiting // the contact whose wrap-up runs (detached)
	wrapStart time.Time
	wrapTm    timer

	idleSince time.Time
	missed    int
	handled   int
	state     AgentState
	listed    bool // in its queues' free lists
	dirty     bool
}

func (a *agent) totalLoad() int {
	n := 0
	for _, l := range a.load {
		n += l
	}
	return n
}

// ready reports whether the agent may receive an offer on some channel.
func (a *agent) ready() bool {
	if a.presence.State != StateAvailable || a.offer != nil || a.wrapping {
		return false
	}
	for i := range a.load {
		if a.canTakeIdx(i) {
			return true
		}
	}
	return false
}

func (a *agent) canTakeIdx(i int) bool {
	if a.load[i] >= a.capacity[i] {
		return false
	}
	if i != 0 && a.load[0] > 0 && !a.cfg.TextDuringVoice {
		return false
	}
	return true
}

// canTake reports capacity on ch (ignoring presence).
func (a *agent) canTake(ch contact.Channel) bool { return a.canTakeIdx(chIdx(ch)) }

func (a *agent) hasSkills(reqs []skillReq) bool {
	for _, r := range reqs {
		if a.cfg.Skills[r.name] < r.level {
			return false
		}
	}
	return true
}

func (a *agent) skillScore(reqs []skillReq) int {
	n := 0
	for _, r := range reqs {
		n += a.cfg.Skills[r.name]
	}
	return n
}

func (a *agent) derivedState() AgentState {
	switch {
	case a.presence.State == StateOffline:
		return StateOffline
	case a.presence.State == StateAway:
		return StateAway
	case a.offer != nil:
		return StateReserved
	case a.wrapping:
		return StateWrapUp
	case a.totalLoad() > 0:
		return StateBusy
	}
	return StateAvailable
}

func validateAgent(a *Agent) error {
	if a.ID == 0 {
		return fmt.Errorf("%w: zero id", ErrInvalidAgent)
	}
	for s, l := range a.Skills {
		if s == "" || l < 1 || l > 5 {
			return fmt.Errorf("%w: %d: skill %q level %d", ErrInvalidAgent, a.ID, s, l)
		}
	}
	seen := map[contact.QueueName]bool{}
	for i, m := range a.Queues {
		if m.Level == 0 {
			a.Queues[i].Level = 1
		}
		if a.Queues[i].Level < 1 || a.Queues[i].Level > MaxLevel {
			return fmt.Errorf("%w: %d: level %d in %s", ErrInvalidAgent, a.ID, m.Level, m.Queue)
		}
		if seen[m.Queue] {
			return fmt.Errorf("%w: %d: queue %s twice", ErrInvalidAgent, a.ID, m.Queue)
		}
		seen[m.Queue] = true
	}
	for c, n := range a.Capacity {
		if !c.Valid() || n < 0 {
			return fmt.Errorf("%w: %d: capacity %s=%d", ErrInvalidAgent, a.ID, c, n)
		}
	}
	return nil
}

func sortMembers(ms []*member) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].q.cfg.Weight != ms[j].q.cfg.Weight {
			return ms[i].q.cfg.Weight > ms[j].q.cfg.Weight
		}
		return ms[i].q.cfg.Name < ms[j].q.cfg.Name
	})
}

func cloneSkills(m map[string]int) map[string]int {
	if m == nil {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
