// Package board is the supervisors' live board: it aggregates the routing
// engine's live view (waiting contacts, agents, offers) with "today" and
// rolling 15-minute figures, pushes one frame a second to every supervisor
// websocket, carries out supervisors' actions (audited in
// supervisor_actions) and builds the interval, agent and complaint reports.
//
// Design: live figures (waiting, longest waiting, agents by state) come
// from routing.Engine.Stats and Snapshot each tick. Today and 15-minute
// figures come from Today, fed by tailing contact_events (id > last seen)
// once a tick, after loading today's events at start: so they survive
// restarts, agree with the reports (which run the same Metrics over the
// stored events of their range) and cost one indexed query a second.
// Today folds the events into running totals as they come and keeps raw
// facts for the rolling window only, so its memory and a tick's work stay
// bounded however busy the day. Charts from feedback and complaints are
// re-queried every Refresh (5 s). The frame is encoded once per tick and
// the same bytes are queued on every connection (hub.Conn: a slow client
// is dropped, never waited for).
package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/hub"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/routing"
)

// Desk is what the board needs of the desk.
type Desk interface {
	Engine() *routing.Engine
	Agents() []desk.AgentView
	SetState(ctx context.Context, id contact.AgentID, state, reason string) (desk.AgentView, error)
	WrapUp(ctx context.Context, agent contact.AgentID, id contact.ID, disposition, notes string) (store.Contact, error)
}

// Config tunes the board. Zero values take the defaults.
type Config struct {
	Interval time.Duration  // push period (1 s)
	Refresh  time.Duration  // chart queries period (5 s)
	Window   time.Duration  // rolling window (15 min)
	Location *time.Location // where "today" starts (time.Local)
	Metrics  MetricsConfig
}

// Board is the live board.
type Board struct {
	st   *store.Store
	desk Desk
	log  *slog.Logger
	cfg  Config
	now  func() time.Time

	mu       sync.Mutex
	m        *Today
	day      time.Time
	lastID   int64
	names    map[contact.ID]store.WaitingInfo
	charts   charts
	overdue  []store.Complaint
	latest   []byte
	ticks    uint64
	conns    map[*hub.Conn]struct{}
	lastTick time.Time
}

type charts struct {
	CSAT       []store.CSATPoint      `json:"csat_trend"`
	Complaints []store.ComplaintCount `json:"complaints_by_category"`
}

// New returns a board; call Run.
func New(st *store.Store, d Desk, log *slog.Logger, cfg Config) *Board {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Board{st: st, desk: d, log: log, cfg: cfg, now: time.Now, names: map[contact.ID]store.WaitingInfo{},
		conns: map[*hub.Conn]struct{}{}, m: NewToday(cfg.Metrics, time.Time{}, cfg.Window)}
}

func (b *Board) midnight(t time.Time) time.Time {
	y, mo, d := t.In(b.cfg.Location).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, b.cfg.Location)
}

// load (re)starts the metrics at the beginning of today.
func (b *Board) load(ctx context.Context, now time.Time) error {
	day := b.midnight(now)
	evs, err := b.st.ContactEventsSince(ctx, day, now.Add(time.Hour))
	if err != nil {
		return err
	}
	m := NewToday(b.cfg.Metrics, day, b.cfg.Window)
	if b.desk != nil {
		// thresholds first: the facts are counted as they are folded in
		for _, q := range b.desk.Engine().Snapshot().Queues {
			m.SetQueue(q.Queue.Name, q.Queue.ServiceLevelThreshold, q.Queue.ServiceLevelTarget)
		}
	}
	var last int64
	for i, e := range evs {
		m.Apply(e)
		last = max(last, e.ID)
		if i%4096 == 4095 {
			m.Advance(now) // keep the facts held while loading bounded too
		}
	}
	m.Advance(now)
	b.mu.Lock()
	b.m, b.day, b.lastID = m, day, last
	b.mu.Unlock()
	return nil
}

// tail applies the events stored since the last call.
func (b *Board) tail(ctx context.Context) error {
	for {
		b.mu.Lock()
		after := b.lastID
		b.mu.Unlock()
		evs, err := b.st.ContactEventsAfter(ctx, after, 5000)
		if err != nil {
			return err
		}
		b.mu.Lock()
		for _, e := range evs {
			b.m.Apply(e)
			b.lastID = e.ID
		}
		b.mu.Unlock()
		if len(evs) < 5000 {
			return nil
		}
	}
}

// Run loads today's events and pushes a frame every Interval until ctx ends.
func (b *Board) Run(ctx context.Context) error {
	if err := b.load(ctx, b.now()); err != nil {
		b.log.Error("board: load today", "err", err)
	}
	b.refresh(ctx)
	// Charts and overdue complaints are re-read on their own clock so a
	// slow query never delays a push.
	go func() {
		rt := time.NewTicker(b.cfg.Refresh)
		defer rt.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-rt.C:
				b.refresh(ctx)
			}
		}
	}()
	t := time.NewTicker(b.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := b.now()
		if !b.midnight(now).Equal(b.day) {
			if err := b.load(ctx, now); err != nil {
				b.log.Error("board: new day", "err", err)
			}
		}
		if err := b.tail(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("board: tail events", "err", err)
		}
		b.mu.Lock()
		b.m.Advance(now)
		b.mu.Unlock()
		// Building the board costs CPU that a busy desk needs: with no
		// supervisor watching, refresh it only every 10 s (for the REST view).
		b.mu.Lock()
		idle := len(b.conns) == 0 && now.Sub(b.lastTick) < 10*time.Second
		b.mu.Unlock()
		if idle {
			continue
		}
		b.Tick(ctx, now)
	}
}

// refresh re-reads the charts and overdue complaints.
func (b *Board) refresh(ctx context.Context) {
	now := b.now()
	csat, err := b.st.CSATTrend(ctx, b.midnight(now).AddDate(0, 0, -13), b.cfg.Location)
	if err != nil {
		b.log.Warn("board: csat trend", "err", err)
	}
	cc, err := b.st.ComplaintCounts(ctx, b.midnight(now))
	if err != nil {
		b.log.Warn("board: complaint counts", "err", err)
	}
	yes := true
	od, err := b.st.ListComplaints(ctx, store.ComplaintFilter{Overdue: &yes, Limit: 50})
	if err != nil {
		b.log.Warn("board: overdue complaints", "err", err)
	}
	b.mu.Lock()
	if csat != nil {
		b.charts.CSAT = csat
	}
	if cc != nil {
		b.charts.Complaints = cc
	}
	if od != nil {
		b.overdue = od
	}
	b.mu.Unlock()
}

// NotifyOverdue is the complaint watcher's callback: newly overdue
// complaints are added to the board at once and pushed as an
// "overdue_complaints" frame.
func (b *Board) NotifyOverdue(cs []store.Complaint) {
	b.mu.Lock()
	seen := map[int64]bool{}
	for _, c := range b.overdue {
		seen[c.ID] = true
	}
	for _, c := range cs {
		if !seen[c.ID] {
			b.overdue = append(b.overdue, c)
		}
	}
	b.mu.Unlock()
	b.broadcast(hub.Envelope{Type: "overdue_complaints", Data: map[string]any{"complaints": cs}})
}

// Frame is the "board" frame's data.
type Frame struct {
	At       time.Time          `json:"at"`
	Seq      uint64             `json:"seq"`
	Window   int64              `json:"window_ms"`
	Queues   []QueueRow         `json:"queues"`
	Tiers    []TierRow          `json:"tiers"`
	Agents   []AgentRow         `json:"agents"`
	Waiting  []WaitingRow       `json:"waiting"`
	Overdue  []store.Complaint  `json:"overdue_complaints"`
	Today    Figures            `json:"today"`
	Recent   Figures            `json:"recent"`
	Channels map[string]Figures `json:"channels_today"`
	Charts   Charts             `json:"charts"`
}

// Charts are the series the board draws.
type Charts struct {
	Intervals  []Interval             `json:"intervals"` // today, per 15 minutes, all queues
	CSAT       []store.CSATPoint      `json:"csat_trend"`
	Complaints []store.ComplaintCount `json:"complaints_by_category"`
}

// Live are the engine's figures of now.
type Live struct {
	Waiting   int   `json:"waiting"`
	LongestMS int64 `json:"longest_ms"`
	Staffed   int   `json:"staffed"`
	Available int   `json:"available"`
	Busy      int   `json:"busy"` // reserved or busy
	WrapUp    int   `json:"wrapup"`
	Away      int   `json:"away"`
}

// QueueRow is one queue on the board.
type QueueRow struct {
	Name        contact.QueueName `json:"name"`
	ThresholdMS int64             `json:"threshold_ms"`
	Target      float64           `json:"target"`
	Live        Live              `json:"live"`
	Today       Figures           `json:"today"`
	Recent      Figures           `json:"recent"`
	Breach      bool              `json:"breach"` // 15-min service level under target, or someone waiting past T
}

// TierRow is one tier on the board.
type TierRow struct {
	Name   string  `json:"name"`
	Live   Live    `json:"live"`
	Today  Figures `json:"today"`
	Recent Figures `json:"recent"`
}

// AgentRow is one agent.
type AgentRow struct {
	ID          contact.AgentID `json:"id"`
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	State       string          `json:"state"`
	Reason      string          `json:"reason,omitempty"`
	InStateMS   int64           `json:"in_state_ms"`
	Contacts    []AgentContact  `json:"contacts"`
	Queues      []string        `json:"queues"`
	WrapUp      contact.ID      `json:"wrapup_contact,omitempty"`
	Handled     int             `json:"handled"`
	Occupancy   float64         `json:"occupancy"` // today
}

// AgentContact is a contact in an agent's hands.
type AgentContact struct {
	ID      contact.ID      `json:"id"`
	Channel contact.Channel `json:"channel"`
	Queue   string          `json:"queue"`
	SinceMS int64           `json:"since_ms"`
}

// WaitingRow is one waiting contact.
type WaitingRow struct {
	ID          contact.ID         `json:"id"`
	Queue       contact.QueueName  `json:"queue"`
	Tier        string             `json:"tier"`
	Channel     contact.Channel    `json:"channel"`
	State       string             `json:"state"`
	Priority    int                `json:"priority"`
	WaitMS      int64              `json:"wait_ms"`
	QueueWaitMS int64              `json:"queue_wait_ms"`
	CustomerID  contact.CustomerID `json:"customer_id,omitempty"`
	Customer    string             `json:"customer"`
	Breach      bool               `json:"breach"` // waiting past the queue's threshold
}

// Build computes the frame of now.
func (b *Board) Build(ctx context.Context, now time.Time) Frame {
	eng := b.desk.Engine()
	snap := eng.Snapshot()
	live := eng.Stats(now)
	views := b.desk.Agents()

	members := map[contact.QueueName][]contact.AgentID{}
	for _, a := range snap.Agents {
		for _, q := range a.Queues {
			members[q.Queue] = append(members[q.Queue], a.ID)
		}
	}
	var unknown []int64
	day := b.midnight(now)
	b.mu.Lock()
	if !b.m.Day().Equal(day) {
		// not loaded (Run not started, or the day's load failed): count
		// from now on
		b.m = NewToday(b.cfg.Metrics, day, b.cfg.Window)
	}
	for _, q := range snap.Queues {
		b.m.SetQueue(q.Queue.Name, q.Queue.ServiceLevelThreshold, q.Queue.ServiceLevelTarget)
	}
	for _, c := range snap.Contacts {
		if _, ok := b.names[c.Contact]; !ok {
			unknown = append(unknown, int64(c.Contact))
		}
	}
	stale := b.m.Stale()
	b.mu.Unlock()
	if stale {
		// A queue's threshold changed: today's totals were counted with
		// the old one, recount them from the stored events.
		if err := b.load(ctx, now); err != nil {
			b.log.Error("board: reload after a threshold change", "err", err)
		}
	}
	if len(unknown) > 0 {
		infos, err := b.st.WaitingInfos(ctx, unknown)
		if err != nil {
			b.log.Warn("board: waiting infos", "err", err)
		}
		b.mu.Lock()
		for id, w := range infos {
			b.names[id] = w
		}
		b.mu.Unlock()
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.ticks++
	b.m.Advance(now)
	today := b.m.Today(now, members)
	recent := b.m.Window(now.Add(-b.cfg.Window), now.Add(time.Millisecond), members)
	f := Frame{At: now, Seq: b.ticks, Window: b.cfg.Window.Milliseconds(), Today: today.Total, Recent: recent.Total,
		Channels: today.Channels, Overdue: append([]store.Complaint{}, b.overdue...),
		// the totals of all queues (queue "") per interval
		Charts: Charts{Intervals: b.m.Intervals(now), CSAT: b.charts.CSAT, Complaints: b.charts.Complaints}}
	liveOf := func(fg routing.Figures) Live {
		l := Live{Waiting: fg.Waiting, LongestMS: fg.LongestWaiting.Milliseconds()}
		for st, n := range fg.AgentsByState {
			switch st {
			case routing.StateAvailable:
				l.Available += n
			case routing.StateReserved, routing.StateBusy:
				l.Busy += n
			case routing.StateWrapUp:
				l.WrapUp += n
			case routing.StateAway:
				l.Away += n
			}
			if st != routing.StateOffline {
				l.Staffed += n
			}
		}
		return l
	}
	thresholds := map[contact.QueueName]time.Duration{}
	for _, q := range snap.Queues {
		thr := q.Queue.ServiceLevelThreshold
		if thr <= 0 {
			thr = routing.DefaultServiceLevelThreshold
		}
		tgt := q.Queue.ServiceLevelTarget
		if tgt <= 0 {
			tgt = routing.DefaultServiceLevelTarget
		}
		thresholds[q.Queue.Name] = thr
		r := QueueRow{Name: q.Queue.Name, ThresholdMS: thr.Milliseconds(), Target: tgt, Live: liveOf(live.Queues[q.Queue.Name]),
			Today: today.Queues[q.Queue.Name], Recent: recent.Queues[q.Queue.Name]}
		r.Live.Waiting, r.Live.LongestMS = q.Waiting, q.Longest.Milliseconds()
		if r.Recent.Offered == 0 && r.Recent.Answered == 0 {
			r.Recent.ServiceLevel = 1
		}
		if r.Today.Offered == 0 && r.Today.Answered == 0 {
			r.Today.ServiceLevel = 1
		}
		r.Breach = r.Recent.ServiceLevel < tgt || q.Longest > thr
		f.Queues = append(f.Queues, r)
	}
	tiers := map[string]bool{}
	for k := range live.Tiers {
		tiers[k] = true
	}
	for k := range today.Tiers {
		tiers[k] = true
	}
	for k := range tiers {
		f.Tiers = append(f.Tiers, TierRow{Name: k, Live: liveOf(live.Tiers[k]), Today: today.Tiers[k], Recent: recent.Tiers[k]})
	}
	sort.Slice(f.Tiers, func(i, j int) bool { return tierRank(f.Tiers[i].Name) < tierRank(f.Tiers[j].Name) })
	byID := map[contact.AgentID]routing.AgentStatus{}
	for _, a := range snap.Agents {
		byID[a.ID] = a
	}
	for _, v := range views {
		r := AgentRow{ID: v.ID, Name: v.Name, DisplayName: v.DisplayName, State: string(v.State), Reason: v.Reason,
			Contacts: []AgentContact{}, Queues: []string{}}
		if !v.Since.IsZero() {
			r.InStateMS = now.Sub(v.Since).Milliseconds()
		}
		if a, ok := byID[v.ID]; ok {
			for _, q := range a.Queues {
				r.Queues = append(r.Queues, string(q.Queue))
			}
			for _, as := range a.Assigned {
				r.Contacts = append(r.Contacts, AgentContact{ID: as.Contact, Channel: as.Channel, Queue: string(as.Queue), SinceMS: now.Sub(as.AcceptedAt).Milliseconds()})
			}
			if a.WrapUp != nil {
				r.WrapUp = a.WrapUp.Contact
			}
			r.Handled = a.Handled
		}
		bz, av := b.m.AgentTime(v.ID, now).occ()
		r.Occupancy = ratio(bz, av)
		f.Agents = append(f.Agents, r)
	}
	for _, c := range snap.Contacts {
		w := WaitingRow{ID: c.Contact, Queue: c.Queue, Tier: c.Tier, Channel: c.Channel, State: c.State, Priority: c.Priority,
			WaitMS: now.Sub(c.EnqueuedAt).Milliseconds(), QueueWaitMS: now.Sub(c.QueuedAt).Milliseconds()}
		if info, ok := b.names[c.Contact]; ok {
			w.CustomerID, w.Customer = info.CustomerID, info.CustomerName
			if w.Customer == "" {
				w.Customer = info.From
			}
		}
		if thr, ok := thresholds[c.Queue]; ok {
			w.Breach = now.Sub(c.QueuedAt) > thr
		}
		f.Waiting = append(f.Waiting, w)
	}
	sort.SliceStable(f.Waiting, func(i, j int) bool { return f.Waiting[i].WaitMS > f.Waiting[j].WaitMS })
	if len(b.names) > 10000 {
		b.names = map[contact.ID]store.WaitingInfo{}
	}
	return f
}

func tierRank(t string) int {
	switch t {
	case "platinum":
		return 0
	case "gold":
		return 1
	case "silver":
		return 2
	case "bronze":
		return 3
	case "standard":
		return 4
	}
	return 5
}

// Tick builds the frame of now and pushes it to every supervisor.
func (b *Board) Tick(ctx context.Context, now time.Time) {
	f := b.Build(ctx, now)
	buf, err := json.Marshal(hub.Envelope{Type: "board", Data: f})
	if err != nil {
		b.log.Error("board: encode", "err", err)
		return
	}
	b.mu.Lock()
	b.latest = buf
	b.lastTick = now
	conns := make([]*hub.Conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	for _, c := range conns {
		_ = c.Send(buf) // a full buffer drops that client
	}
}

func (b *Board) broadcast(e hub.Envelope) {
	buf, err := json.Marshal(e)
	if err != nil {
		return
	}
	b.mu.Lock()
	conns := make([]*hub.Conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	for _, c := range conns {
		_ = c.Send(buf)
	}
}

// Latest is the last frame pushed (nil before the first tick).
func (b *Board) Latest() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.latest
}

// Serve runs one supervisor's connection until it closes: the latest frame
// first, then every tick's.
func (b *Board) Serve(ctx context.Context, c *hub.Conn) error {
	b.mu.Lock()
	b.conns[c] = struct{}{}
	first := b.latest
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
	}()
	return c.Serve(ctx, first, nil)
}

// Connections counts connected supervisors.
func (b *Board) Connections() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

// Errors of actions.
var (
	ErrInvalid  = errors.New("invalid action")
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("not possible now")
)

// audit records an action and returns err.
func (b *Board) audit(ctx context.Context, a store.SupervisorAction, err error) error {
	a.OK = err == nil
	if err != nil {
		a.Error = err.Error()
	}
	if _, aerr := b.st.AddSupervisorAction(ctx, a); aerr != nil {
		b.log.Error("board: audit action", "err", aerr, "action", a.Action)
		if err == nil {
			return fmt.Errorf("board: audit: %w", aerr)
		}
	}
	return err
}

// SetAgentState changes an agent's presence (available, away with reason, offline).
func (b *Board) SetAgentState(ctx context.Context, sup, agent contact.AgentID, state, reason string) error {
	_, err := b.desk.SetState(ctx, agent, state, reason)
	if errors.Is(err, desk.ErrInvalid) {
		err = fmt.Errorf("%w: %v", ErrInvalid, err)
	} else if errors.Is(err, desk.ErrNotFound) {
		err = fmt.Errorf("%w: agent %d", ErrNotFound, agent)
	}
	return b.audit(ctx, store.SupervisorAction{SupervisorID: sup, Action: "agent_state", AgentID: agent,
		Data: map[string]any{"state": state, "reason": reason}}, err)
}

// MoveContact sends a waiting (or ringing) contact to another queue or to
// one agent; it keeps its original arrival time.
func (b *Board) MoveContact(ctx context.Context, sup contact.AgentID, id contact.ID, queue contact.QueueName, agent contact.AgentID) error {
	err := func() error {
		if (queue == "") == (agent == 0) {
			return fmt.Errorf("%w: give a queue or an agent_id", ErrInvalid)
		}
		eng := b.desk.Engine()
		found := false
		for _, c := range eng.Snapshot().Contacts {
			found = found || c.Contact == id
		}
		if !found {
			return fmt.Errorf("%w: contact %d is not waiting", ErrConflict, id)
		}
		var err error
		if queue != "" {
			_, err = eng.Transfer(id, queue, b.now())
		} else {
			_, err = eng.TransferToAgent(id, agent, b.now())
		}
		switch {
		case errors.Is(err, routing.ErrUnknownQueue), errors.Is(err, routing.ErrUnknownAgent):
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		case errors.Is(err, routing.ErrChannel), errors.Is(err, routing.ErrInvalidItem):
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		case errors.Is(err, routing.ErrUnknownContact):
			return fmt.Errorf("%w: contact %d is not waiting", ErrConflict, id)
		}
		return err
	}()
	return b.audit(ctx, store.SupervisorAction{SupervisorID: sup, Action: "move_contact", ContactID: id, AgentID: agent,
		Data: map[string]any{"queue": queue, "agent_id": agent}}, err)
}

// EndWrapUp ends an agent's wrap-up now: the contact in wrap-up is closed
// with disposition "other" and a note, and the agent is free.
func (b *Board) EndWrapUp(ctx context.Context, sup, agent contact.AgentID) error {
	var cid contact.ID
	err := func() error {
		for _, a := range b.desk.Engine().Snapshot().Agents {
			if a.ID == agent && a.WrapUp != nil {
				cid = a.WrapUp.Contact
			}
		}
		if cid == 0 {
			return fmt.Errorf("%w: agent %d is not in wrap-up", ErrConflict, agent)
		}
		_, err := b.desk.WrapUp(ctx, agent, cid, "other", "wrap-up ended by a supervisor")
		if err != nil {
			// The contact was closed another way: end the timer only.
			if _, e := b.desk.Engine().EndWrapUp(agent, b.now()); e != nil {
				return fmt.Errorf("%w: %v", ErrConflict, err)
			}
		}
		return nil
	}()
	return b.audit(ctx, store.SupervisorAction{SupervisorID: sup, Action: "end_wrapup", AgentID: agent, ContactID: cid}, err)
}

// Evaluate stores a supervisor's 0–100 evaluation of an agent.
func (b *Board) Evaluate(ctx context.Context, sup, agent contact.AgentID, score int, comment string) error {
	err := func() error {
		if score < 0 || score > 100 {
			return fmt.Errorf("%w: score %d: want 0 to 100", ErrInvalid, score)
		}
		if len(comment) > 4096 {
			return fmt.Errorf("%w: comment too long", ErrInvalid)
		}
		err := b.st.AddEvaluation(ctx, agent, sup, score, comment, b.now())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: agent %d", ErrNotFound, agent)
		}
		return err
	}()
	return b.audit(ctx, store.SupervisorAction{SupervisorID: sup, Action: "evaluate", AgentID: agent,
		Data: map[string]any{"score": score, "comment": comment}}, err)
}

var _ Desk = (*desk.Desk)(nil)
