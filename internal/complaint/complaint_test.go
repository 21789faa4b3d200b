package complaint_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/complaint"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestTransitions(t *testing.T) {
	valid := map[[2]string]bool{
		{"open", "acknowledged"}: true, {"open", "in_progress"}: true, {"open", "resolved"}: true,
		{"acknowledged", "in_progress"}: true, {"acknowledged", "resolved"}: true,
		{"in_progress", "resolved"}: true,
		{"resolved", "closed"}:      true, {"resolved", "open"}: true,
		{"closed", "open"}: true,
	}
	for _, from := range complaint.Statuses {
		for _, to := range complaint.Statuses {
			if from == to {
				continue
			}
			t.Run(from+"→"+to, func(t *testing.T) {
				if got := complaint.CanTransition(from, to); got != valid[[2]string{from, to}] {
					t.Fatalf("CanTransition = %v", got)
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestApplyRules(t *testing.T) {
	cfg := complaint.DefaultConfig()
	created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	now := created.Add(2 * time.Hour)
	base := func() store.Complaint {
		return store.Complaint{ID: 1, Status: "open", Severity: "normal", Category: "delivery", CreatedAt: created, DueAt: cfg.Due("normal", created)}
	}
	tests := []struct {
		name    string
		start   func(*store.Complaint)
		ch      complaint.Change
		wantErr error
		check   func(*testing.T, store.Complaint, []store.ComplaintEvent)
	}{
		{name: "acknowledge", ch: complaint.Change{Status: ptr("acknowledged")}, check: func(t *testing.T, c store.Complaint, evs []store.ComplaintEvent) {
			if c.Status != "acknowledged" || len(evs) != 1 || evs[0].Action != "status" || evs[0].From != "open" || evs[0].To != "acknowledged" || evs[0].ActorID != 7 || !evs[0].At.Equal(now) {
				t.Fatalf("%+v %+v", c, evs)
			}
		}},
		{name: "resolve needs a resolution", ch: complaint.Change{Status: ptr("resolved")}, wantErr: complaint.ErrInvalid},
		{name: "resolve with resolution", ch: complaint.Change{Status: ptr("resolved"), Resolution: ptr("refunded")}, check: func(t *testing.T, c store.Complaint, evs []store.ComplaintEvent) {
			if c.Status != "resolved" || c.ResolvedAt == nil || !c.ResolvedAt.Equal(now) || len(evs) != 2 {
				t.Fatalf("%+v %+v", c, evs)
			}
		}},
		{name: "close from open refused", ch: complaint.Change{Status: ptr("closed")}, wantErr: complaint.ErrTransition},
		{name: "back from in progress refused", start: func(c *store.Complaint) { c.Status = "in_progress" }, ch: complaint.Change{Status: ptr("acknowledged")}, wantErr: complaint.ErrTransition},
		{name: "verdict on open refused", ch: complaint.Change{Verdict: ptr("satisfied")}, wantErr: complaint.ErrTransition},
		{name: "bad verdict", ch: complaint.Change{Verdict: ptr("meh")}, wantErr: complaint.ErrInvalid},
		{name: "bad status", ch: complaint.Change{Status: ptr("done")}, wantErr: complaint.ErrInvalid},
		{name: "nothing", ch: complaint.Change{}, wantErr: complaint.ErrInvalid},
		{name: "verdict on resolved", start: func(c *store.Complaint) { c.Status, c.Resolution = "resolved", "x" }, ch: complaint.Change{Verdict: ptr("unsatisfied")},
			check: func(t *testing.T, c store.Complaint, evs []store.ComplaintEvent) {
				if c.Verdict != "unsatisfied" || evs[0].Action != "verdict" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "reopen from closed restarts SLA and clears verdict", start: func(c *store.Complaint) {
			r := created.Add(time.Hour)
			c.Status, c.Resolution, c.Verdict, c.ResolvedAt, c.ClosedAt = "closed", "x", "unsatisfied", &r, &r
		}, ch: complaint.Change{Status: ptr("open")}, check: func(t *testing.T, c store.Complaint, evs []store.ComplaintEvent) {
			if c.Status != "open" || c.Verdict != "" || c.ResolvedAt != nil || c.ClosedAt != nil || !c.DueAt.Equal(now.Add(72*time.Hour)) {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "severity change moves due from creation", ch: complaint.Change{Severity: ptr("critical")}, check: func(t *testing.T, c store.Complaint, evs []store.ComplaintEvent) {
			if !c.DueAt.Equal(created.Add(4*time.Hour)) || evs[0].Action != "severity" || evs[0].From != "normal" {
				t.Fatalf("%+v %+v", c, evs)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			if tc.start != nil {
				tc.start(&c)
			}
			evs, err := complaint.Apply(cfg, &c, tc.ch, 7, now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c, evs)
		})
	}
}

func TestSLADue(t *testing.T) {
	from := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	cfg := complaint.DefaultConfig()
	for sev, d := range map[string]time.Duration{"critical": 4 * time.Hour, "high": 24 * time.Hour, "normal": 72 * time.Hour, "low": 7 * 24 * time.Hour} {
		if got := cfg.Due(sev, from); !got.Equal(from.Add(d)) {
			t.Errorf("%s due %v, want +%v", sev, got, d)
		}
	}
	c, err := complaint.ParseSLA("critical=2h, low=48h")
	if err != nil || c.SLA["critical"] != 2*time.Hour || c.SLA["low"] != 48*time.Hour || c.SLA["high"] != 24*time.Hour {
		t.Fatalf("%v %v", c, err)
	}
	for _, bad := range []string{"urgent=1h", "high=soon", "high=-1h", "high"} {
		if _, err := complaint.ParseSLA(bad); !errors.Is(err, complaint.ErrInvalid) {
			t.Errorf("ParseSLA(%q) err %v", bad, err)
		}
	}
}

// TestWorkflowAuditAndOverdue runs a complaint through the store: every
// change leaves an audit line with who and when; the overdue watcher flags
// it once; OpenComplaints lists it until resolved.
func TestWorkflowAuditAndOverdue(t *testing.T) {
	ctx := context.Background()
	st := dbtest.New(t)
	sup, err := st.CreateUser(ctx, store.User{Name: "sup", Role: store.RoleSupervisor, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	cust, err := st.CreateCustomer(ctx, store.Customer{Name: "Wang Fang"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-5 * time.Hour).Truncate(time.Millisecond)
	svc := complaint.New(st, complaint.DefaultConfig(), nil)
	svc.SetClock(func() time.Time { return now })
	actor := contact.AgentID(sup.ID)
	c, err := svc.Create(ctx, actor, complaint.Draft{CustomerID: cust.ID, Category: "billing", Severity: "critical", Description: "charged twice"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.DueAt.Equal(now.Add(4*time.Hour)) || !c.Overdue {
		t.Fatalf("due %v overdue %v (created 5 h ago, critical: 4 h)", c.DueAt, c.Overdue)
	}
	open, err := st.OpenComplaints(ctx, cust.ID)
	if err != nil || len(open) != 1 || open[0].ID != c.ID || open[0].Severity != "critical" || !open[0].Overdue {
		t.Fatalf("open complaints %+v %v", open, err)
	}
	var pushed []store.Complaint
	wctx, cancel := context.WithCancel(ctx)
	svc.SetClock(time.Now)
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	_ = svc.Watch(wctx, 100*time.Millisecond, func(cs []store.Complaint) { pushed = append(pushed, cs...) })
	if len(pushed) != 1 || pushed[0].ID != c.ID {
		t.Fatalf("overdue pushed %+v, want once", pushed)
	}
	if _, err := svc.Update(ctx, c.ID, actor, complaint.Change{Status: ptr("closed")}); !errors.Is(err, complaint.ErrTransition) {
		t.Fatalf("open → closed: %v", err)
	}
	if _, err := svc.Update(ctx, c.ID, actor, complaint.Change{Status: ptr("acknowledged"), OwnerID: &actor}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(ctx, c.ID, actor, complaint.Change{Status: ptr("resolved"), Resolution: ptr("refund issued"), Note: "called back"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(ctx, c.ID, actor, complaint.Change{Verdict: ptr("satisfied")}); err != nil {
		t.Fatal(err)
	}
	bogus := contact.AgentID(999999)
	if _, err := svc.Update(ctx, c.ID, actor, complaint.Change{OwnerID: &bogus}); !errors.Is(err, complaint.ErrInvalid) {
		t.Fatalf("unknown owner: %v", err)
	}
	if _, err := svc.Update(ctx, 424242, actor, complaint.Change{Status: ptr("acknowledged")}); !errors.Is(err, complaint.ErrNotFound) {
		t.Fatalf("unknown complaint: %v", err)
	}
	got, audit, err := svc.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "resolved" || got.Verdict != "satisfied" || got.Overdue || got.OwnerID != actor {
		t.Fatalf("complaint %+v", got)
	}
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Action+":"+e.To)
		if e.Action != "overdue" && e.ActorID != actor {
			t.Errorf("audit line without actor: %+v", e)
		}
		if e.At.IsZero() {
			t.Errorf("audit line without time: %+v", e)
		}
	}
	want := []string{"created:open", "overdue:", "owner:" + itoa(int64(actor)), "status:acknowledged", "resolution:refund issued", "status:resolved", "verdict:satisfied"}
	if len(actions) != len(want) {
		t.Fatalf("audit %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("audit %v, want %v", actions, want)
		}
	}
	if open, _ := st.OpenComplaints(ctx, cust.ID); len(open) != 0 {
		t.Fatalf("resolved complaint still open: %+v", open)
	}
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	s := ""
	for v > 0 {
		s = string(rune('0'+v%10)) + s
		v /= 10
	}
	return s
}
