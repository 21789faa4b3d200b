package board_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	agentui "github.com/contacthub/contacthub/agent-ui"
	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/board"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/contacthub/contacthub/internal/hub"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/web"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// boardEnv is a real desk (desktest) with the board running on it, served
// with the web.Server, MountBoard and the static files like production.
type boardEnv struct {
	rig     *desktest.Rig
	b       *board.Board
	srv     *httptest.Server
	auth    *auth.Service
	supTok  string
	agentTk string
}

func newBoardEnv(t testing.TB, agents int) *boardEnv {
	t.Helper()
	rig := desktest.New(t, agents)
	a := auth.New(rig.Store, time.Hour)
	ctx := context.Background()
	if _, _, err := a.CreateUser(ctx, "super1", "Supervisor", store.RoleSupervisor, "password-123"); err != nil {
		t.Fatal(err)
	}
	if err := setPassword(ctx, a, rig.Store, "agent1"); err != nil {
		t.Fatal(err)
	}
	b := board.New(rig.Store, rig.Desk, nil, board.Config{})
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = b.Run(bctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	s := web.New(web.Deps{Store: rig.Store, Auth: a})
	web.MountBoard(s, b, hub.Options{})
	s.Public.GET("/supervisor", func(c *gin.Context) {
		page, _ := fs.ReadFile(agentui.Files, "supervisor.html")
		c.Data(200, "text/html; charset=utf-8", page)
	})
	s.Public.GET("/ui/*path", func(c *gin.Context) { c.FileFromFS(strings.TrimPrefix(c.Param("path"), "/"), http.FS(agentui.Files)) })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &boardEnv{rig: rig, b: b, srv: srv, auth: a}
	var err error
	if e.supTok, _, err = a.Login(ctx, "127.0.0.1", "super1", "password-123"); err != nil {
		t.Fatal(err)
	}
	if e.agentTk, _, err = a.Login(ctx, "127.0.0.1", "agent1", "password-123"); err != nil {
		t.Fatal(err)
	}
	return e
}

// setPassword gives a desktest agent a real password so it can log in.
func setPassword(ctx context.Context, a *auth.Service, st *store.Store, name string) error {
	u, tmp, err := a.CreateUser(ctx, name+"-tmp", "", store.RoleAgent, "password-123")
	if err != nil {
		return err
	}
	_ = tmp
	_, err = st.Pool.Exec(ctx, `UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $1) WHERE name = $2`, u.ID, name)
	return err
}

func (e *boardEnv) req(t testing.TB, tok, method, path, body string) (int, string) {
	t.Helper()
	r, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *boardEnv) dial(tok string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+tok)
	return websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/ws/supervisor", h)
}

var visitor int

func arrive(t testing.TB, e *boardEnv) contact.Contact {
	t.Helper()
	visitor++
	c, err := e.rig.Desk.Accept(context.Background(), contact.Arrival{Channel: contact.Chat,
		From: contact.Identity{Kind: contact.Visitor, Value: fmt.Sprintf("visitor-%d-%d", time.Now().UnixNano(), visitor)}, Message: &contact.Message{Body: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFrame(t testing.TB, ws *websocket.Conn) board.Frame {
	t.Helper()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(b, &env)
		if env.Type != "board" {
			continue
		}
		var f board.Frame
		if err := json.Unmarshal(env.Data, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
}

// TestBoardAccessAndActions: agents get 403 on the socket and the board API;
// a supervisor sees waiting contacts and agents, and every action is audited.
func TestBoardAccessAndActions(t *testing.T) {
	e := newBoardEnv(t, 2)
	ctx := context.Background()
	if _, resp, err := e.dial(e.agentTk); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("agent socket: %v %v, want 403", resp, err)
	}
	if _, resp, err := e.dial(""); err == nil || resp.StatusCode != 401 {
		t.Fatalf("anonymous socket: %v, want 401", resp)
	}
	for _, p := range []string{"/api/v1/board", "/api/v1/reports/intervals", "/api/v1/reports/agents", "/api/v1/reports/complaints", "/api/v1/board/actions"} {
		if code, _ := e.req(t, e.agentTk, "GET", p, ""); code != 403 {
			t.Errorf("agent GET %s: %d, want 403", p, code)
		}
	}
	if code, _ := e.req(t, e.agentTk, "POST", "/api/v1/board/agents/1/state", `{"state":"away"}`); code != 403 {
		t.Errorf("agent action: %d, want 403", code)
	}
	ws, _, err := e.dial(e.supTok)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	a1, a2 := e.rig.Agents[0], e.rig.Agents[1]
	c1 := arrive(t, e)
	c2 := arrive(t, e)
	var f board.Frame
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if f = readFrame(t, ws); len(f.Waiting) == 2 {
			break
		}
	}
	if len(f.Waiting) != 2 {
		t.Fatalf("waiting %+v", f.Waiting)
	}
	// Move c2 to the priority queue, then to agent 2 directly.
	if code, body := e.req(t, e.supTok, "POST", fmt.Sprintf("/api/v1/board/contacts/%d/move", c2.ID), `{"queue":"priority"}`); code != 200 {
		t.Fatalf("move: %d %s", code, body)
	}
	for _, w := range e.rig.Desk.Engine().Snapshot().Contacts {
		if w.Contact == c2.ID && w.Queue != "priority" {
			t.Fatalf("c2 in %s after move", w.Queue)
		}
	}
	for _, tc := range []struct{ body, want string }{{`{"queue":"nope"}`, "404"}, {`{}`, "400"}, {`{"queue":"general","agent_id":1}`, "400"}} {
		if code, _ := e.req(t, e.supTok, "POST", fmt.Sprintf("/api/v1/board/contacts/%d/move", c2.ID), tc.body); fmt.Sprint(code) != tc.want {
			t.Errorf("move %s: %d, want %s", tc.body, code, tc.want)
		}
	}
	if code, _ := e.req(t, e.supTok, "POST", "/api/v1/board/contacts/999999/move", `{"queue":"general"}`); code != 409 {
		t.Errorf("move of a contact not waiting: %d, want 409", code)
	}
	// Agent 1 goes available (by the supervisor), takes c1, ends it; the supervisor ends the wrap-up.
	if _, err := e.rig.Desk.AgentConnected(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if code, body := e.req(t, e.supTok, "POST", fmt.Sprintf("/api/v1/board/agents/%d/state", a1), `{"state":"available"}`); code != 200 {
		t.Fatalf("set state: %d %s", code, body)
	}
	if code, _ := e.req(t, e.supTok, "POST", fmt.Sprintf("/api/v1/board/agents/%d/state", a1), `{"state":"sleeping"}`); code != 400 {
		t.Errorf("bad state: %d, want 400", code)
	}
	of := e.rig.NextOffer(t, a1)
	e.rig.Accept(t, a1, of)
	if _, err := e.rig.Desk.End(ctx, a1, of.Contact.ID); err != nil {
		t.Fatal(err)
	}
	if code, body := e.req(t, e.supTok, "POST", fmt.Sprintf("/api/v1/board/agents/%d/end-wrapup", a1), ""); code != 200 {
		t.Fatalf("end wrap-up: %d %s", code, body)
	}
	if code, _ := e.req(t, e.supTok, "POST", fmt.Sprintf("/api/v1/board/agents/%d/end-wrapup", a2), ""); code != 409 {
		t.Errorf("end wrap-up of an idle agent: %d, want 409", code)
	}
	if code, _ := e.req(t, e.supTok, "POST", "/api/v1/board/evaluations", fmt.Sprintf(`{"agent_id":%d,"score":85,"comment":"good"}`, a1)); code != 201 {
		t.Errorf("evaluate: %d", code)
	}
	if code, _ := e.req(t, e.supTok, "POST", "/api/v1/board/evaluations", fmt.Sprintf(`{"agent_id":%d,"score":101}`, a1)); code != 400 {
		t.Errorf("evaluate 101: %d, want 400", code)
	}
	_, body := e.req(t, e.supTok, "GET", "/api/v1/board/actions", "")
	var acts struct{ Actions []store.SupervisorAction }
	_ = json.Unmarshal([]byte(body), &acts)
	kinds := map[string]int{}
	for _, a := range acts.Actions {
		kinds[a.Action]++
		if a.SupervisorID == 0 || a.At.IsZero() {
			t.Errorf("action without who/when: %+v", a)
		}
	}
	if kinds["move_contact"] != 5 || kinds["agent_state"] != 2 || kinds["end_wrapup"] != 2 || kinds["evaluate"] != 2 {
		t.Errorf("audited actions %v", kinds)
	}
	// The closed contact shows in today's figures and reports.
	deadline := time.Now().Add(5 * time.Second)
	for f = readFrame(t, ws); f.Today.Answered < 1 && time.Now().Before(deadline); f = readFrame(t, ws) {
	}
	if f.Today.Answered != 1 || f.Today.Offered < 2 {
		t.Errorf("today %+v", f.Today)
	}
	_ = c1
	code, body := e.req(t, e.supTok, "GET", "/api/v1/reports/intervals?format=csv", "")
	if code != 200 || !strings.HasPrefix(body, "interval_start,queue,offered") {
		t.Errorf("interval csv: %d %.200s", code, body)
	}
	code, body = e.req(t, e.supTok, "GET", "/api/v1/reports/agents", "")
	var ar struct{ Agents []board.AgentScore }
	_ = json.Unmarshal([]byte(body), &ar)
	found := false
	for _, a := range ar.Agents {
		if a.AgentID == a1 {
			found = true
			if a.Closed != 1 || a.SupervisorSc == nil || *a.SupervisorSc != 85 || a.Score == nil {
				t.Errorf("agent report %+v", a)
			}
		}
	}
	if code != 200 || !found {
		t.Errorf("agent report: %d %s", code, body)
	}
	if code, _ := e.req(t, e.supTok, "GET", "/api/v1/reports/complaints?format=csv", ""); code != 200 {
		t.Errorf("complaint report: %d", code)
	}
	if code, _ := e.req(t, e.supTok, "GET", "/api/v1/reports/intervals?from=2026-01-01&to=2026-12-31", ""); code != 400 {
		t.Errorf("too long a range: %d, want 400", code)
	}
}
