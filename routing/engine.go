package routing

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Config configures an Engine. The zero value is usable.
type Config struct {
	// AutoAwayAfter puts an agent Away("missed_offers") after this many
	// consecutive offers timed out. 0 means 3; negative disables.
	AutoAwayAfter int
	// Sink, if set, receives every event, in order, synchronously and
	// under the engine's lock: it must be quick and must not call the Engine.
	Sink func(Event)
	// ShortAbandon: abandons quicker than this are left out of the service
	// level (default 5 s).
	ShortAbandon time.Duration
	// TierServiceLevelThreshold is T for per-tier statistics (default 20 s).
	TierServiceLevelThreshold time.Duration
}

// Engine is the routing engine. All methods are safe for concurrent use:
// the Engine serialises them with its own mutex. Methods that change state
// take now, first fire every deadline (offer timeouts, wrap-ups, level
// widening, max wait) that is due up to now, in time order and each at its
// own instant, then apply the change, then make every offer that has
// become possible. Time never goes backwards: a now earlier than one
// already seen is taken as the latest seen. They return the events of that
// step (also on error, for the deadlines that fired first).
type Engine struct {
	mu  sync.Mutex
	cfg Config

	now     time.Time
	nowNs   int64
	nowMs   int64
	started bool

	queues   map[contact.QueueName]*queue
	agents   map[contact.AgentID]*agent
	contacts map[contact.ID]*waiting
	offers   map[OfferID]*offer
	resumes  map[string]*resume
	timers   timerHeap

	seq       uint64
	tseq      uint64
	nextOffer OfferID

	evs           []Event
	dirtyAgents   []*agent
	spareAgents   []*agent
	dirtyContacts []*waiting
	spareContacts []*waiting
	cands         []AgentView
	candAgents    []*agent
	ids           []contact.AgentID

	stats *Stats
}

// New returns an empty engine.
func New(cfg Config) *Engine {
	if cfg.AutoAwayAfter == 0 {
		cfg.AutoAwayAfter = 3
	}
	if cfg.ShortAbandon <= 0 {
		cfg.ShortAbandon = 5 * time.Second
	}
	if cfg.TierServiceLevelThreshold <= 0 {
		cfg.TierServiceLevelThreshold = DefaultServiceLevelThreshold
	}
	e := &Engine{
		cfg:      cfg,
		queues:   map[contact.QueueName]*queue{},
		agents:   map[contact.AgentID]*agent{},
		contacts: map[contact.ID]*waiting{},
		offers:   map[OfferID]*offer{},
		resumes:  map[string]*resume{},
	}
	e.stats = NewStats(StatsConfig{ShortAbandon: cfg.ShortAbandon, TierThreshold: cfg.TierServiceLevelThreshold})
	e.stats.external = true
	return e
}

// ---- step plumbing ----

func (e *Engine) begin(now time.Time) {
	e.mu.Lock()
	e.evs = e.evs[:0]
	e.advance(now)
}

func (e *Engine) end() []Event {
	e.settle()
	var out []Event
	if len(e.evs) > 0 {
		out = make([]Event, len(e.evs))
		copy(out, e.evs)
		for i := range out {
			e.stats.Apply(out[i])
			if e.cfg.Sink != nil {
				e.cfg.Sink(out[i])
			}
		}
	}
	e.mu.Unlock()
	return out
}

func (e *Engine) setNow(t time.Time) {
	ns := t.UnixNano()
	if e.started && ns < e.nowNs {
		return
	}
	e.started = true
	e.now, e.nowNs = t, ns
	e.nowMs = floorDiv(ns, 1e6)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}

// advance fires due timers in order, each at its own time.
func (e *Engine) advance(now time.Time) {
	ns := now.UnixNano()
	if e.started && ns < e.nowNs {
		now, ns = e.now, e.nowNs
	}
	for len(e.timers) > 0 && e.timers[0].at <= ns {
		when := e.timers[0].at
		e.setNow(now.Add(time.Duration(when - ns)))
		// every deadline of the same instant fires before matching
		for len(e.timers) > 0 && e.timers[0].at == when {
			t := e.timers[0]
			e.timers.remove(t)
			e.fire(t)
		}
		e.settle()
	}
	e.setNow(now)
}

func (e *Engine) schedule(t *timer, at int64) {
	e.timers.remove(t)
	e.tseq++
	t.at, t.seq = at, e.tseq
	e.timers.push(t)
}

func (e *Engine) fire(t *timer) {
	switch t.kind {
	case tContact:
		e.checkContact(t.c)
	case tOffer:
		e.timeout(t.o)
	case tWrap:
		e.endWrap(t.a)
	case tResume:
		if e.resumes[t.r.key] == t.r {
			delete(e.resumes, t.r.key)
		}
	}
}

// ---- events ----

func (e *Engine) cev(kind EventKind, c *waiting) *Event {
	e.evs = append(e.evs, Event{
		Kind: kind, At: e.now, Contact: c.item.Contact, Queue: c.item.Queue, Tier: c.item.Tier,
		Channel: c.item.Channel, Priority: c.item.Priority, Callback: c.item.Callback,
		Wait: e.now.Sub(c.item.EnqueuedAt), QueueWait: e.now.Sub(c.queuedAt),
	})
	return &e.evs[len(e.evs)-1]
}

// touch recomputes an agent's state, emits a change, keeps the free lists
// in step and marks the agent for matching if it can take work.
func (e *Engine) touch(a *agent) {
	if st := a.derivedState(); st != a.state {
		ev := Event{Kind: EventAgentStateChanged, At: e.now, Agent: a.cfg.ID, From: a.state, State: st}
		if st == StateAway {
			ev.Reason = a.presence.Reason
		}
		e.evs = append(e.evs, ev)
		a.state = st
	}
	r := a.ready()
	if r != a.listed {
		for _, m := range a.members {
			if r {
				m.freeIdx = len(m.q.free)
				m.q.free = append(m.q.free, m)
			} else {
				removeFree(m)
			}
		}
		a.listed = r
	}
	if r && !a.dirty {
		a.dirty = true
		e.dirtyAgents = append(e.dirtyAgents, a)
	}
}

func removeFree(m *member) {
	f := m.q.free
	i := m.freeIdx
	if i < 0 {
		return
	}
	last := len(f) - 1
	f[i] = f[last]
	f[i].freeIdx = i
	f[last] = nil
	m.q.free = f[:last]
	m.freeIdx = -1
}

func (e *Engine) markContact(c *waiting) {
	if !c.dirty && c.state == cWaiting {
		c.dirty = true
		e.dirtyContacts = append(e.dirtyContacts, c)
	}
}

// ---- queues ----

// AddQueue adds a queue. Queues named as overflow targets may be added
// later; an overflow to a missing queue does not happen.
func (e *Engine) AddQueue(cfg Queue) error {
	if err := cfg.normalise(); err != nil {
		return fmt.Errorf("routing: add queue: %w", err)
	}
	cfg.Skills = cloneSkills(cfg.Skills)
	st, err := NewStrategy(cfg.Strategy, cfg.External)
	if err != nil {
		return fmt.Errorf("routing: add queue %s: %w", cfg.Name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.queues[cfg.Name]; ok {
		return fmt.Errorf("routing: add queue %s: %w", cfg.Name, ErrQueueExists)
	}
	q := &queue{
		cfg: cfg, strat: st, rateMilli: int64(math.Round(cfg.AgeingRate * 1000)),
		classes: map[string]*class{}, members: map[contact.AgentID]*member{}, maxStage: 1,
		reqs: mergeSkills(cfg.Skills, nil),
	}
	if r, ok := st.(Ringer); ok && r.RingAll() {
		q.ring = true
	}
	for i := range q.channels {
		q.channels[i] = len(cfg.Channels) == 0
	}
	for _, c := range cfg.Channels {
		q.channels[chIdx(c)] = true
	}
	e.queues[cfg.Name] = q
	e.stats.SetQueue(cfg.Name, cfg.ServiceLevelThreshold, cfg.ServiceLevelTarget)
	return nil
}

// growStages raises a queue's highest membership level.
func (e *Engine) growStages(q *queue, level int) {
	if level <= q.maxStage {
		return
	}
	var cs []*waiting
	for _, cl := range q.classList {
		for _, h := range cl.stages {
			cs = append(cs, h...)
		}
		for len(cl.stages) < level {
			cl.stages = append(cl.stages, nil)
		}
	}
	q.maxStage = level
	for _, c := range cs {
		e.restage(c)
		e.scheduleContact(c)
	}
}

// overflowTarget says where a contact arriving in q must go instead.
func (e *Engine) overflowTarget(q *queue) (*queue, string) {
	if q.cfg.EmptyOverflow != "" && q.loggedIn == 0 {
		if t := e.queues[q.cfg.EmptyOverflow]; t != nil && t != q {
			return t, ReasonNoAgents
		}
	}
	if q.cfg.MaxLength > 0 && q.count >= q.cfg.MaxLength {
		if t := e.queues[q.cfg.Overflow]; t != nil && t != q {
			return t, ReasonMaxLength
		}
	}
	return nil, ""
}

// enterQueue places a detached contact in q, following overflow rules.
// The caller has emitted the event that brought it here.
func (e *Engine) enterQueue(c *waiting, q *queue) {
	c.item.Queue = q.cfg.Name
	c.queuedAt = e.now
	for c.hops < maxOverflowHops {
		to, reason := e.overflowTarget(q)
		if to == nil {
			break
		}
		ev := e.cev(EventOverflowed, c)
		ev.ToQueue, ev.Reason = to.cfg.Name, reason
		c.hops++
		q = to
		c.item.Queue = q.cfg.Name
	}
	e.insert(c, q)
}

// insert puts a detached contact into q's heaps keeping c.queuedAt.
func (e *Engine) insert(c *waiting, q *queue) {
	c.q = q
	c.item.Queue = q.cfg.Name
	c.direct, c.agent = false, nil
	c.reqs = mergeSkills(q.cfg.Skills, c.item.Skills)
	c.cls = q.class(c.item.Channel, c.reqs)
	c.key = int64(c.item.Priority)*1_000_000 - q.rateMilli*c.enqMs
	c.state = cWaiting
	q.count++
	c.stage = q.stageAt(c.queuedAt.UnixNano(), e.nowNs)
	c.cls.stages[c.stage-1].push(c)
	c.cls.n++
	e.markContact(c)
	e.checkContact(c)
}

// unheap takes a waiting contact out of its heap or direct list.
func (e *Engine) unheap(c *waiting) {
	if c.hidx >= 0 {
		c.cls.stages[c.stage-1].remove(c.hidx)
		c.cls.n--
	}
	if c.direct && c.state == cWaiting {
		d := c.agent.direct
		for i, x := range d {
			if x == c {
				copy(d[i:], d[i+1:])
				d[len(d)-1] = nil
				c.agent.direct = d[:len(d)-1]
				break
			}
		}
	}
	e.timers.remove(&c.tm)
}

// leaveQueue detaches a waiting or offered contact from its queue.
func (e *Engine) leaveQueue(c *waiting) {
	e.unheap(c)
	if !c.direct {
		c.q.count--
	}
	c.direct, c.agent = false, nil
}

func (e *Engine) restage(c *waiting) {
	s := c.q.stageAt(c.queuedAt.UnixNano(), e.nowNs)
	if s == c.stage {
		return
	}
	if c.hidx >= 0 {
		c.cls.stages[c.stage-1].remove(c.hidx)
		c.stage = s
		c.cls.stages[s-1].push(c)
		e.markContact(c)
	} else {
		c.stage = s
	}
}

// checkContact applies max wait and level widening, and schedules the next.
func (e *Engine) checkContact(c *waiting) {
	if c.state != cWaiting || c.direct {
		return
	}
	q := c.q
	qns := c.queuedAt.UnixNano()
	if q.cfg.MaxWait > 0 && e.nowNs-qns >= int64(q.cfg.MaxWait) && c.hops < maxOverflowHops {
		if to := e.queues[q.cfg.Overflow]; to != nil && to != q {
			e.leaveQueue(c)
			ev := e.cev(EventOverflowed, c)
			ev.ToQueue, ev.Reason = to.cfg.Name, ReasonMaxWait
			c.hops++
			e.enterQueue(c, to)
			return
		}
	}
	e.restage(c)
	e.scheduleContact(c)
}

func (e *Engine) scheduleContact(c *waiting) {
	e.timers.remove(&c.tm)
	if c.state != cWaiting || c.direct {
		return
	}
	q := c.q
	qns := c.queuedAt.UnixNano()
	at := int64(math.MaxInt64)
	if q.cfg.LevelWait > 0 && c.stage < q.maxStage {
		if t := qns + int64(c.stage)*int64(q.cfg.LevelWait); t > e.nowNs {
			at = t
		}
	}
	if q.cfg.MaxWait > 0 && q.cfg.Overflow != "" && c.hops < maxOverflowHops {
		if t := qns + int64(q.cfg.MaxWait); t > e.nowNs && t < at {
			at = t
		}
	}
	if at == math.MaxInt64 {
		return
	}
	c.tm.kind, c.tm.c = tContact, c
	e.schedule(&c.tm, at)
}

// emptyQueue moves every waiting contact of a queue with no logged-in
// member to its EmptyOverflow.
func (e *Engine) emptyQueue(q *queue) {
	if q.cfg.EmptyOverflow == "" || q.loggedIn > 0 {
		return
	}
	to := e.queues[q.cfg.EmptyOverflow]
	if to == nil || to == q {
		return
	}
	var cs []*waiting
	for _, cl := range q.classList {
		for _, h := range cl.stages {
			cs = append(cs, h...)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return better(cs[i], cs[j], e.nowMs) })
	for _, c := range cs {
		if c.hops >= maxOverflowHops {
			continue
		}
		e.leaveQueue(c)
		ev := e.cev(EventOverflowed, c)
		ev.ToQueue, ev.Reason = to.cfg.Name, ReasonNoAgents
		c.hops++
		e.enterQueue(c, to)
	}
}

// ---- agents ----

// SetAgent adds an agent (offline) or replaces an agent's configuration,
// keeping its presence, work in hand and idle time.
func (e *Engine) SetAgent(cfg Agent, now time.Time) ([]Event, error) {
	cfg.Queues = append([]Membership(nil), cfg.Queues...)
	if err := validateAgent(&cfg); err != nil {
		return nil, fmt.Errorf("routing: set agent: %w", err)
	}
	e.begin(now)
	err := e.setAgent(cfg)
	return e.end(), err
}

func (e *Engine) setAgent(cfg Agent) error {
	for _, m := range cfg.Queues {
		if e.queues[m.Queue] == nil {
			return fmt.Errorf("routing: set agent %d: %s: %w", cfg.ID, m.Queue, ErrUnknownQueue)
		}
	}
	cfg.Skills = cloneSkills(cfg.Skills)
	caps := make(map[contact.Channel]int, len(cfg.Capacity))
	for k, v := range cfg.Capacity {
		caps[k] = v
	}
	cfg.Capacity = caps
	a := e.agents[cfg.ID]
	if a == nil {
		a = &agent{presence: Offline, state: StateOffline, assigned: map[contact.ID]*waiting{}, idleSince: e.now}
		a.wrapTm.idx, a.wrapTm.kind, a.wrapTm.a = -1, tWrap, a
		e.agents[cfg.ID] = a
	}
	logged := a.presence.State != StateOffline
	oldPos := map[contact.QueueName]int{}
	var left []*queue
	for _, m := range a.members {
		if a.listed {
			removeFree(m)
		}
		if logged {
			m.q.loggedIn--
			left = append(left, m.q)
		}
		oldPos[m.q.cfg.Name] = m.pos
		delete(m.q.members, cfg.ID)
	}
	a.listed = false
	a.cfg = cfg
	for _, ch := range contact.Channels {
		n, ok := cfg.Capacity[ch]
		if !ok {
			n = DefaultCapacity[ch]
		}
		a.capacity[chIdx(ch)] = n
	}
	a.members = a.members[:0]
	names := make([]contact.QueueName, 0, len(cfg.Queues))
	for _, ms := range cfg.Queues {
		q := e.queues[ms.Queue]
		pos, ok := oldPos[ms.Queue]
		if !ok {
			q.nextPos++
			pos = q.nextPos
		}
		m := &member{q: q, a: a, level: ms.Level, pos: pos, freeIdx: -1}
		q.members[cfg.ID] = m
		if logged {
			q.loggedIn++
		}
		a.members = append(a.members, m)
		names = append(names, ms.Queue)
		e.growStages(q, ms.Level)
	}
	sortMembers(a.members)
	e.stats.SetAgentQueues(cfg.ID, names)
	e.touch(a)
	for _, q := range left {
		e.emptyQueue(q)
	}
	return nil
}

// RemoveAgent removes an agent that holds no contacts. A ringing offer is
// withdrawn and its contact keeps its place.
func (e *Engine) RemoveAgent(id contact.AgentID, now time.Time) ([]Event, error) {
	e.begin(now)
	err := e.removeAgent(id)
	return e.end(), err
}

func (e *Engine) removeAgent(id contact.AgentID) error {
	a := e.agents[id]
	if a == nil {
		return fmt.Errorf("routing: remove agent %d: %w", id, ErrUnknownAgent)
	}
	if len(a.assigned) > 0 || len(a.direct) > 0 {
		return fmt.Errorf("routing: remove agent %d: %w", id, ErrAgentBusy)
	}
	if a.offer != nil {
		e.withdraw(a.offer, ReasonRemoved)
	}
	if a.wrapping {
		e.endWrap(a)
	}
	if err := e.setPresence(id, Offline); err != nil {
		return err
	}
	if err := e.setAgent(Agent{ID: id}); err != nil {
		return err
	}
	delete(e.agents, id)
	e.stats.SetAgentQueues(id, nil)
	return nil
}

// SetAgentState sets an agent's presence: Available, Offline or Away(reason).
// Going offline or away withdraws a ringing offer (the contact keeps its
// place); contacts in hand stay until completed.
func (e *Engine) SetAgentState(id contact.AgentID, p Presence, now time.Time) ([]Event, error) {
	e.begin(now)
	err := e.setPresence(id, p)
	return e.end(), err
}

func (e *Engine) setPresence(id contact.AgentID, p Presence) error {
	a := e.agents[id]
	if a == nil {
		return fmt.Errorf("routing: set agent state %d: %w", id, ErrUnknownAgent)
	}
	switch p.State {
	case StateAvailable, StateOffline, StateAway:
	default:
		return fmt.Errorf("routing: set agent state %d: %w: presence %q", id, ErrInvalidAgent, p.State)
	}
	was := a.presence
	a.presence = p
	if p.State != StateAvailable && a.offer != nil {
		e.withdraw(a.offer, ReasonAgentAway)
	}
	if p.State == StateAvailable && was.State != StateAvailable {
		a.idleSince = e.now
		a.missed = 0
	}
	wasIn, isIn := was.State != StateOffline, p.State != StateOffline
	if wasIn != isIn {
		for _, m := range a.members {
			if isIn {
				m.q.loggedIn++
			} else {
				m.q.loggedIn--
			}
		}
	}
	e.touch(a)
	if wasIn && !isIn {
		for _, m := range a.members {
			e.emptyQueue(m.q)
		}
	}
	return nil
}

// ---- contacts ----

// Enqueue adds a contact. Its place is (priority − ageing credit, original
// EnqueuedAt, arrival order). A caller (CallerKey) who abandoned the same
// queue within its ResumeWindow gets the old place back.
func (e *Engine) Enqueue(it Item, now time.Time) ([]Event, error) {
	e.begin(now)
	err := e.enqueue(it)
	return e.end(), err
}

func (e *Engine) enqueue(it Item) error {
	if it.Contact == 0 || !it.Channel.Valid() || it.Priority > MaxPriority || it.Priority < -MaxPriority {
		return fmt.Errorf("routing: enqueue %d: %w", it.Contact, ErrInvalidItem)
	}
	if _, ok := e.contacts[it.Contact]; ok {
		return fmt.Errorf("routing: enqueue %d: %w", it.Contact, ErrDuplicate)
	}
	q := e.queues[it.Queue]
	if q == nil {
		return fmt.Errorf("routing: enqueue %d: %s: %w", it.Contact, it.Queue, ErrUnknownQueue)
	}
	if !q.serves(it.Channel) {
		return fmt.Errorf("routing: enqueue %d: %s on %s: %w", it.Contact, it.Channel, it.Queue, ErrChannel)
	}
	for s, l := range it.Skills {
		if s == "" || l < 1 || l > 5 {
			return fmt.Errorf("routing: enqueue %d: %w: skill %q level %d", it.Contact, ErrInvalidItem, s, l)
		}
	}
	var target *agent
	if it.Agent != 0 {
		if target = e.agents[it.Agent]; target == nil {
			return fmt.Errorf("routing: enqueue %d: %w", it.Contact, ErrUnknownAgent)
		}
	} else if to, _ := e.overflowTarget(q); to == nil && q.cfg.MaxLength > 0 && q.count >= q.cfg.MaxLength {
		return fmt.Errorf("routing: enqueue %d: %s: %w", it.Contact, it.Queue, ErrQueueFull)
	}
	if it.EnqueuedAt.IsZero() || it.EnqueuedAt.After(e.now) {
		it.EnqueuedAt = e.now
	}
	it.Skills = cloneSkills(it.Skills)
	c := &waiting{item: it, hidx: -1, q: q, queuedAt: e.now}
	c.tm.idx = -1
	resumed := false
	if it.CallerKey != "" {
		if r := e.resumes[it.CallerKey]; r != nil && r.queue == it.Queue {
			c.item.EnqueuedAt, c.seq = r.enq, r.seq
			e.timers.remove(&r.tm)
			delete(e.resumes, it.CallerKey)
			resumed = true
		}
	}
	if !resumed {
		e.seq++
		c.seq = e.seq
	}
	c.enqMs = floorDiv(c.item.EnqueuedAt.UnixNano(), 1e6)
	e.contacts[it.Contact] = c
	ev := e.cev(EventEnqueued, c)
	if resumed {
		ev.Resumed, ev.Reason = true, ReasonResumed
	}
	if target != nil {
		e.toAgent(c, target)
		return nil
	}
	e.enterQueue(c, q)
	return nil
}

// toAgent parks a detached contact for one agent.
func (e *Engine) toAgent(c *waiting, a *agent) {
	c.direct, c.agent, c.state = true, a, cWaiting
	c.stage = 0
	a.direct = append(a.direct, c)
	e.markContact(c)
}

// RequestCallback marks a waiting contact as wanting a callback: it keeps
// its place without holding a line and its offers say Callback.
func (e *Engine) RequestCallback(id contact.ID, now time.Time) ([]Event, error) {
	e.begin(now)
	c := e.contacts[id]
	var err error
	switch {
	case c == nil:
		err = fmt.Errorf("routing: callback %d: %w", id, ErrUnknownContact)
	case c.state == cAssigned:
		err = fmt.Errorf("routing: callback %d: %w", id, ErrNotWaiting)
	default:
		c.item.Callback = true
		e.cev(EventCallbackRequested, c)
	}
	return e.end(), err
}

// Abandon removes a waiting or ringing contact whose customer left. Its
// place is remembered for its queue's ResumeWindow under its CallerKey.
func (e *Engine) Abandon(id contact.ID, now time.Time) ([]Event, error) {
	e.begin(now)
	err := e.abandon(id)
	return e.end(), err
}

func (e *Engine) abandon(id contact.ID) error {
	c := e.contacts[id]
	if c == nil {
		return fmt.Errorf("routing: abandon %d: %w", id, ErrUnknownContact)
	}
	if c.state == cAssigned {
		return fmt.Errorf("routing: abandon %d: %w", id, ErrNotWaiting)
	}
	e.cev(EventAbandoned, c)
	for len(c.offers) > 0 {
		e.withdrawOnly(c.offers[0], ReasonAbandoned)
	}
	c.state = cWaiting
	e.leaveQueue(c)
	e.forget(c)
	if k := c.item.CallerKey; k != "" && c.q.cfg.ResumeWindow > 0 {
		if old := e.resumes[k]; old != nil {
			e.timers.remove(&old.tm)
		}
		r := &resume{key: k, queue: c.q.cfg.Name, enqMs: c.enqMs, enq: c.item.EnqueuedAt, seq: c.seq}
		r.tm.idx, r.tm.kind, r.tm.r = -1, tResume, r
		e.resumes[k] = r
		e.schedule(&r.tm, e.nowNs+int64(c.q.cfg.ResumeWindow))
	}
	return nil
}

const cGone cstate = 9

func (e *Engine) forget(c *waiting) {
	delete(e.contacts, c.item.Contact)
	c.state = cGone
	e.timers.remove(&c.tm)
}

// Transfer moves a contact to another queue. A waiting or ringing contact
// keeps its original EnqueuedAt; an assigned one leaves its agent (who
// goes to wrap-up) and waits again in the new queue.
func (e *Engine) Transfer(id contact.ID, to contact.QueueName, now time.Time) ([]Event, error) {
	e.begin(now)
	err := e.transfer(id, to, 0)
	return e.end(), err
}

// TransferToAgent routes a contact to one agent only: it waits for that
// agent (ahead of the agent's queues) whatever the agent's skills.
func (e *Engine) TransferToAgent(id contact.ID, to contact.AgentID, now time.Time) ([]Event, error) {
	e.begin(now)
	err := e.transfer(id, "", to)
	return e.end(), err
}

func (e *Engine) transfer(id contact.ID, toQ contact.QueueName, toA contact.AgentID) error {
	c := e.contacts[id]
	if c == nil {
		return fmt.Errorf("routing: transfer %d: %w", id, ErrUnknownContact)
	}
	var q *queue
	var a *agent
	if toA != 0 {
		if a = e.agents[toA]; a == nil {
			return fmt.Errorf("routing: transfer %d: %w", id, ErrUnknownAgent)
		}
		if c.state == cAssigned && c.agent == a {
			return fmt.Errorf("routing: transfer %d: already with agent %d: %w", id, toA, ErrInvalidItem)
		}
	} else {
		if q = e.queues[toQ]; q == nil {
			return fmt.Errorf("routing: transfer %d: %s: %w", id, toQ, ErrUnknownQueue)
		}
		if !q.serves(c.item.Channel) {
			return fmt.Errorf("routing: transfer %d: %w", id, ErrChannel)
		}
	}
	ev := e.cev(EventTransferred, c)
	ev.ToQueue, ev.ToAgent = toQ, toA
	if c.state == cAssigned {
		from := c.agent
		ev.Agent, ev.Talk = from.cfg.ID, e.now.Sub(c.accepted)
		e.release(c)
		c.hops = 0
	} else {
		for len(c.offers) > 0 {
			e.withdrawOnly(c.offers[0], ReasonTransferred)
		}
		c.state = cWaiting
		e.leaveQueue(c)
	}
	c.state = cWaiting
	if a != nil {
		e.toAgent(c, a)
		return nil
	}
	e.enterQueue(c, q)
	return nil
}

// release takes an assigned contact off its agent, starting wrap-up.
func (e *Engine) release(c *waiting) {
	a := c.agent
	a.load[chIdx(c.item.Channel)]--
	delete(a.assigned, c.item.Contact)
	a.handled++
	c.agent = nil
	if w := c.q.cfg.WrapUp; w > 0 {
		if a.wrapping {
			e.endWrap(a)
		}
		a.wrapping, a.wrapStart = true, e.now
		a.wrapC = &waiting{item: c.item, q: c.q, queuedAt: c.queuedAt}
		e.schedule(&a.wrapTm, e.nowNs+int64(w))
	} else {
		a.idleSince = e.now
	}
	e.touch(a)
}

// Complete ends an assigned contact; the agent goes to the queue's wrap-up.
func (e *Engine) Complete(id contact.ID, now time.Time) ([]Event, error) {
	e.begin(now)
	c := e.contacts[id]
	var err error
	switch {
	case c == nil:
		err = fmt.Errorf("routing: complete %d: %w", id, ErrUnknownContact)
	case c.state != cAssigned:
		err = fmt.Errorf("routing: complete %d: %w", id, ErrNotAssigned)
	default:
		ev := e.cev(EventCompleted, c)
		ev.Agent, ev.Talk = c.agent.cfg.ID, e.now.Sub(c.accepted)
		e.forget(c)
		e.release(c)
	}
	return e.end(), err
}

// EndWrapUp ends an agent's wrap-up before its timer.
func (e *Engine) EndWrapUp(id contact.AgentID, now time.Time) ([]Event, error) {
	e.begin(now)
	a := e.agents[id]
	var err error
	switch {
	case a == nil:
		err = fmt.Errorf("routing: end wrap-up %d: %w", id, ErrUnknownAgent)
	case !a.wrapping:
		err = fmt.Errorf("routing: end wrap-up %d: %w", id, ErrNotWrappingUp)
	default:
		e.endWrap(a)
	}
	return e.end(), err
}

func (e *Engine) endWrap(a *agent) {
	if !a.wrapping {
		return
	}
	e.timers.remove(&a.wrapTm)
	ev := e.cev(EventWrapUpEnded, a.wrapC)
	ev.Agent, ev.WrapUp = a.cfg.ID, e.now.Sub(a.wrapStart)
	ev.Wait, ev.QueueWait = 0, 0
	a.wrapping, a.wrapC = false, nil
	a.idleSince = e.now
	e.touch(a)
}

// Tick advances the clock to now, firing due deadlines.
func (e *Engine) Tick(now time.Time) []Event {
	e.begin(now)
	return e.end()
}

// NextDeadline is the time of the next pending deadline, if any: call Tick
// then (or earlier).
func (e *Engine) NextDeadline() (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.timers) == 0 {
		return time.Time{}, false
	}
	return e.now.Add(time.Duration(e.timers[0].at - e.nowNs)), true
}

// ---- offers ----

// Accept assigns the offered contact to the agent. Other ring_all offers
// for it are withdrawn.
func (e *Engine) Accept(id OfferID, now time.Time) ([]Event, error) {
	e.begin(now)
	err := e.accept(id)
	return e.end(), err
}

func (e *Engine) accept(id OfferID) error {
	o := e.offers[id]
	if o == nil {
		return fmt.Errorf("routing: accept offer %d: %w", id, ErrUnknownOffer)
	}
	c, a := o.c, o.a
	ev := e.cev(EventAccepted, c)
	ev.Agent, ev.Offer = a.cfg.ID, o.ID
	for _, x := range append([]*offer(nil), c.offers...) {
		if x != o {
			e.withdrawOnly(x, ReasonAnswered)
		}
	}
	e.timers.remove(&o.tm)
	delete(e.offers, o.ID)
	c.offers = c.offers[:0]
	a.offer = nil // load stays: the offer's slot becomes the assignment
	c.state = cWaiting
	e.leaveQueue(c)
	c.state, c.agent, c.accepted = cAssigned, a, e.now
	a.assigned[c.item.Contact] = c
	a.missed = 0
	a.idleSince = e.now
	e.touch(a)
	return nil
}

// Decline puts the contact back in its place; the agent stays available.
func (e *Engine) Decline(id OfferID, now time.Time) ([]Event, error) {
	e.begin(now)
	o := e.offers[id]
	var err error
	if o == nil {
		err = fmt.Errorf("routing: decline offer %d: %w", id, ErrUnknownOffer)
	} else {
		ev := e.cev(EventDeclined, o.c)
		ev.Agent, ev.Offer = o.a.cfg.ID, o.ID
		e.dropOffer(o)
		if len(o.c.offers) == 0 {
			e.requeue(o.c)
		}
	}
	return e.end(), err
}

func (e *Engine) timeout(o *offer) {
	ev := e.cev(EventTimedOut, o.c)
	ev.Agent, ev.Offer = o.a.cfg.ID, o.ID
	a := o.a
	e.dropOffer(o)
	a.missed++
	if e.cfg.AutoAwayAfter > 0 && a.missed >= e.cfg.AutoAwayAfter && a.presence.State == StateAvailable {
		a.presence = Away(ReasonMissedOffers)
		e.touch(a)
	}
	if len(o.c.offers) == 0 {
		e.requeue(o.c)
	}
}

// withdraw takes an offer back and requeues its contact if none is left.
func (e *Engine) withdraw(o *offer, reason string) {
	e.withdrawOnly(o, reason)
	if len(o.c.offers) == 0 {
		e.requeue(o.c)
	}
}

func (e *Engine) withdrawOnly(o *offer, reason string) {
	ev := e.cev(EventWithdrawn, o.c)
	ev.Agent, ev.Offer, ev.Reason = o.a.cfg.ID, o.ID, reason
	e.dropOffer(o)
}

func (e *Engine) dropOffer(o *offer) {
	e.timers.remove(&o.tm)
	delete(e.offers, o.ID)
	c, a := o.c, o.a
	for i, x := range c.offers {
		if x == o {
			c.offers = append(c.offers[:i], c.offers[i+1:]...)
			break
		}
	}
	if a.offer == o {
		a.offer = nil
		a.load[chIdx(c.item.Channel)]--
	}
	e.touch(a)
}

// requeue returns an offered contact to its place.
func (e *Engine) requeue(c *waiting) {
	c.state = cWaiting
	if c.direct {
		c.agent.direct = append(c.agent.direct, c)
		e.markContact(c)
		return
	}
	c.stage = c.q.stageAt(c.queuedAt.UnixNano(), e.nowNs)
	c.cls.stages[c.stage-1].push(c)
	c.cls.n++
	e.markContact(c)
	e.checkContact(c)
}

func (e *Engine) makeOffer(c *waiting, a *agent, ring bool) {
	if len(c.offers) == 0 {
		e.unheap(c)
	}
	c.state = cOffered
	e.nextOffer++
	q := c.q
	o := &offer{Offer: Offer{
		ID: e.nextOffer, Agent: a.cfg.ID, Contact: c.item.Contact, Queue: q.cfg.Name,
		Channel: c.item.Channel, Tier: c.item.Tier, Priority: c.item.Priority,
		Callback: c.item.Callback, Ring: ring, Created: e.now, Deadline: e.now.Add(q.cfg.OfferTimeout),
	}, c: c, a: a}
	o.tm.idx, o.tm.kind, o.tm.o = -1, tOffer, o
	e.schedule(&o.tm, e.nowNs+int64(q.cfg.OfferTimeout))
	e.offers[o.ID] = o
	c.offers = append(c.offers, o)
	a.offer = o
	a.load[chIdx(c.item.Channel)]++
	ev := e.cev(EventOffered, c)
	ev.Agent, ev.Offer, ev.Deadline = a.cfg.ID, o.ID, o.Deadline
	e.touch(a)
}

// ---- matching ----

// settle makes every offer that has become possible. Agents that became
// free pick their best contact (longest idle first); then contacts that
// became visible are placed best first, each by its queue's strategy.
func (e *Engine) settle() {
	for len(e.dirtyAgents) > 0 || len(e.dirtyContacts) > 0 {
		if len(e.dirtyAgents) > 0 {
			as := e.dirtyAgents
			e.dirtyAgents = e.spareAgents[:0]
			if len(as) > 1 {
				sort.Slice(as, func(i, j int) bool {
					if !as[i].idleSince.Equal(as[j].idleSince) {
						return as[i].idleSince.Before(as[j].idleSince)
					}
					return as[i].cfg.ID < as[j].cfg.ID
				})
			}
			for _, a := range as {
				a.dirty = false
			}
			for i, a := range as {
				if e.agents[a.cfg.ID] == a && a.ready() {
					if c := e.bestFor(a); c != nil {
						e.makeOffer(c, a, false)
					}
				}
				as[i] = nil
			}
			e.spareAgents = as[:0]
			continue
		}
		cs := e.dirtyContacts
		e.dirtyContacts = e.spareContacts[:0]
		if len(cs) > 1 {
			sort.Slice(cs, func(i, j int) bool {
				wi, wj := cs[i].q.cfg.Weight, cs[j].q.cfg.Weight
				if cs[i].direct != cs[j].direct {
					return cs[i].direct
				}
				if wi != wj {
					return wi > wj
				}
				return better(cs[i], cs[j], e.nowMs)
			})
		}
		for _, c := range cs {
			c.dirty = false
		}
		for i, c := range cs {
			e.matchContact(c)
			cs[i] = nil
		}
		e.spareContacts = cs[:0]
	}
}

// bestFor is the contact a free agent should get: a contact transferred to
// it first, then the heaviest queue with a contact it can take, then the
// highest effective priority, the oldest, the first arrived.
func (e *Engine) bestFor(a *agent) *waiting {
	var best *waiting
	for _, c := range a.direct {
		if c.state == cWaiting && a.canTake(c.item.Channel) && (best == nil || better(c, best, e.nowMs)) {
			best = c
		}
	}
	if best != nil {
		return best
	}
	bestW := 0
	for _, m := range a.members {
		q := m.q
		if best != nil && q.cfg.Weight < bestW {
			break
		}
		for _, cl := range q.classList {
			if cl.n == 0 || !a.canTake(cl.ch) || !a.hasSkills(cl.reqs) {
				continue
			}
			for s := m.level; s <= len(cl.stages); s++ {
				h := cl.stages[s-1]
				if len(h) > 0 && (best == nil || better(h[0], best, e.nowMs)) {
					best, bestW = h[0], q.cfg.Weight
				}
			}
		}
	}
	return best
}

// matchContact offers a newly visible contact to the free eligible agents
// its queue's strategy picks, among members at the lowest eligible level.
func (e *Engine) matchContact(c *waiting) {
	if c.state != cWaiting {
		return
	}
	ch := c.item.Channel
	if c.direct {
		if a := c.agent; a.ready() && a.canTake(ch) {
			e.makeOffer(c, a, false)
		}
		return
	}
	q := c.q
	cands, agents := e.cands[:0], e.candAgents[:0]
	minLevel := MaxLevel + 1
	ci := chIdx(ch)
	for _, m := range q.free {
		if m.level > c.stage || m.level > minLevel {
			continue
		}
		a := m.a
		if !a.canTakeIdx(ci) || !a.hasSkills(c.reqs) {
			continue
		}
		if m.level < minLevel {
			minLevel = m.level
			cands, agents = cands[:0], agents[:0]
		}
		cands = append(cands, AgentView{
			ID: a.cfg.ID, Level: m.level, Position: m.pos, IdleSince: a.idleSince,
			Load: a.totalLoad(), ChannelLoad: a.load[ci], Capacity: a.capacity[ci],
			SkillScore: a.skillScore(c.reqs), Handled: a.handled,
		})
		agents = append(agents, a)
	}
	e.cands, e.candAgents = cands, agents
	if len(cands) == 0 {
		return
	}
	// Strategies compare with ID tie-breaks, so their choice does not depend
	// on the order of candidates; only ring_all (offer order) and external
	// (user code, promised sorted input) need them sorted. Skipping the sort
	// keeps an arrival O(free agents) instead of O(n log n).
	sorted := q.ring || q.cfg.Strategy == StrategyExternal
	if sorted && len(cands) > 1 {
		sort.Sort(candSorter{cands, agents})
	}
	view := ContactView{
		ID: c.item.Contact, Channel: ch, Queue: q.cfg.Name, Priority: c.item.Priority, Tier: c.item.Tier,
		Skills: c.item.Skills, Attributes: c.item.Attributes, Wait: e.now.Sub(c.item.EnqueuedAt), Callback: c.item.Callback,
	}
	e.ids = q.strat.Choose(e.ids[:0], view, cands)
	for _, id := range e.ids {
		i := len(cands)
		if sorted {
			i = sort.Search(len(cands), func(i int) bool { return cands[i].ID >= id })
		} else {
			for j := range cands {
				if cands[j].ID == id {
					i = j
					break
				}
			}
		}
		if i == len(cands) || cands[i].ID != id {
			continue
		}
		a := agents[i]
		if !a.ready() || !a.canTakeIdx(ci) {
			continue // already offered this contact (duplicate id)
		}
		e.makeOffer(c, a, q.ring)
		if !q.ring {
			break
		}
	}
}

type candSorter struct {
	v []AgentView
	a []*agent
}

func (s candSorter) Len() int           { return len(s.v) }
func (s candSorter) Less(i, j int) bool { return s.v[i].ID < s.v[j].ID }
func (s candSorter) Swap(i, j int) {
	s.v[i], s.v[j] = s.v[j], s.v[i]
	s.a[i], s.a[j] = s.a[j], s.a[i]
}

// Stats returns live statistics at now (now does not advance the engine).
func (e *Engine) Stats(now time.Time) Report {
	e.mu.Lock()
	defer e.mu.Unlock()
	if now.Before(e.now) {
		now = e.now
	}
	r := e.stats.Report(now)
	for _, c := range e.contacts {
		if c.state == cAssigned {
			continue
		}
		if f, ok := r.Queues[c.item.Queue]; ok {
			f.Waiting++
			f.LongestWaiting = max(f.LongestWaiting, now.Sub(c.queuedAt))
			r.Queues[c.item.Queue] = f
		}
		if f, ok := r.Tiers[c.item.Tier]; ok {
			f.Waiting++
			f.LongestWaiting = max(f.LongestWaiting, now.Sub(c.item.EnqueuedAt))
			r.Tiers[c.item.Tier] = f
		}
	}
	return r
}
