package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// client is a logged-in HTTP client of a running server.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func login(t *testing.T, addr, name, password string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: "http://" + addr, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	code, body := c.do("POST", "/api/v1/login", fmt.Sprintf(`{"name":%q,"password":%q}`, name, password))
	if code != 200 {
		t.Fatalf("login %s: %d %s", name, code, body)
	}
	return c
}

func (c *client) do(method, path, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) must(method, path, body string, want int, out any) {
	c.t.Helper()
	code, b := c.do(method, path, body)
	if code != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type envelope struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// socket connects the client's /ws/agent and returns a channel of frames.
func (c *client) socket() (<-chan envelope, func()) {
	c.t.Helper()
	u, _ := url.Parse(c.base)
	d := websocket.Dialer{Jar: c.hc.Jar, HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.Dial("ws://"+u.Host+"/ws/agent", nil)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		c.t.Fatalf("ws dial: %v (%d)", err, code)
	}
	ch := make(chan envelope, 1000)
	go func() {
		defer close(ch)
		for {
			var e envelope
			if err := ws.ReadJSON(&e); err != nil {
				return
			}
			ch <- e
		}
	}()
	return ch, func() { ws.Close() }
}

func next(t *testing.T, ch <-chan envelope, typ string) json.RawMessage {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("socket closed waiting for %q", typ)
			}
			if e.Type == typ {
				return e.Data
			}
		case <-timeout:
			t.Fatalf("no %q frame within 15s", typ)
		}
	}
}

func newDataDir(t *testing.T) (base, bin string) {
	t.Helper()
	base, err := os.MkdirTemp("", "che2e")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	t.Cleanup(func() { os.RemoveAll(base) })
	return base, buildBinary(t, base)
}

type offerMsg struct {
	OfferID int64 `json:"offer_id"`
	Contact struct {
		ID    int64  `json:"id"`
		Queue string `json:"queue"`
	} `json:"contact"`
	Profile *struct {
		Name string `json:"name"`
		Tier string `json:"tier"`
	} `json:"profile"`
}

// TestAgentFlow: contact created through the API → screen-pop with the
// customer's tier on the agent's websocket → accept → reply → wrap-up;
// a second agent never sees the same contact.
func TestAgentFlow(t *testing.T) {
	base, bin := newDataDir(t)
	s := startServer(t, bin, filepath.Join(base, "var"))
	defer s.stop(t)

	alice := login(t, s.addr, "alice", "agent-demo-pw")
	bob := login(t, s.addr, "bob", "agent-demo-pw")
	sup := login(t, s.addr, "supervisor", "supervisor-demo-pw")
	aws, closeA := alice.socket()
	defer closeA()
	bws, closeB := bob.socket()
	defer closeB()
	next(t, aws, "hello")
	next(t, bws, "hello")
	alice.must("POST", "/api/v1/agent/state", `{"state":"available"}`, 200, nil)

	var created struct {
		Contact struct {
			ID int64 `json:"id"`
		} `json:"contact"`
	}
	sup.must("POST", "/api/v1/contacts", `{"channel":"chat","from":{"kind":"email","value":"Li.Wei@Example.com"},"message":"my order is late"}`, 201, &created)

	var of offerMsg
	json.Unmarshal(next(t, aws, "offer"), &of)
	if of.Contact.ID != created.Contact.ID || of.Profile == nil || of.Profile.Tier != "gold" || of.Profile.Name != "Li Wei" || of.Contact.Queue != "priority" {
		t.Fatalf("screen-pop %+v profile %+v, want Li Wei gold in priority", of.Contact, of.Profile)
	}
	// Bob cannot take Alice's offer.
	if code, _ := bob.do("POST", fmt.Sprintf("/api/v1/offers/%d/accept", of.OfferID), ""); code != 403 {
		t.Fatalf("bob accepting alice's offer: %d, want 403", code)
	}
	alice.must("POST", fmt.Sprintf("/api/v1/offers/%d/accept", of.OfferID), "", 200, nil)
	next(t, aws, "contact_assigned")
	path := fmt.Sprintf("/api/v1/contacts/%d", created.Contact.ID)
	alice.must("POST", path+"/messages", `{"body":"Sorry! Let me check."}`, 201, nil)
	if code, _ := bob.do("POST", path+"/messages", `{"body":"not mine"}`); code != 403 {
		t.Fatalf("bob replying: %d, want 403", code)
	}
	alice.must("POST", path+"/wrapup", `{"disposition":"resolved","notes":"shipped today"}`, 200, nil)
	var det struct {
		Contact struct {
			State       string `json:"state"`
			Disposition string `json:"disposition"`
		} `json:"contact"`
		Messages []json.RawMessage `json:"messages"`
	}
	sup.must("GET", path, "", 200, &det)
	if det.Contact.State != "closed" || det.Contact.Disposition != "resolved" || len(det.Messages) != 2 {
		t.Fatalf("after wrap-up: %+v, %d messages", det.Contact, len(det.Messages))
	}
	select {
	case e := <-bws:
		for e.Type != "offer" {
			select {
			case e = <-bws:
			default:
				return
			}
		}
		t.Fatalf("bob got an offer: %s", e.Data)
	default:
	}
}

// TestKillRestoresWaiting: SIGKILL the server while contacts wait; after a
// restart every waiting contact is back with its original enqueue time,
// none lost or duplicated.
func TestKillRestoresWaiting(t *testing.T) {
	base, bin := newDataDir(t)
	dataDir := filepath.Join(base, "var")
	s := startServer(t, bin, dataDir)
	sup := login(t, s.addr, "supervisor", "supervisor-demo-pw")
	want := map[int64]string{}
	for i, from := range []string{"+8613700137000", "+8613012345678", "+8613900139000", "+8613800138000"} {
		var created struct {
			Contact struct {
				ID         int64  `json:"id"`
				EnqueuedAt string `json:"enqueued_at"`
			} `json:"contact"`
		}
		sup.must("POST", "/api/v1/contacts", fmt.Sprintf(`{"channel":"voice","from":{"kind":"phone","value":%q},"external_id":"call-%d"}`, from, i), 201, &created)
		want[created.Contact.ID] = created.Contact.EnqueuedAt
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done

	s = startServer(t, bin, dataDir)
	defer s.stop(t)
	sup = login(t, s.addr, "supervisor", "supervisor-demo-pw")
	var list openContacts
	sup.must("GET", "/api/v1/contacts?open=true", "", 200, &list)
	assertRestored(t, sup, list, want, "after restart")
	// Re-sending the same call (a retry) does not create a duplicate.
	sup.must("POST", "/api/v1/contacts", `{"channel":"voice","from":{"kind":"phone","value":"+8613700137000"},"external_id":"call-0"}`, 201, nil)
	sup.must("GET", "/api/v1/contacts?open=true", "", 200, &list)
	if len(list.Contacts) != len(want) {
		t.Fatalf("retry created a duplicate: %d open contacts", len(list.Contacts))
	}
}

// openContacts is the answer of GET /api/v1/contacts?open=true.
type openContacts struct {
	Contacts []struct {
		ID         int64  `json:"id"`
		State      string `json:"state"`
		EnqueuedAt string `json:"enqueued_at"`
	} `json:"contacts"`
}

// assertRestored checks that exactly the contacts in want (id → enqueued_at
// as first answered) are open, waiting, with their original enqueue time,
// and that the serving node's routing engine holds every one of them.
func assertRestored(t *testing.T, c *client, list openContacts, want map[int64]string, where string) {
	t.Helper()
	if len(list.Contacts) != len(want) {
		t.Fatalf("%d open contacts %s, want %d: %+v", len(list.Contacts), where, len(want), list.Contacts)
	}
	for _, oc := range list.Contacts {
		if oc.State != "queued" || want[oc.ID] == "" {
			t.Errorf("contact %d %s: state %s (known %v)", oc.ID, where, oc.State, want[oc.ID] != "")
		}
		w, _ := time.Parse(time.RFC3339Nano, want[oc.ID])
		g, _ := time.Parse(time.RFC3339Nano, oc.EnqueuedAt)
		if !w.Equal(g) {
			t.Errorf("contact %d enqueued %s %s, %s before", oc.ID, oc.EnqueuedAt, where, want[oc.ID])
		}
	}
	var queues struct {
		Queues []struct {
			Name    string `json:"name"`
			Waiting int    `json:"waiting"`
		} `json:"queues"`
	}
	c.must("GET", "/api/v1/queues", "", 200, &queues)
	total := 0
	for _, q := range queues.Queues {
		total += q.Waiting
	}
	if total != len(want) {
		t.Fatalf("routing engine has %d waiting %s, want %d: %+v", total, where, len(want), queues)
	}
}
