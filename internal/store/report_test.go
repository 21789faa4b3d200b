package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
)

// TestUpdateSatisfaction: new feedback moves one customer's satisfaction and
// quadrant (value.go's rule) and nothing else.
func TestUpdateSatisfaction(t *testing.T) {
	ctx := context.Background()
	st := dbtest.New(t)
	p := store.ValueParams{SatisfactionDays: 365, HighCSAT: 4, NoFeedbackCSAT: 3, LoyalF: 4}
	cust, err := st.CreateCustomer(ctx, store.Customer{Name: "Zhao Lei"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := st.InsertContact(ctx, store.Contact{Contact: contact.Contact{Channel: contact.SMS, From: contact.Identity{Kind: contact.Phone, Value: "+8613900000001"},
		CustomerID: cust.ID, Queue: "general", State: contact.Queued}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		csat     int
		f        int // stored F score
		sat      float64
		quadrant string
	}{
		{2, 0, 2, "defecting"},
		{5, 0, 3.5, "defecting"}, // average 3.5 < 4
		{5, 0, 4, "mercenary"},   // (2+5+5)/3 = 4
		{5, 4, 4.25, "loyal"},    // loyal F
		{1, 5, 3.6, "hostage"},   // (2+5+5+5+1)/5
	} {
		if _, err := st.AddFeedbackForContact(ctx, c.ID, tc.csat, nil, ""); err != nil {
			t.Fatal(err)
		}
		if tc.f > 0 {
			if _, err := st.Pool.Exec(ctx, `UPDATE customer_values SET f = $1, tier = 'gold' WHERE customer_id = $2`, tc.f, int64(cust.ID)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.UpdateSatisfaction(ctx, cust.ID, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		v, err := st.CustomerValue(ctx, cust.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Satisfaction == nil || *v.Satisfaction != tc.sat || v.Quadrant != tc.quadrant {
			t.Fatalf("after csat %d: satisfaction %v quadrant %s, want %v %s", tc.csat, v.Satisfaction, v.Quadrant, tc.sat, tc.quadrant)
		}
		if tc.f > 0 && v.Tier != "gold" {
			t.Fatalf("tier changed: %s", v.Tier)
		}
	}
	if err := st.UpdateSatisfaction(ctx, 987654, p, time.Now()); err != nil {
		t.Fatalf("unknown customer: %v", err)
	}
}

// TestContactEventsSince: events of the range, earlier events of the
// contacts they concern, and each agent's last state before the range.
func TestContactEventsSince(t *testing.T) {
	ctx := context.Background()
	st := dbtest.New(t)
	u, err := st.CreateUser(ctx, store.User{Name: "a1", Role: store.RoleAgent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := st.InsertContact(ctx, store.Contact{Contact: contact.Contact{Channel: contact.Chat, From: contact.Identity{Kind: contact.Visitor, Value: "v"},
		Queue: "general", State: contact.Queued}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ag := contact.AgentID(u.ID)
	err = st.Apply(ctx, []store.Change{
		{Agent: ag, Kind: "agent_state_changed", At: day.Add(-2 * time.Hour), Data: map[string]any{"state": "away"}},
		{Agent: ag, Kind: "agent_state_changed", At: day.Add(-time.Hour), Data: map[string]any{"state": "available"}},
		{Contact: c.ID, Kind: "enqueued", Queue: "general", At: day.Add(-time.Minute), Data: map[string]any{"tier": "gold"}},
		{Contact: c.ID, Agent: ag, Kind: "accepted", Queue: "general", At: day.Add(time.Minute), Data: map[string]any{"wait_ms": 120000}},
		{Agent: ag, Kind: "agent_state_changed", At: day.Add(25 * time.Hour), Data: map[string]any{"state": "offline"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.ContactEventsSince(ctx, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var kept []store.EventRow
	for _, e := range evs {
		if e.Kind == "created" { // InsertContact's own line
			continue
		}
		kept = append(kept, e)
		got = append(got, e.Kind+"/"+e.Data.State+e.Data.Tier)
	}
	evs = kept
	want := []string{"agent_state_changed/available", "enqueued/gold", "accepted/"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	if evs[2].Data.WaitMS != 120000 || evs[2].AgentID != ag {
		t.Fatalf("accepted %+v", evs[2])
	}
	after, err := st.ContactEventsAfter(ctx, evs[2].ID, 10)
	if err != nil || len(after) != 1 || after[0].Data.State != "offline" {
		t.Fatalf("after: %+v %v", after, err)
	}
}
