package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/demo"
)

// browser starts headless Debian chromium; the test is skipped without it.
func browser(t *testing.T) (context.Context, *atomic.Int32) {
	t.Helper()
	const exe = "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		t.Skip("no chromium at", exe)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 760),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	var dialogs atomic.Int32
	opened := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range opened {
			if err != nil {
				return
			}
			dialogs.Add(1)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return ctx, &dialogs
}

// in returns a JS path into the widget's shadow root.
func shadow(sel string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`document.querySelector("#contacthub-chat").shadowRoot.querySelector(%q)`, sel))
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// waitJS polls a JS expression until it is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s: not seen (%s) %v", what, expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const root = `document.querySelector("#contacthub-chat").shadowRoot`

func bubbles(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `Array.from(`+root+`.querySelectorAll(".msg")).map(e => e.getAttribute("data-dir")+":"+e.firstChild.textContent)`)
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(shadow(sel)) }

func type_(sel, s string) chromedp.Action[chromedp.Void] { return chromedp.SendKeys(shadow(sel), s) }

func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("CONTACTHUB_SCREENSHOTS")
	if dir == "" {
		return
	}
	run(t, ctx, chromedp.Sleep(300*time.Millisecond))
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserChat: a customer in real chromium on /chat-demo, the agent
// played through the desk.
func TestBrowserChat(t *testing.T) {
	e := newEnv(t, 1, nil)
	e.r.SeedDemoCustomers(t, 200)
	ag := e.r.Agents[0]
	e.r.Available(t, ag)
	bctx, dialogs := browser(t)
	ctx := context.Background()

	run(t, bctx, chromedp.Navigate(e.srv.URL+"/chat-demo"), chromedp.WaitReady(shadow("#ch-launcher")))
	shot(t, bctx, "en-closed.png")
	run(t, bctx, click("#ch-launcher"), chromedp.WaitVisible(shadow("#ch-name")))
	lang := eval[string](t, bctx, `document.documentElement.lang`)
	label := eval[string](t, bctx, root+`.querySelector("#ch-start").textContent`)
	if lang != "en" || label != "Start chat" {
		t.Fatalf("lang %q, start button %q", lang, label)
	}
	run(t, bctx, type_("#ch-name", "Li Wei"), type_("#ch-email", demo.LiWei.Email))
	shot(t, bctx, "en-form.png")
	run(t, bctx, click("#ch-start"))

	// The agent is offered the contact with Li Wei's profile and tier.
	of := e.r.NextOffer(t, ag)
	if of.Profile == nil || of.Profile.Name != demo.LiWei.Name || of.Profile.Tier != "gold" {
		t.Fatalf("offer profile %+v", of.Profile)
	}
	if of.Contact.Attributes["name"] != "Li Wei" || !strings.HasPrefix(of.Contact.Attributes["visitor_id"], "v-") {
		t.Fatalf("attributes %v", of.Contact.Attributes)
	}
	e.r.Accept(t, ag, of)
	id := of.Contact.ID
	waitJS(t, bctx, "agent joined", root+`.querySelector("#ch-status").textContent === "Agent 1"`)

	// Customer → agent, typed and sent with Enter.
	run(t, bctx, type_("#ch-input", "Hello, where is my order?"+kb.Enter))
	var pushed struct {
		Message contact.Message `json:"message"`
	}
	if err := json.Unmarshal(e.r.Rec.Next(t, ag, "message"), &pushed); err != nil || pushed.Message.Body != "Hello, where is my order?" {
		t.Fatalf("agent got %+v %v", pushed, err)
	}
	waitJS(t, bctx, "ack", root+`.querySelector(".msg.in[data-id]") !== null`)
	// Agent → customer, then hostile markup both ways.
	if _, err := e.r.Desk.Reply(ctx, ag, id, "It ships tomorrow. 明天发货。"); err != nil {
		t.Fatal(err)
	}
	waitJS(t, bctx, "agent reply", `Array.from(`+root+`.querySelectorAll(".msg.out")).some(e => e.textContent.includes("It ships tomorrow. 明天发货。"))`)
	const xss = `<img src=x onerror=alert(1)>`
	if _, err := e.r.Desk.Reply(ctx, ag, id, xss); err != nil {
		t.Fatal(err)
	}
	run(t, bctx, type_("#ch-input", xss+kb.Enter))
	e.r.Rec.Next(t, ag, "message")
	waitJS(t, bctx, "xss as text", `Array.from(`+root+`.querySelectorAll(".msg.out")).some(e => e.firstChild.textContent === `+jsString(xss)+`)`)
	waitJS(t, bctx, "own xss acked", root+`.querySelectorAll(".msg.in[data-id]").length === 2`)
	imgs := eval[int](t, bctx, root+`.querySelectorAll("img").length + document.querySelectorAll("img").length`)
	if imgs != 0 {
		t.Fatalf("%d img elements: markup was rendered", imgs)
	}
	shot(t, bctx, "en-chat.png")
	want := []string{"in:Hello, where is my order?", "out:It ships tomorrow. 明天发货。", "out:" + xss, "in:" + xss}
	if got := bubbles(t, bctx); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("before reload %q", got)
	}

	// A reload mid-conversation shows the whole history.
	run(t, bctx, chromedp.Reload(), chromedp.WaitReady(shadow("#ch-launcher")), click("#ch-launcher"))
	waitJS(t, bctx, "history after reload", root+`.querySelectorAll(".msg").length === 4`)
	if got := bubbles(t, bctx); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("after reload %q, want %q", got, want)
	}
	if _, err := e.r.Desk.Reply(ctx, ag, id, "Anything else?"); err != nil {
		t.Fatal(err)
	}
	waitJS(t, bctx, "reply after reload", root+`.querySelectorAll(".msg.out").length === 3`)

	// The agent ends; the customer rates 4 stars with a comment.
	if _, err := e.r.Desk.End(ctx, ag, id); err != nil {
		t.Fatal(err)
	}
	run(t, bctx, chromedp.WaitVisible(shadow(`.star[data-v="4"]`)), click(`.star[data-v="4"]`),
		type_("#ch-comment", "Fast and friendly"))
	shot(t, bctx, "en-rate.png")
	run(t, bctx, click("#ch-rate-submit"), chromedp.WaitVisible(shadow("#ch-thanks")))
	var csat int
	var comment string
	if err := e.r.Store.Pool.QueryRow(ctx, `SELECT csat, comment FROM feedback WHERE contact_id = $1`, id).Scan(&csat, &comment); err != nil || csat != 4 || comment != "Fast and friendly" {
		t.Fatalf("feedback %d %q %v", csat, comment, err)
	}
	p, err := e.r.Customers.Profile(ctx, of.Profile.ID)
	if err != nil || p.LastCSAT == nil || *p.LastCSAT != 4 {
		t.Fatalf("profile last_csat %v %v", p.LastCSAT, err)
	}
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d JavaScript dialogs opened", n)
	}
}

// TestBrowserChinese: the widget follows the page language.
func TestBrowserChinese(t *testing.T) {
	e := newEnv(t, 1, nil)
	bctx, _ := browser(t)
	run(t, bctx, chromedp.Navigate(e.srv.URL+"/chat-demo?lang=zh-CN"), chromedp.WaitReady(shadow("#ch-launcher")),
		click("#ch-launcher"), chromedp.WaitVisible(shadow("#ch-name")))
	label := eval[string](t, bctx, root+`.querySelector("#ch-start").textContent`)
	if label != "开始咨询" {
		t.Fatalf("start button %q", label)
	}
	run(t, bctx, type_("#ch-name", "王芳"))
	shot(t, bctx, "zh-form.png")
	run(t, bctx, click("#ch-start"))
	waitJS(t, bctx, "chat view", root+`.querySelector("#ch-input").offsetParent !== null`)
	run(t, bctx, type_("#ch-input", "你好，我想咨询一下配送时间。"+kb.Enter))
	waitJS(t, bctx, "ack", root+`.querySelector(".msg.in[data-id]") !== null`)
	shot(t, bctx, "zh-chat.png")
	// Keyboard: Escape closes the panel and focus returns to the button.
	run(t, bctx, chromedp.KeyEvent(kb.Escape))
	waitJS(t, bctx, "closed", root+`.querySelector("#ch-panel").hidden && `+root+`.activeElement.id === "ch-launcher"`)
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }
