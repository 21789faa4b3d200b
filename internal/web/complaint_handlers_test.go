package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/complaint"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/web"
)

// storeFeedback records feedback straight in the store (the desk does the
// same plus its OnFeedback hook).
type storeFeedback struct{ st *store.Store }

func (f storeFeedback) RecordFeedback(ctx context.Context, id contact.ID, csat int, nps *int, comment string) (store.Feedback, error) {
	return f.st.AddFeedbackForContact(ctx, id, csat, nps, comment)
}

type cmpEnv struct {
	srv                *httptest.Server
	st                 *store.Store
	agent, agent2, sup *http.Client
	agentID, agent2ID  int64
	customer           contact.CustomerID
	contact            contact.ID // handled by agent1
}

func newCmpEnv(t *testing.T) *cmpEnv {
	t.Helper()
	ctx := context.Background()
	st := dbtest.New(t)
	a := auth.New(st, time.Hour)
	e := &cmpEnv{st: st}
	ids := map[string]int64{}
	for _, u := range []struct {
		name string
		role store.Role
	}{{"agent1", store.RoleAgent}, {"agent2", store.RoleAgent}, {"super1", store.RoleSupervisor}} {
		usr, _, err := a.CreateUser(ctx, u.name, "", u.role, pw)
		if err != nil {
			t.Fatal(err)
		}
		ids[u.name] = usr.ID
	}
	e.agentID, e.agent2ID = ids["agent1"], ids["agent2"]
	s := web.New(web.Deps{Store: st, Auth: a})
	web.MountComplaints(s, complaint.New(st, complaint.DefaultConfig(), nil), storeFeedback{st})
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	login := func(name string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		if code, body := do(t, c, "POST", e.srv.URL+"/api/v1/login", `{"name":"`+name+`","password":"`+pw+`"}`); code != 200 {
			t.Fatalf("login %s: %d %s", name, code, body)
		}
		return c
	}
	e.agent, e.agent2, e.sup = login("agent1"), login("agent2"), login("super1")
	cust, err := st.CreateCustomer(ctx, store.Customer{Name: "Li Wei"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.customer = cust.ID
	c, _, err := st.InsertContact(ctx, store.Contact{Contact: contact.Contact{Channel: contact.Chat, From: contact.Identity{Kind: contact.Visitor, Value: "v1"},
		CustomerID: cust.ID, Queue: "general", State: contact.Queued}, Tier: "gold"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE contacts SET agent_id = $1 WHERE id = $2`, e.agentID, int64(c.ID)); err != nil {
		t.Fatal(err)
	}
	e.contact = c.ID
	return e
}

func (e *cmpEnv) url(p string) string { return e.srv.URL + "/api/v1" + p }

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

type complaintsResp struct {
	Complaints []store.Complaint `json:"complaints"`
}

func TestComplaintAPI(t *testing.T) {
	e := newCmpEnv(t)
	cid := itoa64(int64(e.contact))
	// Bad input: clear 400s.
	for _, tc := range []struct{ body, want string }{
		{`{"contact_id":` + cid + `,"category":"weather","severity":"high","description":"x"}`, "category"},
		{`{"contact_id":` + cid + `,"category":"billing","severity":"urgent","description":"x"}`, "severity"},
		{`{"contact_id":` + cid + `,"category":"billing","severity":"high","description":"  "}`, "description"},
		{`{"category":"billing","severity":"high","description":"x"}`, "customer_id or contact_id"},
		{`{"contact_id":99999,"category":"billing","severity":"high","description":"x"}`, "not found"},
		{`{"contact_id":` + cid + `,"bogus":1}`, "unknown field"},
	} {
		if code, body := do(t, e.agent, "POST", e.url("/complaints"), tc.body); code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s: %d %s, want 400 with %q", tc.body, code, body, tc.want)
		}
	}
	// agent1 logs one on their contact, agent2 one on the customer.
	code, body := do(t, e.agent, "POST", e.url("/complaints"), `{"contact_id":`+cid+`,"category":"delivery","severity":"critical","description":"parcel lost"}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	c1 := decode[struct{ Complaint store.Complaint }](t, body).Complaint
	if c1.CustomerID != e.customer || c1.AgentID != contact.AgentID(e.agentID) || c1.DueAt.Sub(c1.CreatedAt) != 4*time.Hour {
		t.Fatalf("complaint %+v", c1)
	}
	code, body = do(t, e.agent2, "POST", e.url("/complaints"), `{"customer_id":`+itoa64(int64(e.customer))+`,"category":"billing","severity":"low","description":"=1+1 wrong invoice"}`)
	if code != 201 {
		t.Fatalf("create 2: %d %s", code, body)
	}
	c2 := decode[struct{ Complaint store.Complaint }](t, body).Complaint

	// Agents see their own; supervisors all.
	_, body = do(t, e.agent, "GET", e.url("/complaints"), "")
	if l := decode[complaintsResp](t, body).Complaints; len(l) != 1 || l[0].ID != c1.ID {
		t.Fatalf("agent1 sees %+v", l)
	}
	_, body = do(t, e.sup, "GET", e.url("/complaints"), "")
	if l := decode[complaintsResp](t, body).Complaints; len(l) != 2 {
		t.Fatalf("supervisor sees %d", len(l))
	}
	if code, _ := do(t, e.agent2, "GET", e.url("/complaints/"+itoa64(c1.ID)), ""); code != 403 {
		t.Errorf("agent2 reading agent1's complaint: %d, want 403", code)
	}
	if code, _ := do(t, e.agent, "PATCH", e.url("/complaints/"+itoa64(c1.ID)), `{"status":"acknowledged"}`); code != 403 {
		t.Errorf("agent PATCH: %d, want 403", code)
	}
	// Supervisor workflow, invalid transition 409, audit trail on GET.
	if code, body := do(t, e.sup, "PATCH", e.url("/complaints/"+itoa64(c1.ID)), `{"status":"closed"}`); code != 409 {
		t.Errorf("open → closed: %d %s, want 409", code, body)
	}
	if code, body := do(t, e.sup, "PATCH", e.url("/complaints/"+itoa64(c1.ID)), `{"status":"resolved"}`); code != 400 || !strings.Contains(body, "resolution") {
		t.Errorf("resolve without resolution: %d %s", code, body)
	}
	if code, body := do(t, e.sup, "PATCH", e.url("/complaints/"+itoa64(c1.ID)), `{"status":"resolved","resolution":"resent"}`); code != 200 {
		t.Fatalf("resolve: %d %s", code, body)
	}
	code, body = do(t, e.agent, "GET", e.url("/complaints/"+itoa64(c1.ID)), "")
	got := decode[struct {
		Complaint store.Complaint
		Audit     []store.ComplaintEvent
	}](t, body)
	if code != 200 || got.Complaint.Status != "resolved" || len(got.Audit) != 3 || got.Audit[2].To != "resolved" {
		t.Fatalf("get: %d %+v", code, got)
	}
	// Filters.
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"?status=resolved", 1}, {"?status=open", 1}, {"?severity=low", 1}, {"?category=billing", 1},
		{"?customer=" + itoa64(int64(e.customer)), 2}, {"?agent=" + itoa64(e.agentID), 1}, {"?overdue=false", 2}, {"?overdue=true", 0},
		{"?from=2000-01-01&to=2000-01-02", 0}, {"?from=" + time.Now().Format("2006-01-02"), 2},
	} {
		code, body := do(t, e.sup, "GET", e.url("/complaints"+tc.q), "")
		if n := len(decode[complaintsResp](t, body).Complaints); code != 200 || n != tc.want {
			t.Errorf("GET %s: %d, %d complaints, want %d", tc.q, code, n, tc.want)
		}
	}
	for _, q := range []string{"?status=done", "?severity=x", "?overdue=maybe", "?from=yesterday", "?customer=-1", "?from=2026-02-02&to=2026-02-01"} {
		if code, _ := do(t, e.sup, "GET", e.url("/complaints"+q), ""); code != 400 {
			t.Errorf("GET %s: %d, want 400", q, code)
		}
	}
	// CSV, by query and by Accept; free text defused.
	for _, hdr := range [][]string{nil, {"Accept", "text/csv"}} {
		q := "?format=csv"
		if hdr != nil {
			q = ""
		}
		code, body := do(t, e.sup, "GET", e.url("/complaints"+q), "", hdr...)
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if code != 200 || err != nil || len(rows) != 3 || rows[0][0] != "id" {
			t.Fatalf("csv %v: %d %v %q", hdr, code, err, body)
		}
		if !strings.Contains(body, "'=1+1 wrong invoice") {
			t.Errorf("formula not defused: %s", body)
		}
	}
	_ = c2
}

func TestFeedbackAPI(t *testing.T) {
	e := newCmpEnv(t)
	cid := itoa64(int64(e.contact))
	for _, tc := range []struct{ body, want string }{
		{`{"contact_id":` + cid + `,"csat":6}`, "csat"},
		{`{"contact_id":` + cid + `,"csat":0}`, "csat"},
		{`{"contact_id":` + cid + `,"csat":4,"nps":11}`, "nps"},
		{`{"csat":4}`, "contact_id"},
	} {
		if code, body := do(t, e.agent, "POST", e.url("/feedback"), tc.body); code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s: %d %s", tc.body, code, body)
		}
	}
	if code, _ := do(t, e.agent, "POST", e.url("/feedback"), `{"contact_id":99999,"csat":4}`); code != 404 {
		t.Errorf("unknown contact: %d, want 404", code)
	}
	if code, body := do(t, e.agent, "POST", e.url("/feedback"), `{"contact_id":`+cid+`,"csat":5,"nps":9,"comment":"great"}`); code != 201 {
		t.Fatalf("feedback: %d %s", code, body)
	}
	type fbResp struct {
		Feedback []store.FeedbackRow `json:"feedback"`
	}
	_, body := do(t, e.agent, "GET", e.url("/feedback"), "")
	if l := decode[fbResp](t, body).Feedback; len(l) != 1 || l[0].Queue != "general" || l[0].CustomerID != e.customer || *l[0].NPS != 9 {
		t.Fatalf("agent1 feedback %+v", l)
	}
	_, body = do(t, e.agent2, "GET", e.url("/feedback"), "")
	if l := decode[fbResp](t, body).Feedback; len(l) != 0 {
		t.Fatalf("agent2 sees others' feedback: %+v", l)
	}
	if code, _ := do(t, e.agent2, "GET", e.url("/feedback?agent="+itoa64(e.agentID)), ""); code != 403 {
		t.Errorf("agent2 asking for agent1's feedback: %d, want 403", code)
	}
	for q, want := range map[string]int{"?customer=" + itoa64(int64(e.customer)): 1, "?queue=priority": 0, "?channel=chat": 1, "?to=2000-01-01": 0} {
		_, body := do(t, e.sup, "GET", e.url("/feedback"+q), "")
		if n := len(decode[fbResp](t, body).Feedback); n != want {
			t.Errorf("GET feedback%s: %d, want %d", q, n, want)
		}
	}
	code, body := do(t, e.sup, "GET", e.url("/feedback?format=csv"), "")
	if code != 200 || !strings.HasPrefix(body, "id,created_at,contact_id") || !strings.Contains(body, ",general,chat,5,9,great") {
		t.Fatalf("csv: %d %s", code, body)
	}
	// Satisfaction follows the new rating.
	p := storeParams()
	if err := e.st.UpdateSatisfaction(context.Background(), e.customer, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	v, err := e.st.CustomerValue(context.Background(), e.customer)
	if err != nil || v.Satisfaction == nil || *v.Satisfaction != 5 || v.Quadrant != "mercenary" {
		t.Fatalf("value %+v %v, want satisfaction 5, mercenary (no orders)", v, err)
	}
}

func storeParams() store.ValueParams {
	return store.ValueParams{SatisfactionDays: 365, HighCSAT: 4, NoFeedbackCSAT: 3, LoyalF: 4}
}

func itoa64(v int64) string { return strings.TrimSpace(strings.Replace(jsonNum(v), "\n", "", -1)) }

func jsonNum(v int64) string { b, _ := json.Marshal(v); return string(b) }
