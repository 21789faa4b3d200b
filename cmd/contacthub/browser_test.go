package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium; .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("chromium not found: install Debian's chromium package (.ci/run does)")
	return ""
}

func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	prof, err := os.MkdirTemp("", "chrome")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(prof), chromedp.WindowSize(1366, 768))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	return ctx, func() { cancelT(); cancelC(); cancelA(); os.RemoveAll(prof) }
}

// TestBrowserConsole drives the agent console in headless Chromium: log in,
// go available, receive an offer created through the API with the
// customer's name and tier on the screen-pop, accept, reply, wrap up. A
// second agent, connected at the same time, never receives that contact.
func TestBrowserConsole(t *testing.T) {
	base, bin := newDataDir(t)
	s := startServer(t, bin, filepath.Join(base, "var"))
	defer s.stop(t)
	url := "http://" + s.addr

	bob := login(t, s.addr, "bob", "agent-demo-pw")
	bws, closeB := bob.socket()
	defer closeB()
	next(t, bws, "hello")
	bob.must("POST", "/api/v1/agent/state", `{"state":"available"}`, 200, nil)
	bob.must("POST", "/api/v1/agent/state", `{"state":"away","reason":"lunch"}`, 200, nil)
	sup := login(t, s.addr, "supervisor", "supervisor-demo-pw")

	ctx, cancel := browser(t)
	defer cancel()
	dialogs := make(chan string, 1)
	if err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- d.Message:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	consoleAvailable(t, ctx, url, sup, "alice", "agent-demo-pw")

	var created struct {
		Contact struct {
			ID int64 `json:"id"`
		} `json:"contact"`
	}
	sup.must("POST", "/api/v1/contacts", `{"channel":"chat","from":{"kind":"email","value":"li.wei@example.com"},"message":"Where is my order? <img src=x onerror=alert(1)>"}`, 201, &created)

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("offer-customer-name"))); err != nil {
		t.Fatalf("screen-pop: %v", err)
	}
	name := text(t, ctx, "offer-customer-name")
	tier := text(t, ctx, "offer-tier")
	if !strings.Contains(name, "Li Wei") || !strings.Contains(strings.ToLower(tier), "gold") {
		t.Fatalf("screen-pop shows %q / %q, want Li Wei / gold", name, tier)
	}
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("offer-accept")),
		chromedp.WaitVisible(chromedp.ID("reply-text")),
		chromedp.SendKeys(chromedp.ID("reply-text"), "Let me check that for you."),
		chromedp.Click(chromedp.ID("reply-send")),
		chromedp.Sleep(500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("accept and reply: %v", err)
	}
	conv := text(t, ctx, "conversation")
	if !strings.Contains(conv, "Let me check that for you.") || !strings.Contains(conv, "<img src=x onerror=alert(1)>") {
		t.Fatalf("conversation shows %q; want the reply and the customer's HTML as text", conv)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("end-contact")),
		chromedp.WaitVisible(chromedp.ID("wrapup-disposition")),
		chromedp.SetValue(chromedp.ID("wrapup-disposition"), "resolved"),
		chromedp.SendKeys(chromedp.ID("wrapup-notes"), "told the customer the order ships today"),
		chromedp.Click(chromedp.ID("wrapup-submit")),
	)
	if err != nil {
		t.Fatalf("wrap-up: %v", err)
	}
	path := fmt.Sprintf("/api/v1/contacts/%d", created.Contact.ID)
	waitFor(t, func() bool {
		var det struct {
			Contact struct{ State, Disposition string } `json:"contact"`
		}
		sup.must("GET", path, "", 200, &det)
		return det.Contact.State == "closed" && det.Contact.Disposition == "resolved"
	})
	select {
	case m := <-dialogs:
		t.Fatalf("a script ran in the console: alert(%q)", m)
	default:
	}
	for {
		select {
		case e := <-bws:
			if e.Type == "offer" {
				var of offerMsg
				json.Unmarshal(e.Data, &of)
				if of.Contact.ID == created.Contact.ID {
					t.Fatalf("bob was offered alice's contact")
				}
			}
			continue
		default:
		}
		break
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any]("(()=>{"+expr+"})(); undefined")(ctx, t)
		return err
	})
}

func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("text of #%s: %v", id, err)
	}
	return v
}
