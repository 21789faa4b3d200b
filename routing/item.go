package routing

import (
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Item is a contact to route.
type Item struct {
	Contact  contact.ID        `json:"contact_id"`
	Channel  contact.Channel   `json:"channel"`
	Queue    contact.QueueName `json:"queue"`
	Priority int               `json:"priority"` // base priority, usually from TierPolicy.Decide
	Tier     string            `json:"tier,omitempty"`
	// Skills the contact requires (name → minimum level), added to the queue's.
	Skills     map[string]int    `json:"skills,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// CallerKey identifies a returning caller for abandoned-resume (e.g. the
	// normalised phone number). Empty: no resume.
	CallerKey string `json:"caller_key,omitempty"`
	// Callback: the customer wants to be called back rather than hold.
	Callback bool `json:"callback,omitempty"`
	// Agent, if set, routes the contact only to this agent (direct routing).
	Agent contact.AgentID `json:"agent_id,omitempty"`
	// EnqueuedAt is the original arrival time; zero means now. Kept across
	// overflow, transfer and restart so the contact keeps its place.
	EnqueuedAt time.Time `json:"enqueued_at"`
}

type cstate uint8

const (
	cWaiting cstate = iota
	cOffered
	cAssigned
)

func (s cstate) String() string {
	switch s {
	case cWaiting:
		return "waiting"
	case cOffered:
		return "offered"
	}
	return "assigned"
}

// waiting is a contact known to the engine: waiting, being offered, or
// assigned to an agent.
type waiting struct {
	item     Item
	q        *queue
	cls      *class
	reqs     []skillReq
	stage    int
	key      int64 // priority×1e6 − rateMilli×enqMs: effective = key + rateMilli×nowMs
	enqMs    int64
	seq      uint64
	queuedAt time.Time // entered q
	state    cstate
	hidx     int
	tm       timer
	offers   []*offer
	agent    *agent // assigned or direct target
	direct   bool   // waiting in agent.direct
	accepted time.Time
	hops     int
	dirty    bool
}

func (c *waiting) effective(nowMs int64) int64 { return c.key + c.q.rateMilli*nowMs }

// better orders contacts for an agent across queues of equal weight:
// higher effective priority, then older, then first arrived.
func better(a, b *waiting, nowMs int64) bool {
	ea, eb := a.effective(nowMs), b.effective(nowMs)
	if ea != eb {
		return ea > eb
	}
	if a.enqMs != b.enqMs {
		return a.enqMs < b.enqMs
	}
	return a.seq < b.seq
}

// OfferID identifies an offer.
type OfferID uint64

// Offer is a proposal of a contact to an agent.
type Offer struct {
	ID       OfferID           `json:"id"`
	Agent    contact.AgentID   `json:"agent_id"`
	Contact  contact.ID        `json:"contact_id"`
	Queue    contact.QueueName `json:"queue"`
	Channel  contact.Channel   `json:"channel"`
	Tier     string            `json:"tier,omitempty"`
	Priority int               `json:"priority"`
	Callback bool              `json:"callback,omitempty"`
	Ring     bool              `json:"ring,omitempty"` // one of several offers of a ring_all queue
	Created  time.Time         `json:"created"`
	Deadline time.Time         `json:"deadline"`
}

type offer struct {
	Offer
	c  *waiting
	a  *agent
	tm timer
}

type timerKind uint8

const (
	tContact timerKind = iota + 1
	tOffer
	tWrap
	tResume
)

// timer is an entry of the engine's deadline heap; owners embed one and
// the heap keeps its index for O(log n) cancel.
type timer struct {
	at   int64
	seq  uint64
	idx  int
	kind timerKind
	c    *waiting
	o    *offer
	a    *agent
	r    *resume
}

type timerHeap []*timer

func timerBefore(a, b *timer) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (h *timerHeap) push(t *timer) {
	*h = append(*h, t)
	t.idx = len(*h) - 1
	h.up(t.idx)
}

func (h *timerHeap) remove(t *timer) {
	i := t.idx
	if i < 0 {
		return
	}
	s := *h
	n := len(s) - 1
	if i != n {
		s[i] = s[n]
		s[i].idx = i
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	t.idx = -1
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !timerBefore(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		h[i].idx = i
		h[p].idx = p
		i = p
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && timerBefore(h[r], h[l]) {
			j = r
		}
		if !timerBefore(h[j], h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].idx = i
		h[j].idx = j
		i = j
	}
	return i > start
}

// resume remembers where an abandoning caller was.
type resume struct {
	key   string
	queue contact.QueueName
	enqMs int64
	enq   time.Time
	seq   uint64
	tm    timer
}
