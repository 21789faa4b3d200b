package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/web"
)

type custClient struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
}

func (c *custClient) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, bytes.NewBufferString(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

func setupCustomers(t *testing.T) (agent, sup, anon *custClient) {
	st := dbtest.New(t)
	a := auth.New(st, time.Hour)
	srv := web.New(web.Deps{Store: st, Auth: a})
	web.MountCustomers(srv, customer.New(st, "CN", customer.DefaultValueConfig(), nil))
	h := srv.Handler()
	login := func(name string, role store.Role) *custClient {
		if _, _, err := a.CreateUser(context.Background(), name, name, role, "password-123"); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"name":"`+name+`","password":"password-123"}`))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("login %s: %d %s", name, w.Code, w.Body)
		}
		return &custClient{t: t, h: h, cookie: w.Result().Cookies()[0]}
	}
	return login("agent1", store.RoleAgent), login("sup1", store.RoleSupervisor), &custClient{t: t, h: h}
}

func TestCustomerAPI(t *testing.T) {
	t.Parallel()
	agent, sup, anon := setupCustomers(t)

	if code, _ := anon.do("GET", "/api/v1/customers", ""); code != 401 {
		t.Fatalf("anonymous: %d", code)
	}
	code, out := agent.do("POST", "/api/v1/customers", `{"external_id":"X1","name":"王芳","identities":[{"kind":"phone","value":"138 0013 8000"},{"kind":"email","value":"\"Wang\" <Wang@Example.com>"}]}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	id := int(out["customer"].(map[string]any)["id"].(float64))
	path := "/api/v1/customers/" + custItoa(id)
	_, out2 := agent.do("POST", "/api/v1/customers", `{"name":"Other"}`)
	other := int(out2["customer"].(map[string]any)["id"].(float64))

	tests := []struct {
		name   string
		c      *custClient
		method string
		path   string
		body   string
		want   int
	}{
		{"lookup by national phone", agent, "GET", "/api/v1/customers?phone=0086%20138%200013%208000", "", 200},
		{"lookup junk phone", agent, "GET", "/api/v1/customers?phone=abc", "", 400},
		{"profile", agent, "GET", path + "/profile", "", 200},
		{"profile missing", agent, "GET", "/api/v1/customers/999999/profile", "", 404},
		{"profile bad id", agent, "GET", "/api/v1/customers/abc/profile", "", 400},
		{"create bad phone", agent, "POST", "/api/v1/customers", `{"name":"x","identities":[{"kind":"phone","value":"12"}]}`, 400},
		{"create duplicate external id", agent, "POST", "/api/v1/customers", `{"external_id":"X1","name":"dup"}`, 409},
		{"create bad json", agent, "POST", "/api/v1/customers", `{"nom":1}`, 400},
		{"link", agent, "POST", path + "/identities", `{"kind":"chat","value":"visitor-42"}`, 201},
		{"link taken", agent, "POST", "/api/v1/customers/" + custItoa(other) + "/identities", `{"kind":"chat","value":"visitor-42"}`, 409},
		{"link missing customer", agent, "POST", "/api/v1/customers/999999/identities", `{"kind":"chat","value":"v-1"}`, 404},
		{"order", agent, "POST", path + "/orders", `{"external_id":"o1","amount":120.5,"ordered_at":"2025-01-02"}`, 201},
		{"order negative", agent, "POST", path + "/orders", `{"amount":-1}`, 400},
		{"order bad date", agent, "POST", path + "/orders", `{"amount":1,"ordered_at":"yesterday"}`, 400},
		{"pin as agent", agent, "PUT", path + "/pin", `{"tier":"gold"}`, 403},
		{"pin bad tier", sup, "PUT", path + "/pin", `{"tier":"diamond"}`, 400},
		{"pin", sup, "PUT", path + "/pin", `{"tier":"gold"}`, 200},
		{"merge as agent", agent, "POST", path + "/merge", `{"from":` + custItoa(other) + `}`, 403},
		{"merge self", sup, "POST", path + "/merge", `{"from":` + custItoa(id) + `}`, 400},
		{"merge missing", sup, "POST", path + "/merge", `{"from":999999}`, 404},
		{"merge", sup, "POST", path + "/merge", `{"from":` + custItoa(other) + `}`, 200},
		{"list", agent, "GET", "/api/v1/customers?tier=gold&limit=10", "", 200},
		{"list bad limit", agent, "GET", "/api/v1/customers?limit=0", "", 400},
	}
	for _, tc := range tests {
		code, out := tc.c.do(tc.method, tc.path, tc.body)
		if code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, out, tc.want)
		}
	}

	_, p := agent.do("GET", path+"/profile", "")
	for _, k := range []string{"id", "external_id", "name", "company", "language", "identities", "tier", "tier_pinned", "value_score",
		"clv", "rfm", "abc", "key_account", "lifecycle", "quadrant", "satisfaction", "last_csat", "orders", "recent_contacts", "open_complaints", "hint"} {
		if _, ok := p[k]; !ok {
			t.Errorf("profile lacks %q", k)
		}
	}
	if p["tier"] != "gold" || p["tier_pinned"] != true || len(p["identities"].([]any)) != 3 {
		t.Errorf("profile: %v", p)
	}
	if o := p["orders"].(map[string]any); o["count"].(float64) != 1 || o["total"].(float64) != 120.5 {
		t.Errorf("orders: %v", o)
	}
	_, l := agent.do("GET", "/api/v1/customers?email=wang@example.com", "")
	if cs := l["customers"].([]any); len(cs) != 1 || cs[0].(map[string]any)["name"] != "王芳" {
		t.Errorf("lookup by email: %v", l)
	}
	_, l = agent.do("GET", "/api/v1/customers?phone=%2B8613900000000", "")
	if cs := l["customers"].([]any); len(cs) != 0 {
		t.Errorf("unknown phone: %v", l)
	}
	if code, _ := sup.do("DELETE", path+"/pin", ""); code != 200 {
		t.Errorf("unpin: %d", code)
	}
}

func custItoa(n int) string { b, _ := json.Marshal(n); return string(b) }
