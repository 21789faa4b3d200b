package sms

import (
	"context"
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
)

const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

func TestInboundCreatesContact(t *testing.T) {
	r := newRig(t, nil)
	f := sms("SM1", "+8613800138000", "hello")
	f.Set("NumMedia", "1")
	f.Set("MediaUrl0", "https://api.twilio.com/media/ME1")
	f.Set("MediaContentType0", "image/jpeg")
	resp, body := r.post(t, "/webhooks/sms/twilio", f, testToken)
	if resp.StatusCode != 200 || body != emptyTwiML || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	c := r.desk.contacts[0]
	if c.From != (contact.Identity{Kind: contact.Phone, Value: "+8613800138000"}) || c.To != testNum ||
		c.ThreadKey != "sms:+8613800138000:"+testNum || c.Attributes[AttrAccount] != "one" {
		t.Fatalf("contact %+v", c)
	}
	m := r.desk.messages[c.ID][0]
	if m.Body != "hello" || m.ExternalID != "SM1" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "image/jpeg" {
		t.Fatalf("message %+v", m)
	}
}

func TestInboundRejected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		send   func(r *rig) *http.Response
		status int
	}{
		{"missing signature", func(r *rig) *http.Response {
			resp, _ := r.post(t, "/webhooks/sms/twilio", sms("SM1", "+8613800138000", "hi"), "")
			return resp
		}, 403},
		{"wrong token", func(r *rig) *http.Response {
			resp, _ := r.post(t, "/webhooks/sms/twilio", sms("SM1", "+8613800138000", "hi"), "other")
			return resp
		}, 403},
		{"unknown account", func(r *rig) *http.Response {
			f := sms("SM1", "+8613800138000", "hi")
			f.Set("AccountSid", "ACother")
			f.Set("To", "+19999999999")
			resp, _ := r.post(t, "/webhooks/sms/twilio", f, testToken)
			return resp
		}, 403},
		{"signed for another URL", func(r *rig) *http.Response {
			f := sms("SM1", "+8613800138000", "hi")
			req, _ := http.NewRequest("POST", r.srv.URL+"/webhooks/sms/twilio", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(HeaderTwilioSignature, TwilioSignature(testToken, r.srv.URL+"/other", f))
			resp, _ := http.DefaultClient.Do(req)
			resp.Body.Close()
			return resp
		}, 403},
		{"malformed form", func(r *rig) *http.Response {
			resp, _ := http.Post(r.srv.URL+"/webhooks/sms/twilio", "application/x-www-form-urlencoded", strings.NewReader("a=%zz"))
			resp.Body.Close()
			return resp
		}, 400},
		{"too large", func(r *rig) *http.Response {
			resp, _ := r.post(t, "/webhooks/sms/twilio", sms("SM1", "+8613800138000", strings.Repeat("x", 70<<10)), testToken)
			return resp
		}, 413},
		{"signed but no MessageSid", func(r *rig) *http.Response {
			f := sms("", "+8613800138000", "hi")
			resp, _ := r.post(t, "/webhooks/sms/twilio", f, testToken)
			return resp
		}, 400},
		{"GET", func(r *rig) *http.Response {
			resp, _ := http.Get(r.srv.URL + "/webhooks/sms/twilio")
			resp.Body.Close()
			return resp
		}, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			if resp := tc.send(r); resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if n, m := r.desk.count(); n != 0 || m != 0 {
				t.Fatalf("stored %d contacts %d messages", n, m)
			}
		})
	}
}

func TestInboundUnavailable(t *testing.T) {
	r := newRig(t, nil)
	r.desk.unavailable = true
	resp, _ := r.post(t, "/webhooks/sms/twilio", sms("SM1", "+8613800138000", "hi"), testToken)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	r.desk.unavailable = false // the provider retries
	if resp, _ := r.post(t, "/webhooks/sms/twilio", sms("SM1", "+8613800138000", "hi"), testToken); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	if n, m := r.desk.count(); n != 1 || m != 1 {
		t.Fatalf("%d contacts %d messages", n, m)
	}
}

func TestThreading(t *testing.T) {
	r := newRig(t, nil)
	now := time.Now()
	r.a.cfg.Now = func() time.Time { return now }
	send := func(sid, body string) {
		t.Helper()
		if resp, _ := r.post(t, "/webhooks/sms/twilio", sms(sid, "+8613800138000", body), testToken); resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
	}
	send("SM1", "one")
	send("SM2", "two")
	send("SM2", "two") // redelivery
	if n, m := r.desk.count(); n != 1 || m != 2 {
		t.Fatalf("open thread: %d contacts %d messages, want 1 and 2", n, m)
	}
	r.desk.setState(1, contact.Closed)
	send("SM3", "three")
	if n, _ := r.desk.count(); n != 2 {
		t.Fatalf("closed thread: %d contacts, want 2", n)
	}
	// Idle: the open contact's last message is 25 h old.
	r.desk.mu.Lock()
	r.desk.contacts[1].CreatedAt = now.Add(-30 * time.Hour)
	r.desk.mu.Unlock()
	r.store.last[2] = now.Add(-25 * time.Hour)
	send("SM4", "four")
	if n, _ := r.desk.count(); n != 3 || len(r.desk.ended) != 1 || r.desk.ended[0] != 2 {
		t.Fatalf("idle thread: %d contacts, ended %v", n, r.desk.ended)
	}
	// Old contact, recent message: not idle.
	r.desk.mu.Lock()
	r.desk.contacts[2].CreatedAt = now.Add(-30 * time.Hour)
	r.desk.mu.Unlock()
	r.store.last[3] = now.Add(-time.Hour)
	send("SM5", "five")
	if n, _ := r.desk.count(); n != 3 {
		t.Fatalf("active old thread: %d contacts, want 3", n)
	}
}

// Number pools: a message to a number not configured anywhere, sent via a
// Messaging Service, is matched by MessagingServiceSid and verified with
// that account's token; the other account's token does not pass.
func TestNumberPoolAccounts(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Accounts = append(c.Accounts, Account{Name: "pool", AccountSID: "AC2", AuthToken: "token-two",
			MessagingServiceSIDs: []string{"MG1"}, Queue: "general"})
	})
	f := url.Values{"MessageSid": {"SM9"}, "AccountSid": {"AC2"}, "MessagingServiceSid": {"MG1"},
		"From": {"+8613900139000"}, "To": {"+8610555000777"}, "Body": {"hi"}}
	if resp, _ := r.post(t, "/webhooks/sms/twilio", f, testToken); resp.StatusCode != 403 {
		t.Fatalf("other account's token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := r.post(t, "/webhooks/sms/twilio", f, "token-two"); resp.StatusCode != 200 {
		t.Fatalf("pool account's token: %d, want 200", resp.StatusCode)
	}
	// The first account still works by its number.
	if resp, _ := r.post(t, "/webhooks/sms/twilio", sms("SM10", "+8613800138000", "x"), testToken); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	// Matched by AccountSid alone (a pool number, no service sid).
	g := url.Values{"MessageSid": {"SM11"}, "AccountSid": {"AC2"}, "From": {"+8613700137000"}, "To": {"+8610555000888"}, "Body": {"x"}}
	if resp, _ := r.post(t, "/webhooks/sms/twilio", g, "token-two"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	c := r.desk.contacts[0]
	if c.Attributes[AttrAccount] != "pool" || c.Attributes[AttrService] != "MG1" || c.Queue != "general" {
		t.Fatalf("contact %+v", c)
	}
}

func TestGenericWebhook(t *testing.T) {
	r := newRig(t, nil)
	post := func(body string, ts int64, secret string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", r.srv.URL+"/webhooks/sms/generic", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderTimestamp, formatInt(ts))
		req.Header.Set(HeaderSignature, GenericSignature(secret, ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	now := time.Now().Unix()
	body := `{"id":"g1","from":"+8613800138000","to":"+8610000000001","body":"hi","media":[{"url":"https://x/y.png","content_type":"image/png"}]}`
	if resp, b := post(body, now, "generic-secret"); resp.StatusCode != 200 || !strings.Contains(b, `"ok":true`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if resp, _ := post(body, now, "generic-secret"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	if n, m := r.desk.count(); n != 1 || m != 1 {
		t.Fatalf("%d contacts %d messages", n, m)
	}
	if ext := r.desk.messages[1][0].ExternalID; ext != "generic:g1" {
		t.Fatal(ext)
	}
	if resp, _ := post(body, now-600, "generic-secret"); resp.StatusCode != 403 {
		t.Fatalf("stale: %d", resp.StatusCode)
	}
	if resp, _ := post(body, now, "wrong"); resp.StatusCode != 403 {
		t.Fatalf("wrong secret: %d", resp.StatusCode)
	}
	if resp, _ := post(`{"id":`, now, "generic-secret"); resp.StatusCode != 400 {
		t.Fatalf("malformed: %d", resp.StatusCode)
	}
	if resp, b := post(`{"id":"g2","from":"+8613800138000","to":"+8610000000001","body":"stop"}`, now, "generic-secret"); resp.StatusCode != 200 || !strings.Contains(b, "unsubscribed") {
		t.Fatalf("stop: %d %s", resp.StatusCode, b)
	}
}

// provider is a fake of Twilio's Messages API.
type provider struct {
	mu       sync.Mutex
	forms    []url.Values
	auth     []string
	failures []int // statuses to answer before succeeding
	retryAft string
	code     int // error code of a 400 answer
	srv      *httptest.Server
}

func newProvider(t *testing.T) *provider {
	p := &provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if r.Method != "POST" || !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			http.Error(w, "not found", 404)
			return
		}
		user, pass, _ := r.BasicAuth()
		r.ParseForm()
		p.forms = append(p.forms, r.PostForm)
		p.auth = append(p.auth, user+":"+pass)
		if len(p.failures) > 0 {
			st := p.failures[0]
			p.failures = p.failures[1:]
			if p.retryAft != "" {
				w.Header().Set("Retry-After", p.retryAft)
			}
			http.Error(w, `{"code":20500,"message":"try later"}`, st)
			return
		}
		if p.code != 0 {
			w.WriteHeader(400)
			io.WriteString(w, `{"code":`+formatInt(int64(p.code))+`,"message":"refused"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"sid":"SMout`+formatInt(int64(len(p.forms)))+`","status":"queued"}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) sent() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.forms...)
}

func smsContact(id contact.ID) contact.Contact {
	return contact.Contact{ID: id, Channel: contact.SMS, From: contact.Identity{Kind: contact.Phone, Value: "+8613800138000"},
		To: testNum, Attributes: map[string]string{AttrAccount: "one", AttrCustomer: "+8613800138000", AttrNumber: testNum}}
}

func TestDeliverRetries(t *testing.T) {
	p := newProvider(t)
	var waits []time.Duration
	r := newRig(t, func(c *Config) { c.APIBase = p.srv.URL; c.PublicURL = "https://ch.example.com" })
	r.a.client.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	p.failures = []int{500, 503, 429}
	if err := r.a.Deliver(context.Background(), smsContact(1), contact.Message{ID: 7, Body: "hello"}); err != nil {
		t.Fatal(err)
	}
	forms := p.sent()
	if len(forms) != 4 || p.auth[3] != testSID+":"+testToken {
		t.Fatalf("%d requests, auth %v", len(forms), p.auth)
	}
	f := forms[3]
	if f.Get("To") != "+8613800138000" || f.Get("From") != testNum || f.Get("Body") != "hello" ||
		f.Get("StatusCallback") != "https://ch.example.com/webhooks/sms/twilio/status" {
		t.Fatalf("form %v", f)
	}
	if want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}; len(waits) != 3 || waits[0] != want[0] || waits[2] != want[2] {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	if o := r.store.outbound["SMout4"]; o.MessageID != 7 || o.ContactID != 1 {
		t.Fatalf("outbound %+v", o)
	}

	// Retry-After wins over the backoff.
	waits = nil
	p.failures, p.retryAft = []int{429}, "7"
	if err := r.a.Deliver(context.Background(), smsContact(1), contact.Message{ID: 8, Body: "again"}); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] != 7*time.Second {
		t.Fatalf("waits %v", waits)
	}

	// Gives up after SendAttempts.
	waits = nil
	p.failures, p.retryAft = []int{500, 500, 500, 500, 500, 500}, ""
	if err := r.a.Deliver(context.Background(), smsContact(1), contact.Message{ID: 9, Body: "x"}); !errors.Is(err, ErrProvider) {
		t.Fatalf("err %v", err)
	}
	if len(waits) != 4 {
		t.Fatalf("%d waits, want 4 (5 attempts)", len(waits))
	}

	// A 400 is not retried; 21610 records the opt-out.
	waits = nil
	p.failures, p.code = nil, 21610
	if err := r.a.Deliver(context.Background(), smsContact(1), contact.Message{ID: 10, Body: "x"}); !errors.Is(err, ErrOptedOut) {
		t.Fatalf("err %v", err)
	}
	if len(waits) != 0 || !r.a.OptedOut(context.Background(), "+86 138 0013 8000") {
		t.Fatalf("waits %v, opted out %v", waits, r.a.OptedOut(context.Background(), "+8613800138000"))
	}
}

func TestDeliverLongMessages(t *testing.T) {
	p := newProvider(t)
	r := newRig(t, func(c *Config) { c.APIBase = p.srv.URL; c.MaxSegments = 2 })
	body := strings.Repeat("word ", 100) // 500 septets: 4 segments
	if err := r.a.Deliver(context.Background(), smsContact(1), contact.Message{ID: 1, Body: body}); err != nil {
		t.Fatal(err)
	}
	if n := len(p.sent()); n != 2 {
		t.Fatalf("split into %d requests, want 2", n)
	}
	r.a.cfg.LongMessages = "refuse"
	if err := r.a.Deliver(context.Background(), smsContact(1), contact.Message{ID: 2, Body: body}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err %v", err)
	}
	if n := len(p.sent()); n != 2 {
		t.Fatalf("%d requests after refusal", n)
	}
}

func TestOptOut(t *testing.T) {
	p := newProvider(t)
	r := newRig(t, func(c *Config) { c.APIBase = p.srv.URL })
	ctx := context.Background()
	send := func(sid, body string) string {
		t.Helper()
		resp, b := r.post(t, "/webhooks/sms/twilio", sms(sid, "+8613800138000", body), testToken)
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		return b
	}
	send("SM1", "my order?") // an open conversation
	for i, kw := range []string{" stop ", "STOP", "退订", "td", "Unsubscribe"} {
		b := send("SMk"+formatInt(int64(i)), kw)
		if acked := strings.Contains(b, "<Message>"); acked != (i == 0) {
			t.Fatalf("%q: reply %q (only the first STOP is acknowledged)", kw, b)
		}
	}
	if !r.a.OptedOut(ctx, "+8613800138000") {
		t.Fatal("not opted out")
	}
	if err := r.a.Deliver(ctx, smsContact(1), contact.Message{ID: 1, Body: "hi"}); !errors.Is(err, ErrOptedOut) {
		t.Fatalf("deliver: %v", err)
	}
	if n := len(p.sent()); n != 0 {
		t.Fatalf("%d sent to an opted-out number", n)
	}
	if n, m := r.desk.count(); n != 1 || m != 6 {
		t.Fatalf("%d contacts %d messages: keywords must not start contacts", n, m)
	}
	if b := send("SMh", "help"); !strings.Contains(b, "Reply STOP") {
		t.Fatal(b)
	}
	if b := send("SMs", "START"); !strings.Contains(b, "subscribed again") {
		t.Fatal(b)
	}
	if err := r.a.Deliver(ctx, smsContact(1), contact.Message{ID: 2, Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	// Keywords with no open conversation start nothing.
	r.desk.setState(1, contact.Closed)
	send("SMx", "STOP")
	if n, _ := r.desk.count(); n != 1 {
		t.Fatalf("%d contacts", n)
	}
}

func TestSurvey(t *testing.T) {
	p := newProvider(t)
	now := time.Now()
	r := newRig(t, func(c *Config) { c.APIBase = p.srv.URL; c.Survey = true; c.SurveyThanks = "Thanks!" })
	r.a.cfg.Now = func() time.Time { return now }
	ctx := context.Background()
	send := func(sid, body string) string {
		t.Helper()
		resp, b := r.post(t, "/webhooks/sms/twilio", sms(sid, "+8613800138000", body), testToken)
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		return b
	}
	send("SM1", "hello")
	r.desk.setState(1, contact.WrapUp)
	if err := r.a.Hangup(ctx, r.desk.contacts[0]); err != nil {
		t.Fatal(err)
	}
	if f := p.sent(); len(f) != 1 || !strings.Contains(f[0].Get("Body"), "Reply 1-5") {
		t.Fatalf("survey not sent: %v", f)
	}
	if b := send("SM2", " 4 "); !strings.Contains(b, "Thanks!") {
		t.Fatal(b)
	}
	send("SM2", "4") // redelivery
	if r.desk.feedback[1] != 4 || len(r.desk.feedback) != 1 {
		t.Fatalf("feedback %v", r.desk.feedback)
	}
	if n, m := r.desk.count(); n != 1 || m != 1 {
		t.Fatalf("%d contacts %d messages: the rating must not be a message", n, m)
	}
	// A second digit is an ordinary message.
	r.desk.setState(1, contact.Closed)
	send("SM3", "5")
	if n, _ := r.desk.count(); n != 2 || r.desk.feedback[1] != 4 {
		t.Fatalf("%d contacts, feedback %v", n, r.desk.feedback)
	}
	// Outside the window a digit is a message too.
	r.desk.setState(2, contact.WrapUp)
	if err := r.a.Hangup(ctx, r.desk.contacts[1]); err != nil {
		t.Fatal(err)
	}
	now = now.Add(25 * time.Hour)
	r.desk.setState(2, contact.Closed)
	send("SM4", "3")
	if _, ok := r.desk.feedback[2]; ok {
		t.Fatal("late rating stored")
	}
}

func TestStatusCallback(t *testing.T) {
	p := newProvider(t)
	r := newRig(t, func(c *Config) { c.APIBase = p.srv.URL })
	if err := r.a.Deliver(context.Background(), smsContact(1), contact.Message{ID: 7, Body: "hello"}); err != nil {
		t.Fatal(err)
	}
	status := func(st string, token string) int {
		f := url.Values{"MessageSid": {"SMout1"}, "MessageStatus": {st}, "AccountSid": {testSID}, "From": {testNum}, "To": {"+8613800138000"}}
		resp, _ := r.post(t, "/webhooks/sms/twilio/status", f, token)
		return resp.StatusCode
	}
	if c := status("delivered", "bad"); c != 403 {
		t.Fatalf("bad signature: %d", c)
	}
	if c := status("delivered", testToken); c != 204 {
		t.Fatal(c)
	}
	if c := status("sent", testToken); c != 204 { // late, lower: ignored
		t.Fatal(c)
	}
	if st := r.store.statuses[7]; st != "delivered" {
		t.Fatalf("status %q", st)
	}
}

// Two messages of a new conversation arriving together start one contact.
func TestConcurrentFirstMessages(t *testing.T) {
	r := newRig(t, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := sms("SMc"+formatInt(int64(i)), "+8613800138000", "hi")
			req, _ := http.NewRequest("POST", r.srv.URL+"/webhooks/sms/twilio", strings.NewReader(f.Encode()))
			req.Header.Set(HeaderTwilioSignature, TwilioSignature(testToken, r.srv.URL+"/webhooks/sms/twilio", f))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n, m := r.desk.count(); n != 1 || m != 8 {
		t.Fatalf("%d contacts %d messages, want 1 and 8", n, m)
	}
}
