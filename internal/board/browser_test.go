package board_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/contacthub/contacthub/internal/web"
)

func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no /usr/bin/chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.WindowSize(width, height),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	return ctx
}

// waitJS polls a JavaScript expression until it returns true, up to limit,
// and returns how long it took.
func waitJS(t *testing.T, ctx context.Context, expr string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('kpis').innerText + ' | ' + document.getElementById('agents').innerText`))
			t.Fatalf("not within %v: %s\npage: %s", limit, expr, html)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserSupervisorWatches: a supervisor watches the board in headless
// chromium while contacts arrive and are answered; waiting counts, service
// level and an agent's state change show within two seconds.
func TestBrowserSupervisorWatches(t *testing.T) {
	e := newBoardEnv(t, 2)
	ctx := browser(t, 1366, 768)
	u, _ := url.Parse(e.srv.URL)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: web.SessionCookie, Value: e.supTok, Domain: u.Hostname(), Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/supervisor"), chromedp.WaitVisible(`[data-testid="kpis"]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelector('[data-testid=connection-status]').dataset.state === 'live'`, 5*time.Second)
	waitJS(t, ctx, `!!document.querySelector('[data-testid=kpi-waiting]')`, 3*time.Second)

	kpi := func(id string) string {
		return fmt.Sprintf(`(document.querySelector('[data-testid=%s] .kpi-value')||{}).textContent`, id)
	}
	// Two contacts arrive with nobody available: both wait.
	arrive(t, e)
	arrive(t, e)
	d := waitJS(t, ctx, kpi("kpi-waiting")+` === '2' && document.querySelector('[data-testid=waiting-count]').textContent === '2'`, 2*time.Second)
	t.Logf("waiting count shown after %v", d)

	// Agent 1 goes available: the board shows the state change.
	a1 := e.rig.Agents[0]
	e.rig.Available(t, a1)
	d = waitJS(t, ctx, fmt.Sprintf(`(document.querySelector('[data-testid=agent-state-%d]')||{}).textContent === 'Available' || (document.querySelector('[data-testid=agent-state-%d]')||{}).textContent === 'Ringing'`, a1, a1), 2*time.Second)
	t.Logf("agent state shown after %v", d)

	// Agent 1 answers: one waiting (ringing at agent 1, who has room for
	// three chats), one answered within T: service level 100 %; the agent
	// is no longer available and has the contact in hand.
	of := e.rig.NextOffer(t, a1)
	e.rig.Accept(t, a1, of)
	d = waitJS(t, ctx, kpi("kpi-waiting")+` === '1' && `+kpi("kpi-answered")+` === '1' && `+kpi("kpi-sl15")+` === '100%'`+
		fmt.Sprintf(` && ['Busy', 'Ringing'].includes(document.querySelector('[data-testid=agent-state-%d]').textContent)`, a1)+
		fmt.Sprintf(` && document.querySelector('tr[data-agent="%d"]').textContent.includes('#%d Chat')`, a1, of.Contact.ID), 2*time.Second)
	t.Logf("answer, service level and busy state shown after %v", d)

	// Keyboard: the language switch and the tabs are reachable and work.
	shots := os.Getenv("CONTACTHUB_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shot := func(name string) {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	shot("board-en.png")
	err := chromedp.Do(ctx, chromedp.Focus(`#lang`), chromedp.SetValue(`#lang`, "zh"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('lang').dispatchEvent(new Event('change'))`))
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelector('[data-testid=kpi-waiting] .kpi-label').textContent === '排队中' && document.documentElement.lang === 'zh-CN'`, 2*time.Second)
	time.Sleep(1100 * time.Millisecond)
	shot("board-zh.png")
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Errorf("the board scrolls sideways at 1366×768")
	}
	// Keyboard: focus the Reports tab, press Enter, run the agent report.
	if err := chromedp.Do(ctx, chromedp.Focus(`#tab-reports`), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!document.getElementById('view-reports').hidden && document.getElementById('view-board').hidden`, 2*time.Second)
	if err := chromedp.Do(ctx, chromedp.SetValue(`#rep-kind`, "agents"), chromedp.Focus(`#report-form button[type=submit]`), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelectorAll('[data-testid=report] tbody tr').length >= 2`, 3*time.Second)
	shot("reports-zh.png")
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML("body"))
	if strings.Contains(html, "undefined") || strings.Contains(html, "NaN") {
		t.Errorf("undefined/NaN on the page")
	}
}
