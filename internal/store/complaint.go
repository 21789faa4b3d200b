package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
)

// Complaint is a complaints row. Overdue is computed when read: open
// (not resolved or closed) past DueAt.
type Complaint struct {
	ID          int64              `json:"id"`
	CustomerID  contact.CustomerID `json:"customer_id,omitempty"`
	ContactID   contact.ID         `json:"contact_id,omitempty"`
	Category    string             `json:"category"`
	Severity    string             `json:"severity"`
	Status      string             `json:"status"`
	Description string             `json:"description"`
	OwnerID     contact.AgentID    `json:"owner_id,omitempty"`
	CreatedBy   contact.AgentID    `json:"created_by,omitempty"`
	AgentID     contact.AgentID    `json:"agent_id,omitempty"`
	Resolution  string             `json:"resolution"`
	Verdict     string             `json:"verdict,omitempty"`
	DueAt       time.Time          `json:"due_at"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	ResolvedAt  *time.Time         `json:"resolved_at,omitempty"`
	ClosedAt    *time.Time         `json:"closed_at,omitempty"`
	Overdue     bool               `json:"overdue"`
}

// ComplaintEvent is one line of a complaint's audit trail.
type ComplaintEvent struct {
	ID          int64           `json:"id"`
	ComplaintID int64           `json:"complaint_id"`
	ActorID     contact.AgentID `json:"actor_id,omitempty"`
	Action      string          `json:"action"`
	From        string          `json:"from,omitempty"`
	To          string          `json:"to,omitempty"`
	Note        string          `json:"note,omitempty"`
	At          time.Time       `json:"at"`
}

// ComplaintSummary is an open complaint as the screen-pop shows it.
type ComplaintSummary struct {
	ID       int64     `json:"id"`
	Category string    `json:"category"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"`
	DueAt    time.Time `json:"due_at"`
	Overdue  bool      `json:"overdue"`
}

// OpenStatuses are the statuses in which a complaint counts as open (and
// can be overdue).
var OpenStatuses = []string{"open", "acknowledged", "in_progress"}

const complaintColumns = `id, COALESCE(customer_id, 0), COALESCE(contact_id, 0), category, severity, status, description,
	COALESCE(owner_id, 0), COALESCE(created_by, 0), COALESCE(agent_id, 0), resolution, COALESCE(verdict, ''),
	due_at, created_at, updated_at, resolved_at, closed_at,
	status IN ('open', 'acknowledged', 'in_progress') AND due_at < now()`

func scanComplaint(row pgx.Row) (Complaint, error) {
	var c Complaint
	err := row.Scan(&c.ID, &c.CustomerID, &c.ContactID, &c.Category, &c.Severity, &c.Status, &c.Description,
		&c.OwnerID, &c.CreatedBy, &c.AgentID, &c.Resolution, &c.Verdict,
		&c.DueAt, &c.CreatedAt, &c.UpdatedAt, &c.ResolvedAt, &c.ClosedAt, &c.Overdue)
	return c, err
}

func nullID[T ~int64](v T) *int64 {
	if v == 0 {
		return nil
	}
	x := int64(v)
	return &x
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// InsertComplaint stores a new complaint and its "created" audit line. With
// a contact, a missing customer and agent are taken from the contact
// (ErrNotFound if the contact does not exist).
func (s *Store) InsertComplaint(ctx context.Context, c Complaint) (Complaint, error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return Complaint{}, fmt.Errorf("store: insert complaint: %w", err)
	}
	defer tx.Rollback(ctx)
	if c.ContactID != 0 {
		var cust, agent int64
		err := tx.QueryRow(ctx, `SELECT COALESCE(customer_id, 0), COALESCE(agent_id, 0) FROM contacts WHERE id = $1`, int64(c.ContactID)).Scan(&cust, &agent)
		if errors.Is(err, pgx.ErrNoRows) {
			return Complaint{}, fmt.Errorf("store: insert complaint: contact %d: %w", c.ContactID, ErrNotFound)
		}
		if err != nil {
			return Complaint{}, fmt.Errorf("store: insert complaint: %w", err)
		}
		if c.CustomerID == 0 {
			c.CustomerID = contact.CustomerID(cust)
		}
		if c.AgentID == 0 {
			c.AgentID = contact.AgentID(agent)
		}
	}
	if c.Status == "" {
		c.Status = "open"
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	out, err := scanComplaint(tx.QueryRow(ctx, `INSERT INTO complaints (customer_id, contact_id, category, severity, status,
		description, owner_id, created_by, agent_id, due_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING `+complaintColumns,
		nullID(c.CustomerID), nullID(c.ContactID), c.Category, c.Severity, c.Status, c.Description,
		nullID(c.OwnerID), nullID(c.CreatedBy), nullID(c.AgentID), c.DueAt, c.CreatedAt))
	if err != nil {
		if isFKViolation(err) {
			return Complaint{}, fmt.Errorf("store: insert complaint: customer or user: %w", ErrNotFound)
		}
		return Complaint{}, fmt.Errorf("store: insert complaint: %w", err)
	}
	if err := insertComplaintEvents(ctx, tx, out.ID, []ComplaintEvent{{ActorID: c.CreatedBy, Action: "created", To: out.Status,
		Note: out.Category + "/" + out.Severity, At: c.CreatedAt}}); err != nil {
		return Complaint{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Complaint{}, fmt.Errorf("store: insert complaint: %w", err)
	}
	return out, nil
}

func insertComplaintEvents(ctx context.Context, tx pgx.Tx, id int64, evs []ComplaintEvent) error {
	for _, e := range evs {
		if e.At.IsZero() {
			e.At = time.Now()
		}
		if _, err := tx.Exec(ctx, `INSERT INTO complaint_events (complaint_id, actor_id, action, from_value, to_value, note, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, nullID(e.ActorID), e.Action, e.From, e.To, e.Note, e.At); err != nil {
			return fmt.Errorf("store: complaint %d audit: %w", id, err)
		}
	}
	return nil
}

// Complaint returns one complaint, or ErrNotFound.
func (s *Store) Complaint(ctx context.Context, id int64) (Complaint, error) {
	c, err := scanComplaint(s.Pool.QueryRow(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Complaint{}, fmt.Errorf("store: complaint %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Complaint{}, fmt.Errorf("store: complaint %d: %w", id, err)
	}
	return c, nil
}

// UpdateComplaint changes a complaint atomically: it locks the row, lets
// change modify a copy and say which audit lines to write, then saves both.
// An error from change aborts the update and is returned as is.
func (s *Store) UpdateComplaint(ctx context.Context, id int64, change func(c *Complaint) ([]ComplaintEvent, error)) (Complaint, error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return Complaint{}, fmt.Errorf("store: update complaint %d: %w", id, err)
	}
	defer tx.Rollback(ctx)
	c, err := scanComplaint(tx.QueryRow(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Complaint{}, fmt.Errorf("store: complaint %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Complaint{}, fmt.Errorf("store: update complaint %d: %w", id, err)
	}
	evs, err := change(&c)
	if err != nil {
		return Complaint{}, err
	}
	if len(evs) == 0 {
		return c, nil
	}
	c.UpdatedAt = evs[len(evs)-1].At
	out, err := scanComplaint(tx.QueryRow(ctx, `UPDATE complaints SET category = $2, severity = $3, status = $4,
		description = $5, owner_id = $6, resolution = $7, verdict = $8, due_at = $9, updated_at = $10,
		resolved_at = $11, closed_at = $12,
		overdue_sent_at = CASE WHEN $9 <> due_at THEN NULL ELSE overdue_sent_at END
		WHERE id = $1 RETURNING `+complaintColumns,
		id, c.Category, c.Severity, c.Status, c.Description, nullID(c.OwnerID), c.Resolution, nullText(c.Verdict),
		c.DueAt, c.UpdatedAt, c.ResolvedAt, c.ClosedAt))
	if err != nil {
		if isFKViolation(err) {
			return Complaint{}, fmt.Errorf("store: update complaint %d: owner: %w", id, ErrNotFound)
		}
		return Complaint{}, fmt.Errorf("store: update complaint %d: %w", id, err)
	}
	if err := insertComplaintEvents(ctx, tx, id, evs); err != nil {
		return Complaint{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Complaint{}, fmt.Errorf("store: update complaint %d: %w", id, err)
	}
	return out, nil
}

// ComplaintEvents returns a complaint's audit trail, oldest first.
func (s *Store) ComplaintEvents(ctx context.Context, id int64) ([]ComplaintEvent, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, complaint_id, COALESCE(actor_id, 0), action, from_value, to_value, note, at
		FROM complaint_events WHERE complaint_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: complaint %d events: %w", id, err)
	}
	defer rows.Close()
	out := []ComplaintEvent{}
	for rows.Next() {
		var e ComplaintEvent
		if err := rows.Scan(&e.ID, &e.ComplaintID, &e.ActorID, &e.Action, &e.From, &e.To, &e.Note, &e.At); err != nil {
			return nil, fmt.Errorf("store: complaint %d events: %w", id, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ComplaintFilter selects complaints. Zero fields do not filter. Involving
// limits to complaints a user created, owns or whose contact they handled.
type ComplaintFilter struct {
	Status, Severity, Category string
	CustomerID                 contact.CustomerID
	AgentID                    contact.AgentID // the contact's agent
	Involving                  contact.AgentID
	Overdue                    *bool
	From, To                   *time.Time // created_at in [From, To)
	Limit, Offset              int
}

// where builds the WHERE clause and its arguments.
func (f ComplaintFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Status != "" {
		add("status = $?", f.Status)
	}
	if f.Severity != "" {
		add("severity = $?", f.Severity)
	}
	if f.Category != "" {
		add("category = $?", f.Category)
	}
	if f.CustomerID != 0 {
		add("customer_id = $?", int64(f.CustomerID))
	}
	if f.AgentID != 0 {
		add("agent_id = $?", int64(f.AgentID))
	}
	if f.Involving != 0 {
		add("(created_by = $? OR owner_id = $? OR agent_id = $?)", int64(f.Involving))
	}
	if f.Overdue != nil {
		cond := "(status IN ('open', 'acknowledged', 'in_progress') AND due_at < now())"
		if !*f.Overdue {
			cond = "NOT " + cond
		}
		conds = append(conds, cond)
	}
	if f.From != nil {
		add("created_at >= $?", *f.From)
	}
	if f.To != nil {
		add("created_at < $?", *f.To)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListComplaints lists complaints, newest first.
func (s *Store) ListComplaints(ctx context.Context, f ComplaintFilter) ([]Complaint, error) {
	where, args := f.where()
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	args = append(args, f.Limit, max(f.Offset, 0))
	rows, err := s.Pool.Query(ctx, `SELECT `+complaintColumns+` FROM complaints`+where+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list complaints: %w", err)
	}
	defer rows.Close()
	out := []Complaint{}
	for rows.Next() {
		c, err := scanComplaint(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list complaints: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// OpenComplaints lists a customer's open complaints (open, acknowledged,
// in progress), most urgent first: for the screen-pop and the tier
// policy's open_complaint attribute.
func (s *Store) OpenComplaints(ctx context.Context, customerID contact.CustomerID) ([]ComplaintSummary, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, category, severity, status, due_at, due_at < now()
		FROM complaints WHERE customer_id = $1 AND status IN ('open', 'acknowledged', 'in_progress')
		ORDER BY due_at, id`, int64(customerID))
	if err != nil {
		return nil, fmt.Errorf("store: open complaints of %d: %w", customerID, err)
	}
	defer rows.Close()
	out := []ComplaintSummary{}
	for rows.Next() {
		var c ComplaintSummary
		if err := rows.Scan(&c.ID, &c.Category, &c.Severity, &c.Status, &c.DueAt, &c.Overdue); err != nil {
			return nil, fmt.Errorf("store: open complaints of %d: %w", customerID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MarkOverdue finds open complaints past due at now that supervisors were
// not yet told about, marks them told, writes an "overdue" audit line each
// and returns them.
func (s *Store) MarkOverdue(ctx context.Context, now time.Time) ([]Complaint, error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: mark overdue: %w", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `UPDATE complaints SET overdue_sent_at = $1
		WHERE status IN ('open', 'acknowledged', 'in_progress') AND due_at < $1 AND overdue_sent_at IS NULL
		RETURNING `+complaintColumns, now)
	if err != nil {
		return nil, fmt.Errorf("store: mark overdue: %w", err)
	}
	var out []Complaint
	for rows.Next() {
		c, err := scanComplaint(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: mark overdue: %w", err)
		}
		c.Overdue = true
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mark overdue: %w", err)
	}
	for _, c := range out {
		if err := insertComplaintEvents(ctx, tx, c.ID, []ComplaintEvent{{Action: "overdue", From: c.DueAt.UTC().Format(time.RFC3339), At: now}}); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: mark overdue: %w", err)
	}
	return out, nil
}

// ComplaintStat is one row of complaint statistics.
type ComplaintStat struct {
	Category          string  `json:"category,omitempty"`
	Severity          string  `json:"severity,omitempty"`
	Total             int     `json:"total"`
	Open              int     `json:"open"`
	Resolved          int     `json:"resolved"` // resolved or closed
	Overdue           int     `json:"overdue"`  // open past due now
	ResolvedLate      int     `json:"resolved_late"`
	AvgHoursToResolve float64 `json:"avg_hours_to_resolve"`
	MaxHoursToResolve float64 `json:"max_hours_to_resolve"`
	Satisfied         int     `json:"satisfied"`
	Unsatisfied       int     `json:"unsatisfied"`
	SatisfiedRate     float64 `json:"satisfied_rate"` // satisfied ÷ verdicts given
}

// ComplaintStats groups complaints created in [from, to) by category and
// by severity (each row has one of them set) and gives the totals
// (neither set).
func (s *Store) ComplaintStats(ctx context.Context, from, to time.Time) ([]ComplaintStat, error) {
	rows, err := s.Pool.Query(ctx, `SELECT COALESCE(category, ''), COALESCE(severity, ''), count(*),
		count(*) FILTER (WHERE status IN ('open', 'acknowledged', 'in_progress')),
		count(*) FILTER (WHERE resolved_at IS NOT NULL),
		count(*) FILTER (WHERE status IN ('open', 'acknowledged', 'in_progress') AND due_at < now()),
		count(*) FILTER (WHERE resolved_at > due_at),
		COALESCE(avg(extract(epoch FROM resolved_at - created_at)) / 3600, 0)::float8,
		COALESCE(max(extract(epoch FROM resolved_at - created_at)) / 3600, 0)::float8,
		count(*) FILTER (WHERE verdict = 'satisfied'), count(*) FILTER (WHERE verdict = 'unsatisfied')
		FROM complaints WHERE created_at >= $1 AND created_at < $2
		GROUP BY GROUPING SETS ((category), (severity), ())
		ORDER BY 1, 2`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: complaint stats: %w", err)
	}
	defer rows.Close()
	out := []ComplaintStat{}
	for rows.Next() {
		var c ComplaintStat
		if err := rows.Scan(&c.Category, &c.Severity, &c.Total, &c.Open, &c.Resolved, &c.Overdue, &c.ResolvedLate,
			&c.AvgHoursToResolve, &c.MaxHoursToResolve, &c.Satisfied, &c.Unsatisfied); err != nil {
			return nil, fmt.Errorf("store: complaint stats: %w", err)
		}
		if v := c.Satisfied + c.Unsatisfied; v > 0 {
			c.SatisfiedRate = float64(c.Satisfied) / float64(v)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
