package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/web"
	"github.com/prometheus/client_golang/prometheus"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a running HTTP server on a fresh database with one user per role.
type env struct {
	srv  *httptest.Server
	auth *auth.Service
}

const pw = "correct-horse"

func newEnv(t *testing.T) *env {
	t.Helper()
	st := dbtest.New(t)
	a := auth.New(st, time.Hour)
	for _, u := range []struct {
		name string
		role store.Role
	}{{"agent1", store.RoleAgent}, {"super1", store.RoleSupervisor}, {"admin1", store.RoleAdmin}} {
		if _, _, err := a.CreateUser(context.Background(), u.name, "", u.role, pw); err != nil {
			t.Fatal(err)
		}
	}
	s := web.New(web.Deps{Store: st, Auth: a, Registry: prometheus.NewRegistry(), MaxBodyBytes: 4096})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{srv: srv, auth: a}
}

func (e *env) client(t *testing.T, name string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if name == "" {
		return c
	}
	resp, err := c.Post(e.srv.URL+"/api/v1/login", "application/json", strings.NewReader(`{"name":"`+name+`","password":"`+pw+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login %s: %d", name, resp.StatusCode)
	}
	return c
}

func do(t *testing.T, c *http.Client, method, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client(t, "")
	tests := []struct {
		name, body string
		want       int
		wantBody   string
	}{
		{"good", `{"name":"agent1","password":"` + pw + `"}`, 200, `"role":"agent"`},
		{"wrong password", `{"name":"agent1","password":"nope-nope"}`, 401, "invalid name or password"},
		{"unknown user same answer", `{"name":"ghost","password":"nope-nope"}`, 401, "invalid name or password"},
		{"malformed json", `{"name":`, 400, "invalid JSON"},
		{"unknown field", `{"name":"a","password":"b","x":1}`, 400, "unknown field"},
		{"oversize body", `{"name":"` + strings.Repeat("a", 5000) + `"}`, 413, "request body over"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, c, "POST", e.srv.URL+"/api/v1/login", tc.body)
			if code != tc.want || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %s, want %d containing %q", code, body, tc.want, tc.wantBody)
			}
			if strings.Contains(body, "password_hash") {
				t.Fatal("password hash leaked")
			}
		})
	}
}

func TestLoginRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client(t, "")
	var last int
	for i := 0; i < 12; i++ {
		last, _ = do(t, c, "POST", e.srv.URL+"/api/v1/login", `{"name":"agent1","password":"wrong-wrong"}`)
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("after 12 failures got %d, want 429", last)
	}
}

func TestAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	clients := map[string]*http.Client{
		"anon": e.client(t, ""), "agent": e.client(t, "agent1"),
		"supervisor": e.client(t, "super1"), "admin": e.client(t, "admin1"),
	}
	tests := []struct {
		method, path, body string
		want               map[string]int
	}{
		{"GET", "/healthz", "", map[string]int{"anon": 200, "agent": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/readyz", "", map[string]int{"anon": 200, "agent": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/metrics", "", map[string]int{"anon": 200, "agent": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/me", "", map[string]int{"anon": 401, "agent": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/users", "", map[string]int{"anon": 401, "agent": 403, "supervisor": 403, "admin": 200}},
		{"POST", "/api/v1/users", `{"name":"x","role":"nope"}`, map[string]int{"anon": 401, "agent": 403, "supervisor": 403, "admin": 400}},
		{"GET", "/api/v1/nonexistent", "", map[string]int{"anon": 404, "agent": 404, "supervisor": 404, "admin": 404}},
	}
	for _, tc := range tests {
		for who, want := range tc.want {
			t.Run(tc.method+" "+tc.path+" as "+who, func(t *testing.T) {
				if code, body := do(t, clients[who], tc.method, e.srv.URL+tc.path, tc.body); code != want {
					t.Fatalf("got %d (%s), want %d", code, body, want)
				}
			})
		}
	}
}

func TestCreateUserAndToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.client(t, "admin1")
	code, body := do(t, admin, "POST", e.srv.URL+"/api/v1/users", `{"name":"newagent","role":"agent"}`)
	if code != 201 || !strings.Contains(body, `"password":"`) {
		t.Fatalf("create user: %d %s", code, body)
	}
	if code, _ := do(t, admin, "POST", e.srv.URL+"/api/v1/users", `{"name":"newagent","role":"agent"}`); code != 409 {
		t.Fatalf("duplicate user: %d, want 409", code)
	}
	code, body = do(t, admin, "POST", e.srv.URL+"/api/v1/tokens", `{"name":"crm"}`)
	if code != 201 {
		t.Fatalf("create token: %d %s", code, body)
	}
	tok := body[strings.Index(body, `"token":"`)+9:]
	tok = tok[:strings.Index(tok, `"`)]
	anon := e.client(t, "")
	if code, _ := do(t, anon, "GET", e.srv.URL+"/api/v1/users", "", "Authorization", "Bearer "+tok); code != 200 {
		t.Fatalf("API token: %d, want 200", code)
	}
	if code, _ := do(t, anon, "GET", e.srv.URL+"/api/v1/users", "", "Authorization", "Bearer cht_forged"); code != 401 {
		t.Fatalf("forged API token: %d, want 401", code)
	}
}

func TestLogoutInvalidatesSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client(t, "agent1")
	u, _ := http.NewRequest("GET", e.srv.URL, nil)
	cookies := c.Jar.Cookies(u.URL)
	if code, _ := do(t, c, "POST", e.srv.URL+"/api/v1/logout", ""); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	// Replaying the old cookie must fail.
	replay := e.client(t, "")
	replay.Jar.SetCookies(u.URL, cookies)
	if code, _ := do(t, replay, "GET", e.srv.URL+"/api/v1/me", ""); code != 401 {
		t.Fatalf("old session after logout: %d, want 401", code)
	}
}

func TestCrossOriginStateChangeRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.client(t, "admin1")
	code, _ := do(t, admin, "POST", e.srv.URL+"/api/v1/users", `{"name":"csrf","role":"agent"}`,
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", code)
	}
}
