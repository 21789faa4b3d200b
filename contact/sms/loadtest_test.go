package sms_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/sms"
	"github.com/contacthub/contacthub/contact/sms/smsstore"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/contacthub/contacthub/internal/pgdev"
	"github.com/contacthub/contacthub/internal/store"
)

// TestLoadInbound measures inbound webhook throughput and latency against
// the real desk on PostgreSQL: every request is signed, verified, stored
// (a new contact, or a message added to the customer's open conversation)
// and routed. It runs only when CONTACTHUB_SMS_LOAD is set to a duration:
//
//	CONTACTHUB_SMS_LOAD=20s go test -run TestLoadInbound -v ./contact/sms/
//
// CONTACTHUB_SMS_LOAD_WORKERS (default 32) concurrent clients;
// CONTACTHUB_SMS_LOAD_PHONES (default 2000) distinct customers, so each
// customer's first message starts a contact and the next ones join it;
// CONTACTHUB_SMS_LOAD_FSYNC=off runs on the test cluster (fsync off)
// instead of a private durable cluster with default settings.
func TestLoadInbound(t *testing.T) {
	v := os.Getenv("CONTACTHUB_SMS_LOAD")
	if v == "" {
		t.Skip("set CONTACTHUB_SMS_LOAD=20s to run the load test")
	}
	dur, err := time.ParseDuration(v)
	if err != nil {
		t.Fatal(err)
	}
	workers := envInt("CONTACTHUB_SMS_LOAD_WORKERS", 32)
	phones := envInt("CONTACTHUB_SMS_LOAD_PHONES", 2000)
	ctx := context.Background()

	var r *desktest.Rig
	if os.Getenv("CONTACTHUB_SMS_LOAD_FSYNC") == "off" {
		r = desktest.New(t, 1)
	} else {
		base, err := os.MkdirTemp("", "chsmsload")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		cl, err := pgdev.Start(ctx, pgdev.Options{DataDir: filepath.Join(base, "pg"), Database: "chload"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Stop() })
		if err := store.Migrate(ctx, cl.DSN(), nil); err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(ctx, cl.DSN())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		r = desktest.NewOn(t, st, 1)
	}
	r.SeedDemoCustomers(t, 200)

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	a, err := sms.New(sms.Config{Accounts: []sms.Account{{Name: "main", AccountSID: accountSID, AuthToken: authToken,
		Numbers: []string{company}}}, PublicURL: srv.URL}, r.Desk, smsstore.New(r.Store.Pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Desk.Register(contact.SMS, a)
	mux.Handle("/webhooks/sms/twilio", a.TwilioHandler())
	target := srv.URL + "/webhooks/sms/twilio"

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}, Timeout: 30 * time.Second}
	var seq atomic.Int64
	var failures atomic.Int64
	lat := make([][]time.Duration, workers)
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				k := seq.Add(1)
				form := url.Values{"MessageSid": {fmt.Sprintf("SMload%012d", k)}, "AccountSid": {accountSID},
					"From": {fmt.Sprintf("+86135%08d", k%int64(phones))}, "To": {company},
					"Body": {"load message " + strconv.FormatInt(k, 10)}, "NumMedia": {"0"}}
				req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(sms.HeaderTwilioSignature, sms.TwilioSignature(authToken, target, form))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil || resp.StatusCode != http.StatusOK {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	var contacts, messages int
	r.Store.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM messages)`).Scan(&contacts, &messages)
	t.Logf("%d webhooks in %s with %d workers: %.0f/s; latency p50 %s p90 %s p99 %s max %s; failures %d; contacts %d, messages %d",
		len(all), elapsed.Round(time.Millisecond), workers, float64(len(all))/elapsed.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond),
		all[len(all)-1].Round(10*time.Microsecond), failures.Load(), contacts, messages)
	if failures.Load() > 0 {
		t.Errorf("%d failed requests", failures.Load())
	}
	if messages != len(all) {
		t.Errorf("%d messages stored for %d webhooks", messages, len(all))
	}
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil && n > 0 {
		return n
	}
	return def
}
