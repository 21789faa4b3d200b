// Package complaint is the complaint workflow: categories and severities,
// the status machine open → acknowledged → in_progress → resolved → closed
// (reopen from resolved or closed), SLA due times by severity, the
// customer's verdict, and an audit line for every change (stored by
// internal/store in the same transaction as the change). Overdue
// complaints are found by Watch and handed to a callback (the supervisor
// board pushes them).
package complaint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
)

// Sentinel errors.
var (
	ErrInvalid    = errors.New("invalid complaint")
	ErrTransition = errors.New("status change not allowed")
	ErrNotFound   = errors.New("complaint not found")
)

// Categories, severities, statuses and verdicts.
var (
	Categories = []string{"product", "service_attitude", "delivery", "billing", "other"}
	Severities = []string{"critical", "high", "normal", "low"}
	Statuses   = []string{"open", "acknowledged", "in_progress", "resolved", "closed"}
	Verdicts   = []string{"satisfied", "unsatisfied"}
)

// transitions lists where each status may go. Skipping forward (open →
// in_progress, open → resolved …) is allowed so a quick fix need not click
// through every step; going back is only the reopen from resolved/closed.
var transitions = map[string][]string{
	"open":         {"acknowledged", "in_progress", "resolved"},
	"acknowledged": {"in_progress", "resolved"},
	"in_progress":  {"resolved"},
	"resolved":     {"closed", "open"},
	"closed":       {"open"},
}

// CanTransition reports whether a complaint may go from one status to another.
func CanTransition(from, to string) bool { return slices.Contains(transitions[from], to) }

// Config is the SLA per severity.
type Config struct {
	SLA map[string]time.Duration `json:"sla"`
}

// DefaultConfig: critical 4 h, high 24 h, normal 72 h, low 7 d.
func DefaultConfig() Config {
	return Config{SLA: map[string]time.Duration{
		"critical": 4 * time.Hour, "high": 24 * time.Hour, "normal": 72 * time.Hour, "low": 7 * 24 * time.Hour,
	}}
}

// ParseSLA reads "critical=4h,high=24h,normal=72h,low=168h" over the defaults.
func ParseSLA(s string) (Config, error) {
	c := DefaultConfig()
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if !ok || err != nil || d <= 0 || !slices.Contains(Severities, strings.TrimSpace(k)) {
			return Config{}, fmt.Errorf("%w: SLA %q: want severity=duration", ErrInvalid, part)
		}
		c.SLA[strings.TrimSpace(k)] = d
	}
	return c, nil
}

// Due is when a complaint of severity opened at from must be resolved.
func (c Config) Due(severity string, from time.Time) time.Time {
	d, ok := c.SLA[severity]
	if !ok {
		d = DefaultConfig().SLA["normal"]
	}
	return from.Add(d)
}

// Service runs the workflow on the store.
type Service struct {
	st  *store.Store
	cfg Config
	log *slog.Logger
	now func() time.Time
}

// New returns a Service. A nil log discards.
func New(st *store.Store, cfg Config, log *slog.Logger) *Service {
	if cfg.SLA == nil {
		cfg = DefaultConfig()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, cfg: cfg, log: log, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Config returns the SLA configuration.
func (s *Service) Config() Config { return s.cfg }

// MaxDescription bounds description and resolution texts.
const MaxDescription = 16 << 10

// Draft is a complaint to open.
type Draft struct {
	CustomerID  contact.CustomerID `json:"customer_id"`
	ContactID   contact.ID         `json:"contact_id"`
	Category    string             `json:"category"`
	Severity    string             `json:"severity"`
	Description string             `json:"description"`
	OwnerID     contact.AgentID    `json:"owner_id"`
}

// Validate checks a new complaint.
func (n Draft) Validate() error {
	switch {
	case n.CustomerID == 0 && n.ContactID == 0:
		return fmt.Errorf("%w: give customer_id or contact_id", ErrInvalid)
	case n.CustomerID < 0 || n.ContactID < 0 || n.OwnerID < 0:
		return fmt.Errorf("%w: ids must be positive", ErrInvalid)
	case !slices.Contains(Categories, n.Category):
		return fmt.Errorf("%w: category %q: want one of %s", ErrInvalid, n.Category, strings.Join(Categories, ", "))
	case !slices.Contains(Severities, n.Severity):
		return fmt.Errorf("%w: severity %q: want one of %s", ErrInvalid, n.Severity, strings.Join(Severities, ", "))
	case strings.TrimSpace(n.Description) == "":
		return fmt.Errorf("%w: description is required", ErrInvalid)
	case len(n.Description) > MaxDescription:
		return fmt.Errorf("%w: description over %d bytes", ErrInvalid, MaxDescription)
	}
	return nil
}

// Create opens a complaint by actor; its due time follows the severity's SLA.
func (s *Service) Create(ctx context.Context, actor contact.AgentID, n Draft) (store.Complaint, error) {
	if err := n.Validate(); err != nil {
		return store.Complaint{}, err
	}
	now := s.now()
	c, err := s.st.InsertComplaint(ctx, store.Complaint{CustomerID: n.CustomerID, ContactID: n.ContactID, Category: n.Category,
		Severity: n.Severity, Status: "open", Description: n.Description, OwnerID: n.OwnerID, CreatedBy: actor,
		DueAt: s.cfg.Due(n.Severity, now), CreatedAt: now})
	if errors.Is(err, store.ErrNotFound) {
		return store.Complaint{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err != nil {
		return store.Complaint{}, fmt.Errorf("complaint: create: %w", err)
	}
	return c, nil
}

// Change is a partial update; nil fields are left alone.
type Change struct {
	Status     *string          `json:"status"`
	OwnerID    *contact.AgentID `json:"owner_id"`
	Severity   *string          `json:"severity"`
	Category   *string          `json:"category"`
	Resolution *string          `json:"resolution"`
	Verdict    *string          `json:"verdict"`
	Note       string           `json:"note"`
}

// Validate checks the values of a change (not the transition).
func (ch Change) Validate() error {
	switch {
	case ch.Status == nil && ch.OwnerID == nil && ch.Severity == nil && ch.Category == nil && ch.Resolution == nil && ch.Verdict == nil:
		return fmt.Errorf("%w: nothing to change", ErrInvalid)
	case ch.Status != nil && !slices.Contains(Statuses, *ch.Status):
		return fmt.Errorf("%w: status %q: want one of %s", ErrInvalid, *ch.Status, strings.Join(Statuses, ", "))
	case ch.Severity != nil && !slices.Contains(Severities, *ch.Severity):
		return fmt.Errorf("%w: severity %q: want one of %s", ErrInvalid, *ch.Severity, strings.Join(Severities, ", "))
	case ch.Category != nil && !slices.Contains(Categories, *ch.Category):
		return fmt.Errorf("%w: category %q: want one of %s", ErrInvalid, *ch.Category, strings.Join(Categories, ", "))
	case ch.Verdict != nil && *ch.Verdict != "" && !slices.Contains(Verdicts, *ch.Verdict):
		return fmt.Errorf("%w: verdict %q: want satisfied or unsatisfied", ErrInvalid, *ch.Verdict)
	case ch.OwnerID != nil && *ch.OwnerID < 0:
		return fmt.Errorf("%w: owner_id must be positive", ErrInvalid)
	case ch.Resolution != nil && len(*ch.Resolution) > MaxDescription, len(ch.Note) > MaxDescription:
		return fmt.Errorf("%w: text over %d bytes", ErrInvalid, MaxDescription)
	}
	return nil
}

// Apply applies ch to c at now by actor and returns the audit lines. It is
// the whole workflow and has no I/O, so it is tested on its own:
//   - status moves follow CanTransition; resolving needs a resolution
//     (given now or before); reopening clears the verdict, resolved/closed
//     times and restarts the SLA from now;
//   - a verdict can only be given on a resolved or closed complaint;
//   - a severity change recomputes the due time from the creation time.
func Apply(cfg Config, c *store.Complaint, ch Change, actor contact.AgentID, now time.Time) ([]store.ComplaintEvent, error) {
	if err := ch.Validate(); err != nil {
		return nil, err
	}
	var evs []store.ComplaintEvent
	ev := func(action, from, to string) {
		evs = append(evs, store.ComplaintEvent{ComplaintID: c.ID, ActorID: actor, Action: action, From: from, To: to, Note: ch.Note, At: now})
	}
	if ch.Category != nil && *ch.Category != c.Category {
		ev("category", c.Category, *ch.Category)
		c.Category = *ch.Category
	}
	if ch.Severity != nil && *ch.Severity != c.Severity {
		ev("severity", c.Severity, *ch.Severity)
		c.Severity = *ch.Severity
		c.DueAt = cfg.Due(c.Severity, c.CreatedAt)
	}
	if ch.OwnerID != nil && *ch.OwnerID != c.OwnerID {
		ev("owner", fmt.Sprint(c.OwnerID), fmt.Sprint(*ch.OwnerID))
		c.OwnerID = *ch.OwnerID
	}
	if ch.Resolution != nil && *ch.Resolution != c.Resolution {
		ev("resolution", "", *ch.Resolution)
		c.Resolution = *ch.Resolution
	}
	if ch.Status != nil && *ch.Status != c.Status {
		to := *ch.Status
		if !CanTransition(c.Status, to) {
			return nil, fmt.Errorf("%w: %s → %s", ErrTransition, c.Status, to)
		}
		switch to {
		case "resolved":
			if strings.TrimSpace(c.Resolution) == "" {
				return nil, fmt.Errorf("%w: resolving needs a resolution", ErrInvalid)
			}
			t := now
			c.ResolvedAt = &t
		case "closed":
			t := now
			c.ClosedAt = &t
		case "open": // reopen
			c.ResolvedAt, c.ClosedAt, c.Verdict = nil, nil, ""
			c.DueAt = cfg.Due(c.Severity, now)
		}
		ev("status", c.Status, to)
		c.Status = to
	}
	if ch.Verdict != nil && *ch.Verdict != c.Verdict {
		if c.Status != "resolved" && c.Status != "closed" {
			return nil, fmt.Errorf("%w: a verdict needs a resolved or closed complaint (it is %s)", ErrTransition, c.Status)
		}
		ev("verdict", c.Verdict, *ch.Verdict)
		c.Verdict = *ch.Verdict
	}
	if len(evs) == 0 && ch.Note != "" {
		ev("note", "", "")
	}
	return evs, nil
}

// Update changes a complaint by actor.
func (s *Service) Update(ctx context.Context, id int64, actor contact.AgentID, ch Change) (store.Complaint, error) {
	if err := ch.Validate(); err != nil {
		return store.Complaint{}, err
	}
	now := s.now()
	c, err := s.st.UpdateComplaint(ctx, id, func(c *store.Complaint) ([]store.ComplaintEvent, error) {
		return Apply(s.cfg, c, ch, actor, now)
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && ch.OwnerID != nil:
		// the row was found (else UpdateComplaint reports it before change runs): the owner is unknown
		if _, gerr := s.st.Complaint(ctx, id); gerr == nil {
			return store.Complaint{}, fmt.Errorf("%w: owner %d does not exist", ErrInvalid, *ch.OwnerID)
		}
		return store.Complaint{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	case errors.Is(err, store.ErrNotFound):
		return store.Complaint{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrTransition):
		return store.Complaint{}, err
	case err != nil:
		return store.Complaint{}, fmt.Errorf("complaint: update %d: %w", id, err)
	}
	return c, nil
}

// Get returns a complaint with its audit trail.
func (s *Service) Get(ctx context.Context, id int64) (store.Complaint, []store.ComplaintEvent, error) {
	c, err := s.st.Complaint(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Complaint{}, nil, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return store.Complaint{}, nil, fmt.Errorf("complaint: get %d: %w", id, err)
	}
	evs, err := s.st.ComplaintEvents(ctx, id)
	if err != nil {
		return store.Complaint{}, nil, fmt.Errorf("complaint: get %d: %w", id, err)
	}
	return c, evs, nil
}

// List lists complaints.
func (s *Service) List(ctx context.Context, f store.ComplaintFilter) ([]store.Complaint, error) {
	cs, err := s.st.ListComplaints(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("complaint: list: %w", err)
	}
	return cs, nil
}

// Open lists a customer's open complaints (screen-pop).
func (s *Service) Open(ctx context.Context, customer contact.CustomerID) ([]store.ComplaintSummary, error) {
	return s.st.OpenComplaints(ctx, customer)
}

// Watch checks for newly overdue complaints every period until ctx ends and
// hands each batch to notify (which must not block for long).
func (s *Service) Watch(ctx context.Context, every time.Duration, notify func([]store.Complaint)) error {
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		cs, err := s.st.MarkOverdue(ctx, s.now())
		if err != nil && ctx.Err() == nil {
			s.log.Warn("overdue complaints", "err", err)
		}
		if len(cs) > 0 && notify != nil {
			notify(cs)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
