package main

// Hostile input and access (issue 11): the complete server, built in-process
// by assemble on a fresh database, is called on every route as every kind of
// caller, and with oversize and malformed input.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/web"
	"github.com/gorilla/websocket"
)

// The callers of the access matrix, in the order of a rule's entries.
var callers = [...]string{"anon", "customer", "agent", "supervisor", "admin"}

// Expected outcomes. allowed is any status but 401 and 403 (the request
// got past authentication and authorisation; 400, 404, 409 are fine).
// Other values are exact status codes.
const allowed = -1

// rule is the expected outcome per caller, in the order of callers.
type rule [len(callers)]int

var (
	// public pages and probes: 200 for everybody.
	pageRule = rule{200, 200, 200, 200, 200}
	// open to anybody, answer depends on the input (chat session, CORS preflight).
	public = rule{allowed, allowed, allowed, allowed, allowed}
	// signed provider webhooks: no session of any kind gets in unsigned.
	signedWebhook = rule{403, 403, 403, 403, 403}
	// /api/v1 for every staff member.
	staff = rule{401, 401, allowed, allowed, allowed}
	// staff routes on the caller's own contacts or complaints (desk and
	// complaint ownership checks): the fixtures belong to nobody (or the
	// admin), so agents get 403, while supervisors and admins, who see all,
	// get through.
	ownOrSupervisor = rule{401, 401, 403, allowed, allowed}
	// staff routes that act only on the caller's own contact, whatever the
	// role (reply, end, wrap-up, transfer).
	ownOnly = rule{401, 401, 403, 403, 403}
	// RequireRole(supervisor).
	supervisorUp = rule{401, 401, 403, allowed, allowed}
	// RequireRole(admin).
	adminOnly = rule{401, 401, 403, 403, allowed}
	// /ws/agent and agent state: agents and supervisors take contacts;
	// admins do not.
	takesContacts = rule{401, 401, allowed, allowed, 403}
	// /ws/chat: only a visitor token opens it; staff sessions are no tokens.
	visitorSocket = rule{401, allowed, 401, 401, 401}
	// GET / redirects everybody to /agent.
	redirect = rule{302, 302, 302, 302, 302}
)

// accessRules has one row per route of the server, keyed "METHOD pattern"
// as gin lists them. TestAccessMatrix fails on a route without a row (add
// one when you add a route) and on a row without a route.
var accessRules = map[string]rule{
	// Probes, UI and static files.
	"GET /healthz":          pageRule,
	"GET /readyz":           pageRule,
	"GET /metrics":          pageRule,
	"GET /":                 redirect,
	"GET /agent":            pageRule,
	"GET /login":            pageRule,
	"GET /supervisor":       pageRule,
	"GET /ui/*filepath":     pageRule,
	"HEAD /ui/*filepath":    pageRule,
	"GET /widget.js":        pageRule,
	"GET /chat-demo":        pageRule,
	"POST /chat/session":    public,
	"OPTIONS /chat/session": public,

	// Sessions and tokens.
	"POST /api/v1/login":  public,
	"POST /api/v1/logout": staff,
	"GET /api/v1/me":      staff,
	"POST /api/v1/tokens": staff,

	// Users and integrations.
	"GET /api/v1/users":                        adminOnly,
	"POST /api/v1/users":                       adminOnly,
	"POST /api/v1/users/bulk":                  adminOnly,
	"GET /api/v1/webhooks":                     adminOnly,
	"POST /api/v1/webhooks":                    adminOnly,
	"DELETE /api/v1/webhooks/:id":              adminOnly,
	"GET /api/v1/webhooks/:id/deliveries":      adminOnly,
	"POST /webhooks/sms/twilio":                signedWebhook,
	"POST /webhooks/sms/twilio/status":         signedWebhook,
	"POST /webhooks/sms/generic":               signedWebhook,
	"GET /api/v1/attachments/:ref":             staff,
	"GET /api/v1/customers":                    staff,
	"POST /api/v1/customers":                   staff,
	"GET /api/v1/customers/:id/profile":        staff,
	"POST /api/v1/customers/:id/identities":    staff,
	"POST /api/v1/customers/:id/orders":        staff,
	"POST /api/v1/customers/:id/merge":         supervisorUp,
	"PUT /api/v1/customers/:id/pin":            supervisorUp,
	"DELETE /api/v1/customers/:id/pin":         supervisorUp,
	"GET /api/v1/customers/:id/timeline":       staff,
	"POST /api/v1/contacts":                    staff,
	"GET /api/v1/contacts":                     staff,
	"GET /api/v1/contacts/:id":                 ownOrSupervisor,
	"POST /api/v1/contacts/:id/messages":       ownOnly,
	"POST /api/v1/contacts/:id/notes":          ownOrSupervisor,
	"PUT /api/v1/contacts/:id/tags":            ownOrSupervisor,
	"POST /api/v1/contacts/:id/transfer":       ownOnly,
	"POST /api/v1/contacts/:id/end":            ownOnly,
	"POST /api/v1/contacts/:id/hangup":         ownOnly,
	"POST /api/v1/contacts/:id/wrapup":         ownOnly,
	"POST /api/v1/agent/state":                 takesContacts,
	"POST /api/v1/offers/:id/accept":           staff,
	"POST /api/v1/offers/:id/decline":          staff,
	"GET /api/v1/queues":                       staff,
	"GET /api/v1/agents":                       staff,
	"GET /api/v1/canned-responses":             staff,
	"POST /api/v1/canned-responses":            supervisorUp,
	"POST /api/v1/complaints":                  staff,
	"GET /api/v1/complaints":                   staff,
	"GET /api/v1/complaints/:id":               ownOrSupervisor,
	"PATCH /api/v1/complaints/:id":             supervisorUp,
	"POST /api/v1/feedback":                    staff,
	"GET /api/v1/feedback":                     staff,
	"GET /api/v1/board":                        supervisorUp,
	"POST /api/v1/board/agents/:id/state":      supervisorUp,
	"POST /api/v1/board/agents/:id/end-wrapup": supervisorUp,
	"POST /api/v1/board/contacts/:id/move":     supervisorUp,
	"POST /api/v1/board/evaluations":           supervisorUp,
	"GET /api/v1/board/actions":                supervisorUp,
	"GET /api/v1/reports/intervals":            supervisorUp,
	"GET /api/v1/reports/agents":               supervisorUp,
	"GET /api/v1/reports/complaints":           supervisorUp,

	// Websockets.
	"GET /ws/agent":      takesContacts,
	"GET /ws/supervisor": supervisorUp,
	"GET /ws/chat":       visitorSocket,
}

// requestBodies are bodies that get a route past decoding to the check under
// test (an empty or invalid body would be refused with 400 before an
// ownership check, hiding it). Routes not listed get "{}".
var requestBodies = map[string]string{
	"POST /api/v1/login":                 `{"name":"agent1","password":"` + testPassword + `"}`,
	"POST /api/v1/contacts/:id/messages": `{"body":"hello"}`,
	"POST /api/v1/contacts/:id/notes":    `{"body":"a note"}`,
	"PUT /api/v1/contacts/:id/tags":      `{"tags":["vip"]}`,
	"POST /api/v1/contacts/:id/transfer": `{"queue":"general"}`,
	"POST /api/v1/contacts/:id/wrapup":   `{"disposition":"resolved"}`,
}

const testPassword = "correct-horse-battery"

// testApp is the complete server on a fresh database, served by httptest,
// with its runners going and one signed-in user per role.
type testApp struct {
	t        *testing.T
	a        *app
	st       *store.Store
	authn    *auth.Service
	srv      *httptest.Server
	users    map[string]store.User // by role name
	sessions map[string]string     // session token by role name
	visitor  string                // a chat visitor token
}

type appOption func(*config.Config, *time.Duration)

func newTestApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()
	st := dbtest.New(t)
	cfg := config.Default()
	cfg.SMTPAddr, cfg.SIPAddr = "", ""
	ttl := cfg.SessionTTL
	for _, o := range opts {
		o(&cfg, &ttl)
	}
	log := slog.New(slog.DiscardHandler)
	authn := auth.New(st, ttl)
	customers := customer.New(st, cfg.DefaultRegion, customer.DefaultValueConfig(), log)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := assemble(ctx, cfg, st, authn, customers, log)
	if err != nil {
		cancel()
		t.Fatalf("assemble: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = newHTTPServer(a.web.Handler()) // the server's real limits
	srv.Start()
	var wg sync.WaitGroup
	for _, run := range a.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("runner: %v", err)
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})

	ta := &testApp{t: t, a: a, st: st, authn: authn, srv: srv, users: map[string]store.User{}, sessions: map[string]string{}}
	for _, r := range []store.Role{store.RoleAgent, store.RoleSupervisor, store.RoleAdmin} {
		u, _, err := authn.CreateUser(context.Background(), string(r)+"1", "", r, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		ta.users[string(r)] = u
		ta.sessions[string(r)] = ta.login(string(r) + "1")
	}
	code, body := ta.do("POST", "/chat/session", "", `{"name":"Visitor One","email":"visitor@example.com"}`)
	if code != http.StatusOK {
		t.Fatalf("chat session: %d %s", code, body)
	}
	var sr struct{ Token string }
	if err := json.Unmarshal([]byte(body), &sr); err != nil || sr.Token == "" {
		t.Fatalf("chat session: %s", body)
	}
	ta.visitor = sr.Token
	return ta
}

// login signs a user in through the API and returns the session token.
func (ta *testApp) login(name string) string {
	ta.t.Helper()
	resp := ta.request("POST", "/api/v1/login", "", `{"name":"`+name+`","password":"`+testPassword+`"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ta.t.Fatalf("login %s: %d", name, resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	ta.t.Fatalf("login %s: no session cookie", name)
	return ""
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// request sends a request as caller: "" or "anon" (nothing), "customer"
// (the visitor token as a bearer token), or a role (its session cookie).
// hdr are extra header name/value pairs.
func (ta *testApp) request(method, path, caller, body string, hdr ...string) *http.Response {
	ta.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	switch caller {
	case "", "anon":
	case "customer":
		req.Header.Set("Authorization", "Bearer "+ta.visitor)
	default:
		tok, ok := ta.sessions[caller]
		if !ok {
			ta.t.Fatalf("no caller %q", caller)
		}
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: tok})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// do is request, reading the body.
func (ta *testApp) do(method, path, caller, body string, hdr ...string) (int, string) {
	ta.t.Helper()
	resp := ta.request(method, path, caller, body, hdr...)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// created posts body as admin and returns the "id" of the object under key.
func (ta *testApp) created(path, key, body string) int64 {
	ta.t.Helper()
	code, resp := ta.do("POST", path, "admin", body)
	if code != http.StatusCreated {
		ta.t.Fatalf("POST %s: %d %s", path, code, resp)
	}
	var m map[string]json.RawMessage
	var obj struct{ ID int64 }
	if err := json.Unmarshal([]byte(resp), &m); err != nil || json.Unmarshal(m[key], &obj) != nil || obj.ID == 0 {
		ta.t.Fatalf("POST %s: no %s.id in %s", path, key, resp)
	}
	return obj.ID
}

// wsURL is the websocket URL of path.
func (ta *testApp) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(ta.srv.URL, "http") + path
}

// dialWS opens a websocket as caller and reports the outcome as a status:
// the refusal's HTTP status, 401 for a socket closed as unauthorised, or
// 101 once the server has spoken (or, for /ws/supervisor, upgraded).
func (ta *testApp) dialWS(path, caller string) int {
	ta.t.Helper()
	hdr := http.Header{}
	u := ta.wsURL(path)
	switch caller {
	case "anon":
	case "customer":
		if path == "/ws/chat" {
			u += "?token=" + url.QueryEscape(ta.visitor)
		} else {
			hdr.Set("Authorization", "Bearer "+ta.visitor)
		}
	default:
		hdr.Set("Cookie", web.SessionCookie+"="+ta.sessions[caller])
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.Dial(u, hdr)
	if err != nil {
		if resp != nil {
			return resp.StatusCode
		}
		ta.t.Fatalf("dial %s as %s: %v", path, caller, err)
	}
	defer ws.Close()
	if path == "/ws/chat" && caller != "customer" {
		// No visitor token in the URL: the first frame must carry one. A
		// staff session token is not one.
		tok := ta.sessions[caller]
		if err := ws.WriteJSON(map[string]any{"type": "auth", "data": map[string]any{"token": tok}}); err != nil {
			return 0
		}
	}
	if path == "/ws/supervisor" {
		return http.StatusSwitchingProtocols
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if websocket.IsCloseError(err, 4401) {
		return http.StatusUnauthorized
	}
	if err != nil {
		ta.t.Fatalf("read %s as %s: %v", path, caller, err)
	}
	var env struct{ Type string }
	_ = json.Unmarshal(b, &env)
	if env.Type != "hello" && env.Type != "welcome" {
		ta.t.Fatalf("%s as %s: first frame %s", path, caller, b)
	}
	return http.StatusSwitchingProtocols
}

var paramRE = regexp.MustCompile(`[:*][a-z]+`)

// fixtures are real objects for the routes' parameters.
type fixtures struct {
	customer, contact, complaint, webhook, agent int64
}

func (ta *testApp) fixtures() fixtures {
	ta.t.Helper()
	var f fixtures
	f.customer = ta.created("/api/v1/customers", "customer", `{"name":"Acme Buyer","identities":[{"kind":"email","value":"buyer@acme.example"}]}`)
	f.contact = ta.created("/api/v1/contacts", "contact", `{"channel":"email","from":{"kind":"email","value":"buyer@acme.example"},"subject":"help","message":"hi"}`)
	f.complaint = ta.created("/api/v1/complaints", "complaint", fmt.Sprintf(`{"customer_id":%d,"category":"billing","severity":"low","description":"charged twice"}`, f.customer))
	f.webhook = ta.created("/api/v1/webhooks", "webhook", `{"url":"https://crm.example/hook","events":[]}`)
	f.agent = ta.users["agent"].ID
	return f
}

// concrete fills a route pattern's parameters with fixture values.
func (f fixtures) concrete(pattern string) string {
	return paramRE.ReplaceAllStringFunc(pattern, func(p string) string {
		switch {
		case p == "*filepath":
			return "agent.js"
		case p == ":ref":
			return strings.Repeat("ab", 32)
		case strings.Contains(pattern, "/customers/"):
			return strconv.FormatInt(f.customer, 10)
		case strings.Contains(pattern, "/contacts/"):
			return strconv.FormatInt(f.contact, 10)
		case strings.Contains(pattern, "/complaints/"):
			return strconv.FormatInt(f.complaint, 10)
		case strings.Contains(pattern, "/webhooks/"):
			return strconv.FormatInt(f.webhook, 10)
		case strings.Contains(pattern, "/agents/"):
			return strconv.FormatInt(f.agent, 10)
		}
		return "999999" // offers: none pending
	})
}

func routeBody(key, method string) string {
	if b, ok := requestBodies[key]; ok {
		return b
	}
	switch method {
	case "POST", "PUT", "PATCH", "DELETE":
		return "{}"
	}
	return ""
}

func matches(want, got int) bool {
	if want == allowed {
		return got != http.StatusUnauthorized && got != http.StatusForbidden
	}
	return got == want
}

func outcome(code int) string {
	if code == allowed {
		return "allowed"
	}
	return strconv.Itoa(code)
}

// TestAccessMatrix calls every route of the server as every kind of caller.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	f := ta.fixtures()

	routes := map[string]bool{}
	var keys []string
	for _, r := range ta.a.web.Routes() {
		k := r.Method + " " + r.Path
		routes[k] = true
		keys = append(keys, k)
		if _, ok := accessRules[k]; !ok {
			t.Errorf("route %q has no row in accessRules: add one saying who may call it", k)
		}
	}
	for k := range accessRules {
		if !routes[k] {
			t.Errorf("accessRules names %q, which the server does not have: remove or fix the row", k)
		}
	}
	sort.Strings(keys)
	// Logout ends the session it is called with: it goes last.
	sort.SliceStable(keys, func(i, j int) bool { return keys[j] == "POST /api/v1/logout" && keys[i] != keys[j] })

	for _, k := range keys {
		want, ok := accessRules[k]
		if !ok {
			continue
		}
		method, pattern, _ := strings.Cut(k, " ")
		path := f.concrete(pattern)
		for i, who := range callers {
			var got int
			var body string
			if strings.HasPrefix(pattern, "/ws/") {
				got = ta.dialWS(path, who)
			} else {
				got, body = ta.do(method, path, who, routeBody(k, method))
			}
			if !matches(want[i], got) {
				t.Errorf("%s (%s) as %s: got %d, want %s\n%.300s", k, path, who, got, outcome(want[i]), body)
			}
			if got >= 500 && got != http.StatusServiceUnavailable {
				t.Errorf("%s (%s) as %s: server error %d\n%.300s", k, path, who, got, body)
			}
		}
	}
}

// TestStaffSessionIsNotAVisitorToken and the converse: the two kinds of
// credential do not stand in for each other.
func TestVisitorTokenIsNoSession(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	for _, hdr := range [][]string{
		{"Authorization", "Bearer " + ta.visitor},
		{"Cookie", web.SessionCookie + "=" + ta.visitor},
	} {
		if code, _ := ta.do("GET", "/api/v1/me", "", "", hdr...); code != http.StatusUnauthorized {
			t.Errorf("visitor token as %s: %d, want 401", hdr[0], code)
		}
	}
	ws, resp, err := websocket.DefaultDialer.Dial(ta.wsURL("/ws/chat?token="+url.QueryEscape(ta.sessions["agent"])), nil)
	if err == nil {
		ws.Close()
		t.Fatal("a staff session token opened /ws/chat")
	}
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("staff session on /ws/chat: %v %v, want 401", resp, err)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	ctx := context.Background()
	uid := ta.users["agent"].ID

	// A session past its expiry is refused.
	past, hash := auth.NewToken()
	if err := ta.st.CreateSession(ctx, hash, uid, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	// One that expires while unused: no cached entry can keep it alive.
	soon, hash2 := auth.NewToken()
	if err := ta.st.CreateSession(ctx, hash2, uid, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{past, soon} {
		ta.sessions["probe"] = tok
		if tok == soon {
			time.Sleep(1200 * time.Millisecond)
		}
		if code, _ := ta.do("GET", "/api/v1/me", "probe", ""); code != http.StatusUnauthorized {
			t.Errorf("expired session: %d, want 401", code)
		}
		if code := ta.dialWS("/ws/agent", "probe"); code != http.StatusUnauthorized {
			t.Errorf("expired session on /ws/agent: %d, want 401", code)
		}
	}
	// The login cookie lives as long as the session.
	resp := ta.request("POST", "/api/v1/login", "", `{"name":"agent1","password":"`+testPassword+`"}`)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie {
			if c.MaxAge != int(config.Default().SessionTTL.Seconds()) || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie: %+v", c)
			}
		}
	}
	// The sweeper (serve.go) removes them.
	if n, err := ta.st.DeleteExpiredSessions(ctx, time.Now()); err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions: %d %v, want 2", n, err)
	}
}

// TestSessionTTL signs in with a short session lifetime. auth caches a
// checked session for 5 s (internal/auth/cache.go) without looking at its
// expiry, so a session in use can outlive its TTL by up to that: it is
// refused at most TTL + 5 s after login.
func TestSessionTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a session to expire")
	}
	t.Parallel()
	const ttl = 3 * time.Second
	ta := newTestApp(t, func(_ *config.Config, d *time.Duration) { *d = ttl })
	tok := ta.login("agent1")
	ta.sessions["short"] = tok
	if code, _ := ta.do("GET", "/api/v1/me", "short", ""); code != http.StatusOK {
		t.Fatalf("fresh session: %d", code)
	}
	// The in-memory session cache never outlives the session itself.
	deadline := time.Now().Add(ttl + time.Second)
	for {
		code, _ := ta.do("GET", "/api/v1/me", "short", "")
		if code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session still accepted %v after login with a %v TTL", ttl+time.Second, ttl)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestLogoutInvalidatesEverywhere(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	tok := ta.sessions["agent"]
	if code, _ := ta.do("GET", "/api/v1/me", "agent", ""); code != http.StatusOK {
		t.Fatalf("before logout: %d", code)
	}
	if code, _ := ta.do("POST", "/api/v1/logout", "agent", ""); code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	if code, _ := ta.do("GET", "/api/v1/me", "agent", ""); code != http.StatusUnauthorized {
		t.Errorf("cookie after logout: %d, want 401", code)
	}
	if code, _ := ta.do("GET", "/api/v1/me", "", "", "Authorization", "Bearer "+tok); code != http.StatusUnauthorized {
		t.Errorf("bearer after logout: %d, want 401", code)
	}
	if code := ta.dialWS("/ws/agent", "agent"); code != http.StatusUnauthorized {
		t.Errorf("/ws/agent after logout: %d, want 401", code)
	}
	// Logging out with a bearer session ends it too.
	tok = ta.login("supervisor1")
	if code, _ := ta.do("POST", "/api/v1/logout", "", "", "Authorization", "Bearer "+tok); code != http.StatusNoContent {
		t.Fatalf("bearer logout: %d", code)
	}
	if code, _ := ta.do("GET", "/api/v1/me", "", "", "Authorization", "Bearer "+tok); code != http.StatusUnauthorized {
		t.Errorf("bearer session after bearer logout: %d, want 401", code)
	}
}

func TestPasswordsStoredHashed(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	// One created through the API as well as those from auth.CreateUser.
	if code, body := ta.do("POST", "/api/v1/users", "admin", `{"name":"api-agent","role":"agent","password":"`+testPassword+`"}`); code != http.StatusCreated {
		t.Fatalf("create user: %d %s", code, body)
	} else if strings.Contains(body, testPassword) || strings.Contains(body, "$2a$") {
		t.Errorf("create user answer shows the password or its hash: %s", body)
	}
	rows, err := ta.st.Pool.Query(context.Background(), `SELECT name, password_hash FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, hash string
		if err := rows.Scan(&name, &hash); err != nil {
			t.Fatal(err)
		}
		n++
		if !strings.HasPrefix(hash, "$2a$") && !strings.HasPrefix(hash, "$2b$") {
			t.Errorf("user %s: password_hash %.10q… is not bcrypt", name, hash)
		}
		if strings.Contains(hash, testPassword) {
			t.Errorf("user %s: clear-text password in the database", name)
		}
		if !auth.CheckPassword(hash, testPassword) {
			t.Errorf("user %s: hash does not verify", name)
		}
	}
	if n != 4 {
		t.Fatalf("%d users, want 4", n)
	}
	// Nothing the API returns about users carries the hash.
	for _, p := range []string{"/api/v1/users", "/api/v1/me"} {
		if _, body := ta.do("GET", p, "admin", ""); strings.Contains(body, "$2a$") || strings.Contains(body, "password") {
			t.Errorf("GET %s leaks password data: %s", p, body)
		}
	}
}

func TestLoginRateLimited(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	last := 0
	for i := 0; i < 12; i++ {
		last, _ = ta.do("POST", "/api/v1/login", "", `{"name":"agent1","password":"wrong-password"}`)
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("after 12 failed logins for one name: %d, want 429", last)
	}
	// Even the right password is refused while limited.
	resp := ta.request("POST", "/api/v1/login", "", `{"name":"agent1","password":"`+testPassword+`"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("right password while limited: %d Retry-After=%q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// A spray over many names is limited per client address.
	last = 0
	for i := 0; i < 25 && last != http.StatusTooManyRequests; i++ {
		last, _ = ta.do("POST", "/api/v1/login", "", fmt.Sprintf(`{"name":"ghost%d","password":"wrong-password"}`, i))
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("a spray of names from one address: %d, want 429", last)
	}
}

// TestLoginLimitIgnoresForwardedFor: with no trusted proxy configured, a
// caller cannot dodge the per-address limit by naming a new address in
// X-Forwarded-For on each try (gin trusts every proxy unless told).
func TestLoginLimitIgnoresForwardedFor(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	last := 0
	for i := 0; i < 25 && last != http.StatusTooManyRequests; i++ {
		ip := fmt.Sprintf("203.0.113.%d", i+1)
		last, _ = ta.do("POST", "/api/v1/login", "", fmt.Sprintf(`{"name":"ghost%d","password":"wrong-password"}`, i),
			"X-Forwarded-For", ip, "X-Real-IP", ip)
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("a spray with a new X-Forwarded-For each time: %d, want 429", last)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	cross := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}
	same := []string{"Origin", ta.srv.URL, "Sec-Fetch-Site", "same-origin"}
	tests := []struct {
		name, method, path, body string
		hdr                      []string
		want                     int
	}{
		{"cross-site create user", "POST", "/api/v1/users", `{"name":"csrf1","role":"agent"}`, cross, http.StatusForbidden},
		{"cross-site agent state", "POST", "/api/v1/agent/state", `{"state":"away"}`, cross, http.StatusForbidden},
		{"cross-site logout", "POST", "/api/v1/logout", ``, cross, http.StatusForbidden},
		{"cross-site origin only", "POST", "/api/v1/users", `{"name":"csrf2","role":"agent"}`, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"same-origin create user", "POST", "/api/v1/users", `{"name":"sameorigin","role":"agent"}`, same, http.StatusCreated},
		{"cross-site read is not state-changing", "GET", "/api/v1/me", ``, cross, http.StatusOK},
		// The widget and webhooks are exempt: they carry no cookies.
		{"cross-site chat session", "POST", "/chat/session", `{"name":"Widget User"}`, cross, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ta.do(tc.method, tc.path, "admin", tc.body, tc.hdr...)
			if code != tc.want {
				t.Fatalf("got %d %s, want %d", code, body, tc.want)
			}
		})
	}
	// The cross-site attempt changed nothing.
	_, body := ta.do("GET", "/api/v1/users", "admin", "")
	if strings.Contains(body, "csrf") {
		t.Fatalf("cross-site POST created a user: %s", body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	for _, p := range []string{"/agent", "/login", "/supervisor"} {
		resp := ta.request("GET", p, "", "")
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", p, csp, d)
			}
		}
		if strings.Contains(csp, "script-src") && strings.Contains(csp, "unsafe-inline") && strings.Contains(csp[strings.Index(csp, "script-src"):], "unsafe-inline") {
			t.Errorf("%s: CSP allows inline script: %q", p, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", p, k, h.Get(k), v)
			}
		}
	}
	// The API and static files get the generic headers too.
	for _, p := range []string{"/api/v1/me", "/ui/agent.js", "/healthz"} {
		resp := ta.request("GET", p, "", "")
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no X-Content-Type-Options: nosniff", p)
		}
	}
}

// TestInputLimits are the limits that need the whole server.
func TestInputLimits(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	big := func(n int) string { return strings.Repeat("a", n) }
	attrs := func(n int) string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			m["k"+strconv.Itoa(i)] = "v"
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"JSON body over 1 MiB", "POST", "/api/v1/customers", `{"name":"` + big(1<<20) + `"}`, http.StatusRequestEntityTooLarge},
		{"unknown JSON field", "POST", "/api/v1/customers", `{"name":"x","is_admin":true}`, http.StatusBadRequest},
		{"contact with 51 attributes", "POST", "/api/v1/contacts", `{"channel":"email","from":{"kind":"email","value":"a@b.example"},"attributes":` + attrs(51) + `}`, http.StatusBadRequest},
		{"contact with 50 attributes", "POST", "/api/v1/contacts", `{"channel":"email","from":{"kind":"email","value":"a@b.example"},"attributes":` + attrs(50) + `}`, http.StatusCreated},
		{"contact message over 64 KiB", "POST", "/api/v1/contacts", `{"channel":"email","from":{"kind":"email","value":"a@b.example"},"message":"` + big(64<<10+1) + `"}`, http.StatusBadRequest},
		{"agent reply over 64 KiB", "POST", "/api/v1/contacts/1/messages", `{"body":"` + big(64<<10+1) + `"}`, http.StatusBadRequest},
		{"note over 64 KiB", "POST", "/api/v1/contacts/1/notes", `{"body":"` + big(64<<10+1) + `"}`, http.StatusBadRequest},
		{"complaint description over 16 KiB", "POST", "/api/v1/complaints", `{"customer_id":1,"category":"billing","severity":"low","description":"` + big(16<<10+1) + `"}`, http.StatusBadRequest},
		{"list limit over 1000", "GET", "/api/v1/contacts?limit=1001", ``, http.StatusBadRequest},
		{"chat session body over 8 KiB", "POST", "/chat/session", `{"name":"` + big(8<<10) + `"}`, http.StatusBadRequest},
		{"SMS webhook body over 64 KiB", "POST", "/webhooks/sms/twilio", "Body=" + big(64<<10), http.StatusRequestEntityTooLarge},
		{"generic SMS webhook body over 64 KiB", "POST", "/webhooks/sms/generic", `{"body":"` + big(64<<10) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ta.do(tc.method, tc.path, "supervisor", tc.body)
			if !matches(tc.want, code) {
				t.Fatalf("got %d %.200s, want %s", code, body, outcome(tc.want))
			}
		})
	}
}

// TestHeaderLimit: Go's http.Server refuses a request whose header is over
// MaxHeaderBytes (default 1 MiB) with 431 before any handler runs. serve.go
// keeps the default.
func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	req, _ := http.NewRequest("GET", ta.srv.URL+"/healthz", nil)
	for i := 0; i < 30; i++ { // 120 KiB, over the server's 64 KiB
		req.Header.Add("X-Filler-"+strconv.Itoa(i), strings.Repeat("x", 4096))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("120 KiB of headers: %d, want 431", resp.StatusCode)
	}
	// A request of ordinary size still works.
	if code, _ := ta.do("GET", "/healthz", "", ""); code != http.StatusOK {
		t.Fatalf("after: %d", code)
	}
}

// TestWebsocketReadLimits: a frame over a socket's read limit closes that
// connection (1009) and no other.
func TestWebsocketReadLimits(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	dial := func(path string, hdr http.Header) *websocket.Conn {
		t.Helper()
		ws, resp, err := websocket.DefaultDialer.Dial(ta.wsURL(path), hdr)
		if err != nil {
			t.Fatalf("dial %s: %v %v", path, resp, err)
		}
		t.Cleanup(func() { ws.Close() })
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil { // hello / welcome
			t.Fatalf("%s: first frame: %v", path, err)
		}
		return ws
	}
	// readUntil reads frames until one of type typ; it returns its raw data.
	readUntil := func(ws *websocket.Conn, typ string) string {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %q: %v", typ, err)
			}
			var e struct {
				Type string
				Data json.RawMessage
			}
			_ = json.Unmarshal(b, &e)
			if e.Type == typ {
				return string(e.Data)
			}
		}
	}
	closedWith := func(ws *websocket.Conn, code int) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, _, err := ws.ReadMessage()
			if err == nil {
				continue
			}
			if !websocket.IsCloseError(err, code) {
				t.Fatalf("closed with %v, want close code %d", err, code)
			}
			return
		}
	}
	frame := func(typ string, data map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"type": typ, "data": data})
		return b
	}

	t.Run("agent hub 64 KiB", func(t *testing.T) {
		cookie := http.Header{"Cookie": {web.SessionCookie + "=" + ta.sessions["agent"]}}
		victim := dial("/ws/agent", cookie)
		other := dial("/ws/agent", http.Header{"Cookie": {web.SessionCookie + "=" + ta.sessions["supervisor"]}})
		// Just under the limit: kept (an invalid frame answers an error frame).
		if err := victim.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 64<<10)); err != nil {
			t.Fatal(err)
		}
		readUntil(victim, "error")
		if err := victim.WriteMessage(websocket.TextMessage, frame("typing", map[string]any{"pad": strings.Repeat("x", 64<<10)})); err != nil {
			t.Fatal(err)
		}
		closedWith(victim, websocket.CloseMessageTooBig)
		// The other console still works.
		if err := other.WriteMessage(websocket.TextMessage, []byte("not json")); err != nil {
			t.Fatal(err)
		}
		readUntil(other, "error")
		if code, _ := ta.do("POST", "/api/v1/agent/state", "supervisor", `{"state":"available"}`); code != http.StatusOK {
			t.Fatalf("state: %d", code)
		}
	})

	t.Run("chat 32 KiB and 4 KiB messages", func(t *testing.T) {
		tok := func() string {
			code, body := ta.do("POST", "/chat/session", "", `{"name":"Limit Tester"}`)
			if code != http.StatusOK {
				t.Fatalf("chat session: %d %s", code, body)
			}
			var sr struct{ Token string }
			_ = json.Unmarshal([]byte(body), &sr)
			return sr.Token
		}
		victim := dial("/ws/chat?token="+url.QueryEscape(tok()), nil)
		other := dial("/ws/chat?token="+url.QueryEscape(ta.visitor), nil)
		// A message over 4 KiB: an error frame, the socket is kept.
		if err := victim.WriteMessage(websocket.TextMessage, frame("message", map[string]any{"client_id": "c1", "body": strings.Repeat("y", 4<<10+1)})); err != nil {
			t.Fatal(err)
		}
		if d := readUntil(victim, "error"); !strings.Contains(d, `"too_large"`) || !strings.Contains(d, `"c1"`) {
			t.Fatalf("error frame %s, want too_large for c1", d)
		}
		if err := victim.WriteMessage(websocket.TextMessage, frame("message", map[string]any{"client_id": "c2", "body": "still here"})); err != nil {
			t.Fatal(err)
		}
		if d := readUntil(victim, "ack"); !strings.Contains(d, `"c2"`) {
			t.Fatalf("ack %s", d)
		}
		// A frame over 32 KiB: that socket is closed.
		if err := victim.WriteMessage(websocket.TextMessage, frame("message", map[string]any{"client_id": "c3", "body": strings.Repeat("z", 32<<10)})); err != nil {
			t.Fatal(err)
		}
		closedWith(victim, websocket.CloseMessageTooBig)
		// The other visitor still chats.
		if err := other.WriteMessage(websocket.TextMessage, frame("message", map[string]any{"client_id": "o1", "body": "hello"})); err != nil {
			t.Fatal(err)
		}
		if d := readUntil(other, "ack"); !strings.Contains(d, `"o1"`) {
			t.Fatalf("ack %s", d)
		}
	})

	t.Run("supervisor board", func(t *testing.T) {
		ws, resp, err := websocket.DefaultDialer.Dial(ta.wsURL("/ws/supervisor"), http.Header{"Cookie": {web.SessionCookie + "=" + ta.sessions["admin"]}})
		if err != nil {
			t.Fatalf("dial: %v %v", resp, err)
		}
		defer ws.Close()
		if err := ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 64<<10+1)); err != nil {
			t.Fatal(err)
		}
		closedWith(ws, websocket.CloseMessageTooBig)
	})
}
