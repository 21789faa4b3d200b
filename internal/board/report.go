package board

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
)

// MaxReportRange bounds a report's date range.
const MaxReportRange = 93 * 24 * time.Hour

func (b *Board) metricsFor(ctx context.Context, from, to time.Time) (*Metrics, map[contact.QueueName][]contact.AgentID, error) {
	if !to.After(from) || to.Sub(from) > MaxReportRange {
		return nil, nil, fmt.Errorf("%w: range must be positive and at most 93 days", ErrInvalid)
	}
	evs, err := b.st.ContactEventsSince(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	m := NewMetrics(b.cfg.Metrics)
	members := map[contact.QueueName][]contact.AgentID{}
	if b.desk != nil {
		snap := b.desk.Engine().Snapshot()
		for _, q := range snap.Queues {
			m.SetQueue(q.Queue.Name, q.Queue.ServiceLevelThreshold, q.Queue.ServiceLevelTarget)
		}
		for _, a := range snap.Agents {
			for _, q := range a.Queues {
				members[q.Queue] = append(members[q.Queue], a.ID)
			}
		}
	}
	for _, e := range evs {
		if e.At.Before(to) {
			m.Apply(e)
		}
	}
	return m, members, nil
}

// IntervalReport gives each queue's figures per 15-minute interval of
// [from, to) (queue "" is all queues). queue, if set, keeps that queue only.
func (b *Board) IntervalReport(ctx context.Context, from, to time.Time, queue contact.QueueName) ([]Interval, error) {
	m, members, err := b.metricsFor(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := []Interval{}
	for _, iv := range m.Intervals(from, to, 15*time.Minute, members) {
		if queue == "" || iv.Queue == queue {
			out = append(out, iv)
		}
	}
	return out, nil
}

// WriteIntervalsCSV writes the interval report as CSV.
func WriteIntervalsCSV(w io.Writer, rows []Interval, loc *time.Location) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"interval_start", "queue", "offered", "answered", "answered_in_sl", "abandoned", "short_abandons",
		"abandoned_after_sl", "handled", "service_level", "asa_s", "aht_s", "abandon_rate", "occupancy"})
	for _, r := range rows {
		q := string(r.Queue)
		if q == "" {
			q = "ALL"
		}
		_ = cw.Write([]string{r.Start.In(loc).Format(time.RFC3339), q, itoa(r.Offered), itoa(r.Answered), itoa(r.AnsweredInSL),
			itoa(r.Abandoned), itoa(r.ShortAbandons), itoa(r.AbandonedAfterSL), itoa(r.Handled), f3(r.ServiceLevel),
			f3(float64(r.ASAMS) / 1000), f3(float64(r.AHTMS) / 1000), f3(r.AbandonRate), f3(r.Occupancy)})
	}
	cw.Flush()
	return cw.Error()
}

// EvalWeights are DESIGN.md's agent evaluation weights.
var EvalWeights = struct{ Attendance, Customer, Supervisor, Problem, FCR, Feedback float64 }{0.10, 0.20, 0.30, 0.40, 0.40, 0.60}

// FCRWindow: a resolved contact is first-contact resolution when its
// customer does not contact again within this time.
const FCRWindow = 7 * 24 * time.Hour

// AgentScore is one agent's evaluation. Component scores are 0–100; nil
// means no data, and the total then re-weights the components present.
//   - attendance: available + busy (incl. reserved, wrap-up) time ÷ logged-in
//     (not offline) time — the share of logged-in time not spent away;
//   - customer: average CSAT mapped 1→0, 5→100;
//   - supervisor: average of the evaluations entered on the board;
//   - problem solving: 40 % first-contact resolution (share of closed
//     contacts resolved with no repeat within FCRWindow) + 60 % post-service
//     feedback (share of ratings with CSAT ≥ 4).
type AgentScore struct {
	store.AgentFacts
	LoggedInS     int64    `json:"logged_in_s"`
	AvailableS    int64    `json:"available_s"`
	BusyS         int64    `json:"busy_s"`
	AwayS         int64    `json:"away_s"`
	Occupancy     float64  `json:"occupancy"`
	FCRRate       *float64 `json:"fcr_rate"`
	PositiveRate  *float64 `json:"positive_rate"`
	Attendance    *float64 `json:"attendance_score"`
	Customer      *float64 `json:"customer_score"`
	SupervisorSc  *float64 `json:"supervisor_score"`
	ProblemSolved *float64 `json:"problem_solving_score"`
	Score         *float64 `json:"score"`
}

func pct(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// Score computes the component scores and the total from the facts and
// time in states.
func Score(a store.AgentFacts, st StateTime) AgentScore {
	s := AgentScore{AgentFacts: a}
	busy, avail := st.occ()
	away := st["away"]
	s.AvailableS, s.BusyS, s.AwayS = int64(avail.Seconds()), int64(busy.Seconds()), int64(away.Seconds())
	logged := busy + avail + away
	s.LoggedInS = int64(logged.Seconds())
	s.Occupancy = ratio(busy, avail)
	if logged > 0 {
		v := round1(100 * float64(busy+avail) / float64(logged))
		s.Attendance = &v
	}
	if a.CSATAvg != nil {
		v := round1((*a.CSATAvg - 1) / 4 * 100)
		s.Customer = &v
	}
	if a.SupEval != nil {
		v := round1(*a.SupEval)
		s.SupervisorSc = &v
	}
	s.FCRRate, s.PositiveRate = pct(a.FirstTime, a.Closed), pct(a.Positive, a.Ratings)
	var ps, pw float64
	if s.FCRRate != nil {
		ps += EvalWeights.FCR * 100 * *s.FCRRate
		pw += EvalWeights.FCR
	}
	if s.PositiveRate != nil {
		ps += EvalWeights.Feedback * 100 * *s.PositiveRate
		pw += EvalWeights.Feedback
	}
	if pw > 0 {
		v := round1(ps / pw)
		s.ProblemSolved = &v
	}
	var tot, tw float64
	for _, c := range []struct {
		v *float64
		w float64
	}{{s.Attendance, EvalWeights.Attendance}, {s.Customer, EvalWeights.Customer}, {s.SupervisorSc, EvalWeights.Supervisor}, {s.ProblemSolved, EvalWeights.Problem}} {
		if c.v != nil {
			tot += c.w * *c.v
			tw += c.w
		}
	}
	if tw > 0 {
		v := round1(tot / tw)
		s.Score = &v
	}
	return s
}

// AgentReport evaluates every agent over [from, to).
func (b *Board) AgentReport(ctx context.Context, from, to time.Time) ([]AgentScore, error) {
	m, _, err := b.metricsFor(ctx, from, to)
	if err != nil {
		return nil, err
	}
	facts, err := b.st.AgentFactsBetween(ctx, from, to, FCRWindow)
	if err != nil {
		return nil, err
	}
	out := make([]AgentScore, 0, len(facts))
	for _, a := range facts {
		out = append(out, Score(a, m.AgentTime(a.AgentID, from, to)))
	}
	return out, nil
}

// WriteAgentsCSV writes the agent report as CSV.
func WriteAgentsCSV(w io.Writer, rows []AgentScore) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"agent_id", "name", "closed", "resolved", "first_contact_resolved", "ratings", "csat_avg", "positive",
		"evaluations", "logged_in_s", "occupancy", "attendance_score", "customer_score", "supervisor_score", "problem_solving_score", "score"})
	for _, r := range rows {
		_ = cw.Write([]string{itoa(int(r.AgentID)), r.Name, itoa(r.Closed), itoa(r.Resolved), itoa(r.FirstTime), itoa(r.Ratings),
			opt(r.CSATAvg), itoa(r.Positive), itoa(r.Evaluations), strconv.FormatInt(r.LoggedInS, 10), f3(r.Occupancy),
			opt(r.Attendance), opt(r.Customer), opt(r.SupervisorSc), opt(r.ProblemSolved), opt(r.Score)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteComplaintStatsCSV writes complaint statistics as CSV.
func WriteComplaintStatsCSV(w io.Writer, rows []store.ComplaintStat) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"category", "severity", "total", "open", "resolved", "overdue", "resolved_late",
		"avg_hours_to_resolve", "max_hours_to_resolve", "satisfied", "unsatisfied", "satisfied_rate"})
	for _, r := range rows {
		cat, sev := r.Category, r.Severity
		if cat == "" && sev == "" {
			cat = "ALL"
		}
		_ = cw.Write([]string{cat, sev, itoa(r.Total), itoa(r.Open), itoa(r.Resolved), itoa(r.Overdue), itoa(r.ResolvedLate),
			f3(r.AvgHoursToResolve), f3(r.MaxHoursToResolve), itoa(r.Satisfied), itoa(r.Unsatisfied), f3(r.SatisfiedRate)})
	}
	cw.Flush()
	return cw.Error()
}

func itoa(v int) string   { return strconv.Itoa(v) }
func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func opt(v *float64) string {
	if v == nil {
		return ""
	}
	return f3(*v)
}
