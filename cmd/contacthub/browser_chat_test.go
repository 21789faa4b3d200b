package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// widget is the chat widget's shadow root on the customer's page.
const widget = `document.querySelector("#contacthub-chat").shadowRoot`

func inWidget(sel string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`%s.querySelector(%q)`, widget, sel))
}

func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s: not seen (%s) %v", what, expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// TestBrowserChatToConsole is the web chat end to end in two browsers on
// the real server: a customer on /chat-demo gives the email of a gold demo
// customer; the agent's console pops that customer and tier; they write
// both ways; the customer reloads and sees the history; the agent ends the
// chat; the customer's rating shows in the customer's profile.
func TestBrowserChatToConsole(t *testing.T) {
	base, bin := newDataDir(t)
	s := startServer(t, bin, filepath.Join(base, "var"))
	defer s.stop(t)
	url := "http://" + s.addr
	sup := login(t, s.addr, "supervisor", "supervisor-demo-pw")

	agent, cancelA := browser(t)
	defer cancelA()
	customer, cancelC := browser(t) // a second browser: nothing shared with the agent's
	defer cancelC()

	consoleAvailable(t, agent, url, sup, "alice", "agent-demo-pw")

	do(t, customer, "customer opens the widget",
		chromedp.Navigate(url+"/chat-demo"),
		chromedp.WaitReady(inWidget("#ch-launcher")),
		chromedp.Click(inWidget("#ch-launcher")),
		chromedp.WaitVisible(inWidget("#ch-name")),
		chromedp.SendKeys(inWidget("#ch-name"), "Li Wei"),
		chromedp.SendKeys(inWidget("#ch-email"), "li.wei@example.com"),
		chromedp.Click(inWidget("#ch-start")),
	)

	do(t, agent, "screen-pop", chromedp.WaitVisible(chromedp.ID("offer-customer-name")))
	if name, tier := text(t, agent, "offer-customer-name"), text(t, agent, "offer-tier"); !strings.Contains(name, "Li Wei") || !strings.Contains(strings.ToLower(tier), "gold") {
		t.Fatalf("screen-pop shows %q / %q, want Li Wei / gold", name, tier)
	}
	do(t, agent, "accept", chromedp.Click(chromedp.ID("offer-accept")), chromedp.WaitVisible(chromedp.ID("reply-text")))

	do(t, customer, "customer writes", chromedp.SendKeys(inWidget("#ch-input"), "Hello, where is my order?"+kb.Enter))
	waitJS(t, agent, "customer message in the console", `document.getElementById('conversation').textContent.includes("Hello, where is my order?")`)

	do(t, agent, "agent replies",
		chromedp.SendKeys(chromedp.ID("reply-text"), "It ships tomorrow. 明天发货。"),
		chromedp.Click(chromedp.ID("reply-send")))
	waitJS(t, customer, "agent reply in the widget", `Array.from(`+widget+`.querySelectorAll(".msg.out")).some(e => e.textContent.includes("It ships tomorrow. 明天发货。"))`)

	do(t, customer, "reload", chromedp.Reload(), chromedp.WaitReady(inWidget("#ch-launcher")), chromedp.Click(inWidget("#ch-launcher")))
	waitJS(t, customer, "history after reload", widget+`.querySelectorAll(".msg").length >= 2 && `+widget+`.textContent.includes("Hello, where is my order?") && `+widget+`.textContent.includes("It ships tomorrow.")`)

	do(t, agent, "agent ends the chat", chromedp.Click(chromedp.ID("end-contact")), chromedp.WaitVisible(chromedp.ID("wrapup-disposition")))
	do(t, customer, "customer rates",
		chromedp.WaitVisible(inWidget(`.star[data-v="4"]`)),
		chromedp.Click(inWidget(`.star[data-v="4"]`)),
		chromedp.SendKeys(inWidget("#ch-comment"), "Fast and friendly"),
		chromedp.Click(inWidget("#ch-rate-submit")),
		chromedp.WaitVisible(inWidget("#ch-thanks")))

	var found struct {
		Customers []struct {
			ID int64 `json:"id"`
		} `json:"customers"`
	}
	sup.must("GET", "/api/v1/customers?email=li.wei@example.com", "", 200, &found)
	if len(found.Customers) != 1 {
		t.Fatalf("customers %+v", found)
	}
	waitFor(t, func() bool {
		var p struct {
			LastCSAT *int `json:"last_csat"`
		}
		sup.must("GET", fmt.Sprintf("/api/v1/customers/%d/profile", found.Customers[0].ID), "", 200, &p)
		return p.LastCSAT != nil && *p.LastCSAT == 4
	})
}

// consoleAvailable logs an agent into the console in the browser, makes
// them available with the state selector, and waits until the server
// agrees.
func consoleAvailable(t *testing.T, ctx context.Context, url string, sup *client, name, password string) {
	t.Helper()
	do(t, ctx, "agent login",
		chromedp.Navigate(url+"/agent"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SendKeys(chromedp.ID("login-name"), name),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("state-select")),
		chromedp.Sleep(500*time.Millisecond), // the websocket's hello
		js(`const s = document.getElementById('state-select'); s.value = 'available'; s.dispatchEvent(new Event('change', {bubbles: true}));`),
	)
	waitFor(t, func() bool {
		var agents struct {
			Agents []struct{ Name, State string } `json:"agents"`
		}
		sup.must("GET", "/api/v1/agents", "", 200, &agents)
		for _, a := range agents.Agents {
			if a.Name == name && a.State == "available" {
				return true
			}
		}
		return false
	})
}
