package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/sms"
	"github.com/contacthub/contacthub/contact/sms/smsstore"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/demo"
	"github.com/contacthub/contacthub/internal/desktest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const (
	accountSID = "AC11111111111111111111111111111111"
	authToken  = "e2e-auth-token"
	company    = "+8610086001000"
)

// fakeTwilio is a separate server acting as Twilio's REST API: it checks
// basic auth and the form and answers like Twilio.
type fakeTwilio struct {
	t     *testing.T
	mu    sync.Mutex
	forms []url.Values
	got   chan url.Values
	srv   *httptest.Server
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, got: make(chan url.Values, 100)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != accountSID || pass != authToken {
			http.Error(w, `{"code":20003,"message":"Authenticate"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, `{"code":20404,"message":"not found"}`, http.StatusNotFound)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("To") == "" || r.PostForm.Get("Body") == "" ||
			(r.PostForm.Get("From") == "" && r.PostForm.Get("MessagingServiceSid") == "") {
			http.Error(w, `{"code":21604,"message":"bad form"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		n := len(f.forms)
		f.mu.Unlock()
		f.got <- r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"sid": "SMout" + string(rune('a'+n)), "status": "queued"})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) next(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-f.got:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("the provider received nothing within 10 s")
	}
	return nil
}

type e2e struct {
	r    *desktest.Rig
	a    *sms.Adapter
	srv  *httptest.Server
	tw   *fakeTwilio
	http *http.Client
}

func newE2E(t *testing.T, survey bool) *e2e {
	t.Helper()
	e := &e2e{r: desktest.New(t, 1), tw: newFakeTwilio(t), http: &http.Client{Timeout: 10 * time.Second}}
	e.r.SeedDemoCustomers(t, 200)
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := sms.Config{
		Accounts:  []sms.Account{{Name: "main", AccountSID: accountSID, AuthToken: authToken, Numbers: []string{company}}},
		PublicURL: e.srv.URL, APIBase: e.tw.srv.URL, Survey: survey, SendBackoff: time.Millisecond,
	}
	a, err := sms.New(cfg, e.r.Desk, smsstore.New(e.r.Store.Pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.a = a
	e.r.Desk.Register(contact.SMS, a)
	mux.Handle("/webhooks/sms/twilio", a.TwilioHandler())
	mux.Handle("/webhooks/sms/twilio/status", a.TwilioStatusHandler())
	return e
}

// post sends a form signed like Twilio and returns status and body.
func (e *e2e) post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(sms.HeaderTwilioSignature, sms.TwilioSignature(authToken, e.srv.URL+path, form))
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *e2e) inbound(t *testing.T, sid, from, body string) string {
	t.Helper()
	code, b := e.post(t, "/webhooks/sms/twilio", url.Values{"MessageSid": {sid}, "AccountSid": {accountSID},
		"From": {from}, "To": {company}, "Body": {body}, "NumMedia": {"0"}})
	if code != http.StatusOK {
		t.Fatalf("inbound %s: %d %s", sid, code, b)
	}
	return b
}

func (e *e2e) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.r.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond (a wait for the asynchronous delivery, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

type messageFrame struct {
	Message contact.Message `json:"message"`
}

// TestEndToEnd: a signed webhook from a platinum customer reaches an agent
// with the screen-pop; the agent's reply goes out through the provider
// API; a signed status callback marks it delivered.
func TestEndToEnd(t *testing.T) {
	e := newE2E(t, false)
	ctx := context.Background()
	agent := e.r.Agents[0]
	e.r.Available(t, agent)

	if b := e.inbound(t, "SM00000000000000000000000000000001", demo.WangFang.Phone, "我的订单还没到"); b != `<?xml version="1.0" encoding="UTF-8"?><Response></Response>` {
		t.Fatalf("TwiML %q", b)
	}
	of := e.r.NextOffer(t, agent)
	if of.Profile == nil || of.Profile.Tier != "platinum" || of.Contact.Channel != contact.SMS {
		t.Fatalf("offer %+v profile %+v, want Wang Fang (platinum) on SMS", of.Contact, of.Profile)
	}
	c := e.r.Accept(t, agent, of)

	// Redelivery of the same MessageSid stores nothing new.
	e.inbound(t, "SM00000000000000000000000000000001", demo.WangFang.Phone, "我的订单还没到")
	msgs, err := e.r.Store.Messages(ctx, c.ID, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages after a redelivery (%v)", len(msgs), err)
	}
	if n := e.count(t, `SELECT count(*) FROM contacts`); n != 1 {
		t.Fatalf("%d contacts", n)
	}

	// A follow-up joins the open conversation.
	e.inbound(t, "SM00000000000000000000000000000002", demo.WangFang.Phone, "order 1234")
	var f messageFrame
	json.Unmarshal(e.r.Rec.Next(t, agent, "message"), &f)
	if f.Message.Body != "order 1234" {
		t.Fatalf("agent saw %+v", f.Message)
	}

	m, err := e.r.Desk.Reply(ctx, agent, c.ID, "您好王女士，已为您查询")
	if err != nil {
		t.Fatal(err)
	}
	sent := e.tw.next(t)
	if sent.Get("To") != demo.WangFang.Phone || sent.Get("From") != company || sent.Get("Body") != "您好王女士，已为您查询" ||
		sent.Get("StatusCallback") != e.srv.URL+"/webhooks/sms/twilio/status" {
		t.Fatalf("provider got %v", sent)
	}
	// The desk marks it sent when Deliver returns and tells the agent.
	for {
		json.Unmarshal(e.r.Rec.Next(t, agent, "message"), &f)
		if f.Message.ID == m.ID && f.Message.Status == "sent" {
			break
		}
	}
	code, _ := e.post(t, "/webhooks/sms/twilio/status", url.Values{"MessageSid": {"SMoutb"}, "MessageStatus": {"delivered"},
		"AccountSid": {accountSID}, "From": {company}, "To": {demo.WangFang.Phone}})
	if code != http.StatusNoContent {
		t.Fatalf("status callback: %d", code)
	}
	msgs, _ = e.r.Store.Messages(ctx, c.ID, 0)
	if last := msgs[len(msgs)-1]; last.ID != m.ID || last.Status != "delivered" {
		t.Fatalf("message %+v, want delivered", last)
	}
}

// TestOptOutEndToEnd: STOP blocks the agent's replies until START.
func TestOptOutEndToEnd(t *testing.T) {
	e := newE2E(t, false)
	ctx := context.Background()
	agent := e.r.Agents[0]
	e.r.Available(t, agent)
	e.inbound(t, "SMa1", demo.LiWei.Phone, "hello")
	c := e.r.Accept(t, agent, e.r.NextOffer(t, agent))

	if b := e.inbound(t, "SMa2", demo.LiWei.Phone, "STOP"); !strings.Contains(b, "<Message>") {
		t.Fatalf("STOP not acknowledged: %s", b)
	}
	if b := e.inbound(t, "SMa3", demo.LiWei.Phone, "退订"); strings.Contains(b, "<Message>") {
		t.Fatalf("acknowledged twice: %s", b)
	}
	if !e.a.OptedOut(ctx, demo.LiWei.Phone) {
		t.Fatal("not opted out")
	}
	m, err := e.r.Desk.Reply(ctx, agent, c.ID, "are you there?")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refused message to be marked failed", func() bool {
		msgs, _ := e.r.Store.Messages(ctx, c.ID, 0)
		return msgs[len(msgs)-1].ID == m.ID && msgs[len(msgs)-1].Status == "failed"
	})
	if n := e.count(t, `SELECT count(*) FROM contacts`); n != 1 {
		t.Fatalf("%d contacts: keywords must not start contacts", n)
	}

	e.inbound(t, "SMa4", demo.LiWei.Phone, "start")
	if e.a.OptedOut(ctx, demo.LiWei.Phone) {
		t.Fatal("still opted out")
	}
	if _, err := e.r.Desk.Reply(ctx, agent, c.ID, "welcome back"); err != nil {
		t.Fatal(err)
	}
	if got := e.tw.next(t); got.Get("Body") != "welcome back" {
		t.Fatalf("provider got %v", got)
	}
	if err := e.a.Deliver(ctx, c.Contact, contact.Message{ID: m.ID, Body: "x"}); err != nil {
		t.Fatal(err)
	}
	e.inbound(t, "SMa5", demo.LiWei.Phone, "STOP")
	if err := e.a.Deliver(ctx, c.Contact, contact.Message{ID: m.ID, Body: "x"}); !errors.Is(err, sms.ErrOptedOut) {
		t.Fatalf("deliver after STOP: %v", err)
	}
}

// TestSurveyEndToEnd: after the agent ends the conversation the customer
// gets the CSAT question; the reply "5" is stored as feedback and starts
// no contact.
func TestSurveyEndToEnd(t *testing.T) {
	e := newE2E(t, true)
	ctx := context.Background()
	agent := e.r.Agents[0]
	e.r.Available(t, agent)
	e.inbound(t, "SMb1", demo.ZhangMin.Phone, "question")
	c := e.r.Accept(t, agent, e.r.NextOffer(t, agent))
	if _, err := e.r.Desk.WrapUp(ctx, agent, c.ID, "resolved", ""); err != nil {
		t.Fatal(err)
	}
	q := e.tw.next(t)
	if q.Get("To") != demo.ZhangMin.Phone || !strings.Contains(q.Get("Body"), "1-5") {
		t.Fatalf("survey %v", q)
	}
	waitFor(t, "the survey to be recorded", func() bool {
		return e.count(t, `SELECT count(*) FROM sms_surveys WHERE contact_id = $1`, c.ID) == 1
	})
	e.inbound(t, "SMb2", demo.ZhangMin.Phone, "5")
	e.inbound(t, "SMb2", demo.ZhangMin.Phone, "5") // redelivery
	if n := e.count(t, `SELECT count(*) FROM feedback WHERE contact_id = $1 AND csat = 5 AND channel = 'sms'`, c.ID); n != 1 {
		t.Fatalf("%d feedback rows", n)
	}
	if n := e.count(t, `SELECT count(*) FROM contacts`); n != 1 {
		t.Fatalf("%d contacts: the rating must not start one", n)
	}
	// The next message is a new conversation.
	e.inbound(t, "SMb3", demo.ZhangMin.Phone, "another question")
	if n := e.count(t, `SELECT count(*) FROM contacts`); n != 2 {
		t.Fatalf("%d contacts", n)
	}
}
