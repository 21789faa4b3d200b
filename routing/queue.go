package routing

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Queue defaults.
const (
	DefaultServiceLevelThreshold = 20 * time.Second
	DefaultServiceLevelTarget    = 0.80
	DefaultOfferTimeout          = 20 * time.Second
	// MaxAgeingRate bounds Queue.AgeingRate (priority points per second).
	MaxAgeingRate = 1000
	// MaxPriority bounds |Item.Priority|.
	MaxPriority = 1_000_000_000
	// MaxLevel is the highest membership level (1 is served first).
	MaxLevel        = 9
	maxOverflowHops = 8
)

// Queue is the configuration of one queue.
type Queue struct {
	Name contact.QueueName `json:"name"`
	// Channels the queue serves; empty means every channel.
	Channels []contact.Channel `json:"channels,omitempty"`
	// Weight orders queues for an agent who is a member of several: a free
	// agent serves the heaviest queue that has a contact it can take, and
	// only among equally heavy queues compares contacts by effective priority.
	Weight int `json:"weight,omitempty"`
	// Skills every contact of the queue requires (name → minimum level 1–5),
	// merged with the contact's own.
	Skills map[string]int `json:"skills,omitempty"`
	// Strategy picks among free eligible agents: longest_idle (default),
	// least_occupied, round_robin, best_skill, ring_all, external.
	Strategy string `json:"strategy,omitempty"`
	// External decides for the external strategy.
	External ExternalFunc `json:"-"`
	// ServiceLevelThreshold T (default 20 s) and target (default 0.8).
	ServiceLevelThreshold time.Duration `json:"service_level_threshold,omitempty"`
	ServiceLevelTarget    float64       `json:"service_level_target,omitempty"`
	// AgeingRate is the priority points a contact gains per second of
	// waiting (resolution 0.001). 0 means pure priority then FIFO.
	AgeingRate float64 `json:"ageing_rate,omitempty"`
	// LevelWait widens membership levels: a contact that has waited
	// k×LevelWait in this queue may be offered to members of level ≤ k+1.
	// 0 means every level at once, the lowest level preferred.
	LevelWait time.Duration `json:"level_wait,omitempty"`
	// MaxWait moves a contact that waited that long in this queue to
	// Overflow. 0: no limit.
	MaxWait time.Duration `json:"max_wait,omitempty"`
	// Overflow receives contacts after MaxWait and when MaxLength is reached.
	Overflow contact.QueueName `json:"overflow,omitempty"`
	// MaxLength bounds the contacts waiting or being offered; 0: no limit.
	// A full queue overflows to Overflow, or Enqueue fails with ErrQueueFull.
	MaxLength int `json:"max_length,omitempty"`
	// EmptyOverflow receives contacts when no member is logged in (not
	// offline): on arrival, and all waiting ones when the last member logs out.
	EmptyOverflow contact.QueueName `json:"empty_overflow,omitempty"`
	// OfferTimeout is how long an agent has to accept (default 20 s).
	OfferTimeout time.Duration `json:"offer_timeout,omitempty"`
	// WrapUp is the after-contact work time; 0: none.
	WrapUp time.Duration `json:"wrapup,omitempty"`
	// ResumeWindow lets a caller who abandoned rejoin at the old place if
	// they come back (same Item.CallerKey) within this window. 0: off.
	ResumeWindow time.Duration `json:"resume_window,omitempty"`
}

func (q *Queue) normalise() error {
	if q.Name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalidQueue)
	}
	if q.Strategy == "" {
		q.Strategy = StrategyLongestIdle
	}
	if q.ServiceLevelThreshold <= 0 {
		q.ServiceLevelThreshold = DefaultServiceLevelThreshold
	}
	if q.ServiceLevelTarget <= 0 {
		q.ServiceLevelTarget = DefaultServiceLevelTarget
	}
	if q.OfferTimeout <= 0 {
		q.OfferTimeout = DefaultOfferTimeout
	}
	if q.AgeingRate < 0 || q.AgeingRate > MaxAgeingRate || math.IsNaN(q.AgeingRate) {
		return fmt.Errorf("%w: %s: ageing rate %v out of [0, %d]", ErrInvalidQueue, q.Name, q.AgeingRate, MaxAgeingRate)
	}
	for _, c := range q.Channels {
		if !c.Valid() {
			return fmt.Errorf("%w: %s: channel %q", ErrInvalidQueue, q.Name, c)
		}
	}
	for s, l := range q.Skills {
		if s == "" || l < 1 || l > 5 {
			return fmt.Errorf("%w: %s: skill %q level %d", ErrInvalidQueue, q.Name, s, l)
		}
	}
	if q.MaxWait < 0 || q.LevelWait < 0 || q.MaxLength < 0 || q.WrapUp < 0 || q.ResumeWindow < 0 {
		return fmt.Errorf("%w: %s: negative duration or length", ErrInvalidQueue, q.Name)
	}
	return nil
}

// queue is the live state of a queue.
type queue struct {
	cfg       Queue
	rateMilli int64 // AgeingRate in milli-points per second
	strat     Strategy
	ring      bool
	channels  [numChannels]bool
	reqs      []skillReq

	classes   map[string]*class
	classList []*class
	maxStage  int
	count     int // contacts of this queue waiting or offered (not direct)

	members  map[contact.AgentID]*member
	free     []*member // members whose agent is ready
	loggedIn int       // members not offline
	nextPos  int
}

func (q *queue) serves(ch contact.Channel) bool { return q.channels[chIdx(ch)] }

// member is an agent's membership of a queue.
type member struct {
	q       *queue
	a       *agent
	level   int
	pos     int
	freeIdx int
}

// class groups the contacts of a queue that have the same channel and skill
// requirements: they are eligible for exactly the same agents, so one heap
// per (class, stage) lets an agent look at the best of each in O(1).
type class struct {
	key    string
	ch     contact.Channel
	reqs   []skillReq
	stages []cheap // stages[s-1]: contacts visible to members of level ≤ s
	n      int
}

type skillReq struct {
	name  string
	level int
}

// mergeSkills returns sorted requirements (max of both maps).
func mergeSkills(a, b map[string]int) []skillReq {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	if len(a) == 0 || len(b) == 0 { // one side only: no merge map
		if len(a) == 0 {
			a = b
		}
		out := make([]skillReq, 0, len(a))
		for k, v := range a {
			out = append(out, skillReq{k, v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out
	}
	m := make(map[string]int, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		if v > m[k] {
			m[k] = v
		}
	}
	out := make([]skillReq, 0, len(m))
	for k, v := range m {
		out = append(out, skillReq{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func classKey(ch contact.Channel, reqs []skillReq) string {
	if len(reqs) == 0 {
		return string(ch)
	}
	var b strings.Builder
	b.WriteString(string(ch))
	for _, r := range reqs {
		b.WriteByte('|')
		b.WriteString(r.name)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(r.level))
	}
	return b.String()
}

func (q *queue) class(ch contact.Channel, reqs []skillReq) *class {
	k := classKey(ch, reqs)
	if cl, ok := q.classes[k]; ok {
		return cl
	}
	cl := &class{key: k, ch: ch, reqs: reqs, stages: make([]cheap, q.maxStage)}
	q.classes[k] = cl
	q.classList = append(q.classList, cl)
	return cl
}

// stageAt is the highest member level that may serve c at nowNs.
func (q *queue) stageAt(queuedNs, nowNs int64) int {
	if q.cfg.LevelWait <= 0 || q.maxStage <= 1 {
		return q.maxStage
	}
	s := 1 + int((nowNs-queuedNs)/int64(q.cfg.LevelWait))
	if s > q.maxStage {
		s = q.maxStage
	}
	if s < 1 {
		s = 1
	}
	return s
}

// cheap is a binary max-heap of waiting contacts ordered by key (priority
// minus ageing credit at enqueue time), then enqueue time, then arrival
// sequence. Each contact keeps its index for O(log n) removal.
type cheap []*waiting

func contactBefore(a, b *waiting) bool {
	if a.key != b.key {
		return a.key > b.key
	}
	if a.enqMs != b.enqMs {
		return a.enqMs < b.enqMs
	}
	return a.seq < b.seq
}

func (h *cheap) push(c *waiting) {
	*h = append(*h, c)
	c.hidx = len(*h) - 1
	h.up(c.hidx)
}

func (h *cheap) remove(i int) {
	s := *h
	n := len(s) - 1
	c := s[i]
	if i != n {
		s[i] = s[n]
		s[i].hidx = i
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	c.hidx = -1
}

func (h cheap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !contactBefore(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		h[i].hidx = i
		h[p].hidx = p
		i = p
	}
}

func (h cheap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && contactBefore(h[r], h[l]) {
			j = r
		}
		if !contactBefore(h[j], h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].hidx = i
		h[j].hidx = j
		i = j
	}
	return i > start
}
