package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
)

// EventRow is a contact_events row as reports read it.
type EventRow struct {
	ID        int64
	ContactID contact.ID
	AgentID   contact.AgentID
	Kind      string
	Queue     contact.QueueName
	At        time.Time
	Data      EventData
}

// EventData are the fields of contact_events.data reports use (see
// desk.eventData).
type EventData struct {
	WaitMS   int64  `json:"wait_ms"`
	TalkMS   int64  `json:"talk_ms"`
	WrapUpMS int64  `json:"wrapup_ms"`
	ToQueue  string `json:"to_queue"`
	ToAgent  int64  `json:"to_agent"`
	Reason   string `json:"reason"`
	State    string `json:"state"`
	From     string `json:"from"`
	Tier     string `json:"tier"`
	Channel  string `json:"channel"`
}

func scanEvents(rows pgx.Rows) ([]EventRow, error) {
	defer rows.Close()
	var out []EventRow
	for rows.Next() {
		var e EventRow
		var cid, aid int64
		var data []byte
		if err := rows.Scan(&e.ID, &cid, &aid, &e.Kind, &e.Queue, &e.At, &data); err != nil {
			return nil, err
		}
		e.ContactID, e.AgentID = contact.ID(cid), contact.AgentID(aid)
		if len(data) > 2 {
			if err := json.Unmarshal(data, &e.Data); err != nil {
				return nil, fmt.Errorf("event %d data: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const eventColumns = `id, COALESCE(contact_id, 0), COALESCE(agent_id, 0), kind, queue, at, data`

// ContactEventsAfter returns up to limit events with id > after, in id order
// (the desk writes them from one goroutine, so id order is commit order).
func (s *Store) ContactEventsAfter(ctx context.Context, after int64, limit int) ([]EventRow, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+eventColumns+` FROM contact_events WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: contact events: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: contact events: %w", err)
	}
	return evs, nil
}

// ContactEventsSince returns, in id order, every event at or after since,
// every earlier event of the contacts those events concern (so waits that
// began before since are known), and each agent's last state change
// before since.
func (s *Store) ContactEventsSince(ctx context.Context, since time.Time, until time.Time) ([]EventRow, error) {
	rows, err := s.Pool.Query(ctx, `
		WITH touched AS (SELECT DISTINCT contact_id FROM contact_events WHERE at >= $1 AND at < $2 AND contact_id IS NOT NULL)
		SELECT `+eventColumns+` FROM contact_events WHERE at >= $1 AND at < $2
		UNION
		SELECT `+eventColumns+` FROM contact_events WHERE at < $1 AND contact_id IN (SELECT contact_id FROM touched)
		UNION
		SELECT * FROM (SELECT DISTINCT ON (agent_id) `+eventColumns+` FROM contact_events
			WHERE at < $1 AND kind = 'agent_state_changed' ORDER BY agent_id, at DESC, id DESC) last
		ORDER BY 1`, since, until)
	if err != nil {
		return nil, fmt.Errorf("store: contact events since %s: %w", since, err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: contact events since %s: %w", since, err)
	}
	return evs, nil
}

// WaitingInfo is who a waiting contact is.
type WaitingInfo struct {
	CustomerID   contact.CustomerID `json:"customer_id,omitempty"`
	CustomerName string             `json:"customer_name"`
	From         string             `json:"from"`
}

// WaitingInfos returns customer and sender of the given contacts.
func (s *Store) WaitingInfos(ctx context.Context, ids []int64) (map[contact.ID]WaitingInfo, error) {
	out := map[contact.ID]WaitingInfo{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.Pool.Query(ctx, `SELECT c.id, COALESCE(c.customer_id, 0), COALESCE(cu.name, ''), c.from_value
		FROM contacts c LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: waiting infos: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var w WaitingInfo
		if err := rows.Scan(&id, &w.CustomerID, &w.CustomerName, &w.From); err != nil {
			return nil, fmt.Errorf("store: waiting infos: %w", err)
		}
		out[contact.ID(id)] = w
	}
	return out, rows.Err()
}

// --- Feedback listing and satisfaction (feedback.go holds the insert) ---

// FeedbackRow is a rating with the queue of its contact and when it came.
type FeedbackRow struct {
	Feedback
	Queue     contact.QueueName `json:"queue"`
	CreatedAt time.Time         `json:"created_at"`
}

// FeedbackFilter selects feedback; zero fields do not filter.
type FeedbackFilter struct {
	CustomerID contact.CustomerID
	AgentID    contact.AgentID
	ContactID  contact.ID
	Queue      contact.QueueName
	Channel    string
	From, To   *time.Time
	Limit      int
}

// ListFeedback lists feedback, newest first.
func (s *Store) ListFeedback(ctx context.Context, f FeedbackFilter) ([]FeedbackRow, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.CustomerID != 0 {
		add("f.customer_id = $?", int64(f.CustomerID))
	}
	if f.AgentID != 0 {
		add("f.agent_id = $?", int64(f.AgentID))
	}
	if f.ContactID != 0 {
		add("f.contact_id = $?", int64(f.ContactID))
	}
	if f.Queue != "" {
		add("c.queue = $?", string(f.Queue))
	}
	if f.Channel != "" {
		add("f.channel = $?", f.Channel)
	}
	if f.From != nil {
		add("f.created_at >= $?", *f.From)
	}
	if f.To != nil {
		add("f.created_at < $?", *f.To)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	args = append(args, f.Limit)
	rows, err := s.Pool.Query(ctx, `SELECT f.id, COALESCE(f.contact_id, 0), COALESCE(f.customer_id, 0), COALESCE(f.agent_id, 0),
		COALESCE(f.csat, 0), f.nps, f.comment, f.channel, COALESCE(c.queue, ''), f.created_at
		FROM feedback f LEFT JOIN contacts c ON c.id = f.contact_id`+where+
		` ORDER BY f.created_at DESC, f.id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list feedback: %w", err)
	}
	defer rows.Close()
	out := []FeedbackRow{}
	for rows.Next() {
		var r FeedbackRow
		var nps *int16
		if err := rows.Scan(&r.ID, &r.ContactID, &r.CustomerID, &r.AgentID, &r.CSAT, &nps, &r.Comment, &r.Channel, &r.Queue, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: list feedback: %w", err)
		}
		if nps != nil {
			v := int(*nps)
			r.NPS = &v
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateSatisfaction recomputes one customer's satisfaction (average CSAT of
// the last p.SatisfactionDays) and quadrant (value.go's rule: loyal when the
// stored F score ≥ p.LoyalF; satisfied when satisfaction, or
// p.NoFeedbackCSAT without feedback, ≥ p.HighCSAT), leaving the other value
// figures alone. A customer never scored gets a row with F = 0.
func (s *Store) UpdateSatisfaction(ctx context.Context, id contact.CustomerID, p ValueParams, now time.Time) error {
	_, err := s.Pool.Exec(ctx, `
		WITH fb AS (SELECT avg(csat)::float8 AS sat FROM feedback
			WHERE customer_id = $1 AND csat IS NOT NULL AND created_at > $2::timestamptz - make_interval(days => $3)),
		cur AS (SELECT $1::bigint AS customer_id, COALESCE((SELECT f FROM customer_values WHERE customer_id = $1), 0) AS f)
		INSERT INTO customer_values AS cv (customer_id, satisfaction, quadrant)
		SELECT cur.customer_id, fb.sat,
			CASE WHEN cur.f >= $4 THEN
				CASE WHEN COALESCE(fb.sat, $5) >= $6 THEN 'loyal' ELSE 'hostage' END
			ELSE CASE WHEN COALESCE(fb.sat, $5) >= $6 THEN 'mercenary' ELSE 'defecting' END END
		FROM cur, fb WHERE EXISTS (SELECT 1 FROM customers WHERE id = $1)
		ON CONFLICT (customer_id) DO UPDATE SET satisfaction = excluded.satisfaction, quadrant = excluded.quadrant`,
		int64(id), now, p.SatisfactionDays, p.LoyalF, p.NoFeedbackCSAT, p.HighCSAT)
	if err != nil {
		return fmt.Errorf("store: update satisfaction of %d: %w", id, err)
	}
	return nil
}

// --- Board charts ---

// CSATPoint is the average CSAT of one day.
type CSATPoint struct {
	Day   string  `json:"day"` // YYYY-MM-DD in loc
	Avg   float64 `json:"avg"`
	Count int     `json:"count"`
}

// CSATTrend returns the daily average CSAT from since, in loc's days.
func (s *Store) CSATTrend(ctx context.Context, since time.Time, loc *time.Location) ([]CSATPoint, error) {
	rows, err := s.Pool.Query(ctx, `SELECT to_char(date_trunc('day', created_at AT TIME ZONE $2), 'YYYY-MM-DD') AS d,
		avg(csat)::float8, count(*) FROM feedback WHERE created_at >= $1 AND csat IS NOT NULL GROUP BY d ORDER BY d`, since, pgZone(loc))
	if err != nil {
		return nil, fmt.Errorf("store: csat trend: %w", err)
	}
	defer rows.Close()
	out := []CSATPoint{}
	for rows.Next() {
		var p CSATPoint
		if err := rows.Scan(&p.Day, &p.Avg, &p.Count); err != nil {
			return nil, fmt.Errorf("store: csat trend: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ComplaintCount is a number of complaints of a category.
type ComplaintCount struct {
	Category string `json:"category"`
	Open     int    `json:"open"`
	Today    int    `json:"today"` // created since the given time
	Overdue  int    `json:"overdue"`
}

// ComplaintCounts counts complaints by category: open now, created since
// since, and open past due.
func (s *Store) ComplaintCounts(ctx context.Context, since time.Time) ([]ComplaintCount, error) {
	rows, err := s.Pool.Query(ctx, `SELECT category,
		count(*) FILTER (WHERE status IN ('open', 'acknowledged', 'in_progress')),
		count(*) FILTER (WHERE created_at >= $1),
		count(*) FILTER (WHERE status IN ('open', 'acknowledged', 'in_progress') AND due_at < now())
		FROM complaints WHERE created_at >= $1 OR status IN ('open', 'acknowledged', 'in_progress')
		GROUP BY category ORDER BY category`, since)
	if err != nil {
		return nil, fmt.Errorf("store: complaint counts: %w", err)
	}
	defer rows.Close()
	out := []ComplaintCount{}
	for rows.Next() {
		var c ComplaintCount
		if err := rows.Scan(&c.Category, &c.Open, &c.Today, &c.Overdue); err != nil {
			return nil, fmt.Errorf("store: complaint counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// --- Supervisor actions and evaluations ---

// SupervisorAction is one audited action taken on the board.
type SupervisorAction struct {
	ID           int64           `json:"id"`
	SupervisorID contact.AgentID `json:"supervisor_id"`
	Action       string          `json:"action"`
	AgentID      contact.AgentID `json:"agent_id,omitempty"`
	ContactID    contact.ID      `json:"contact_id,omitempty"`
	Data         map[string]any  `json:"data,omitempty"`
	OK           bool            `json:"ok"`
	Error        string          `json:"error,omitempty"`
	At           time.Time       `json:"at"`
}

// AddSupervisorAction records an action.
func (s *Store) AddSupervisorAction(ctx context.Context, a SupervisorAction) (SupervisorAction, error) {
	data, err := json.Marshal(a.Data)
	if err != nil || a.Data == nil {
		data = []byte("{}")
	}
	if a.At.IsZero() {
		a.At = time.Now()
	}
	err = s.Pool.QueryRow(ctx, `INSERT INTO supervisor_actions (supervisor_id, action, agent_id, contact_id, data, ok, error, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		nullID(a.SupervisorID), a.Action, nullID(a.AgentID), nullID(a.ContactID), data, a.OK, a.Error, a.At).Scan(&a.ID)
	if err != nil {
		return SupervisorAction{}, fmt.Errorf("store: supervisor action: %w", err)
	}
	return a, nil
}

// SupervisorActions lists the latest actions, newest first.
func (s *Store) SupervisorActions(ctx context.Context, limit int) ([]SupervisorAction, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, COALESCE(supervisor_id, 0), action, COALESCE(agent_id, 0), COALESCE(contact_id, 0),
		data, ok, error, at FROM supervisor_actions ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: supervisor actions: %w", err)
	}
	defer rows.Close()
	out := []SupervisorAction{}
	for rows.Next() {
		var a SupervisorAction
		var data []byte
		if err := rows.Scan(&a.ID, &a.SupervisorID, &a.Action, &a.AgentID, &a.ContactID, &data, &a.OK, &a.Error, &a.At); err != nil {
			return nil, fmt.Errorf("store: supervisor actions: %w", err)
		}
		_ = json.Unmarshal(data, &a.Data)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddEvaluation stores a supervisor's 0–100 evaluation of an agent.
// ErrNotFound if the agent does not exist.
func (s *Store) AddEvaluation(ctx context.Context, agent, supervisor contact.AgentID, score int, comment string, at time.Time) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO agent_evaluations (agent_id, supervisor_id, score, comment, created_at)
		VALUES ($1, $2, $3, $4, $5)`, int64(agent), nullID(supervisor), score, comment, at)
	if err != nil {
		if isFKViolation(err) {
			return fmt.Errorf("store: evaluation of %d: %w", agent, ErrNotFound)
		}
		return fmt.Errorf("store: evaluation of %d: %w", agent, err)
	}
	return nil
}

// AgentFacts are the stored figures of one agent's evaluation in a range.
type AgentFacts struct {
	AgentID     contact.AgentID `json:"agent_id"`
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	Closed      int             `json:"closed"`     // contacts closed (wrapped up)
	Resolved    int             `json:"resolved"`   // closed with disposition resolved
	FirstTime   int             `json:"first_time"` // resolved and no contact from the customer in the FCR window
	Ratings     int             `json:"ratings"`    // feedback with CSAT
	CSATAvg     *float64        `json:"csat_avg"`   // average CSAT
	Positive    int             `json:"positive"`   // CSAT ≥ 4
	SupEval     *float64        `json:"supervisor"` // average supervisor evaluation (0–100)
	Evaluations int             `json:"evaluations"`
}

// AgentFactsBetween returns the figures of every agent (role agent) for
// contacts closed, feedback given and evaluations made in [from, to). A
// resolved contact counts as first-contact resolution when its customer
// did not contact again within fcrWindow (unknown customers: resolved only).
func (s *Store) AgentFactsBetween(ctx context.Context, from, to time.Time, fcrWindow time.Duration) ([]AgentFacts, error) {
	rows, err := s.Pool.Query(ctx, `
		WITH cl AS (
			SELECT c.agent_id, count(*) AS closed,
				count(*) FILTER (WHERE c.disposition = 'resolved') AS resolved,
				count(*) FILTER (WHERE c.disposition = 'resolved' AND (c.customer_id IS NULL OR NOT EXISTS (
					SELECT 1 FROM contacts n WHERE n.customer_id = c.customer_id AND n.id <> c.id
					AND n.created_at > c.created_at AND n.created_at <= c.created_at + $3::interval))) AS first_time
			FROM contacts c WHERE c.closed_at >= $1 AND c.closed_at < $2 AND c.agent_id IS NOT NULL GROUP BY c.agent_id),
		fb AS (
			SELECT agent_id, count(*) AS n, avg(csat)::float8 AS avg, count(*) FILTER (WHERE csat >= 4) AS pos
			FROM feedback WHERE created_at >= $1 AND created_at < $2 AND csat IS NOT NULL AND agent_id IS NOT NULL GROUP BY agent_id),
		ev AS (
			SELECT agent_id, count(*) AS n, avg(score)::float8 AS avg
			FROM agent_evaluations WHERE created_at >= $1 AND created_at < $2 GROUP BY agent_id)
		SELECT u.id, u.name, u.display_name, COALESCE(cl.closed, 0), COALESCE(cl.resolved, 0), COALESCE(cl.first_time, 0),
			COALESCE(fb.n, 0), fb.avg, COALESCE(fb.pos, 0), ev.avg, COALESCE(ev.n, 0)
		FROM users u LEFT JOIN cl ON cl.agent_id = u.id LEFT JOIN fb ON fb.agent_id = u.id LEFT JOIN ev ON ev.agent_id = u.id
		WHERE u.role = 'agent' OR cl.agent_id IS NOT NULL
		ORDER BY u.id`, from, to, fcrWindow)
	if err != nil {
		return nil, fmt.Errorf("store: agent facts: %w", err)
	}
	defer rows.Close()
	out := []AgentFacts{}
	for rows.Next() {
		var a AgentFacts
		if err := rows.Scan(&a.AgentID, &a.Name, &a.DisplayName, &a.Closed, &a.Resolved, &a.FirstTime,
			&a.Ratings, &a.CSATAvg, &a.Positive, &a.SupEval, &a.Evaluations); err != nil {
			return nil, fmt.Errorf("store: agent facts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// pgZone names loc for PostgreSQL's AT TIME ZONE. Go calls the process's
// zone "Local", which PostgreSQL does not know: use $TZ or the name
// /etc/localtime points at, else UTC.
func pgZone(loc *time.Location) string {
	if n := loc.String(); n != "Local" && n != "" {
		return n
	}
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" {
		return tz
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
			return name
		}
	}
	return "UTC"
}
