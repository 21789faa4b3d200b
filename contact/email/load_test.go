package email_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact/email"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/emersion/go-smtp"
)

// TestLoadSMTP measures inbound throughput: parallel SMTP clients deliver
// messages that are parsed, stored and routed by the real desk on
// PostgreSQL. Run with CONTACTHUB_EMAIL_LOAD=1 (see docs/BENCHMARKS.md).
func TestLoadSMTP(t *testing.T) {
	if os.Getenv("CONTACTHUB_EMAIL_LOAD") == "" {
		t.Skip("set CONTACTHUB_EMAIL_LOAD=1 to run the load test")
	}
	workers := envInt("CONTACTHUB_EMAIL_LOAD_CLIENTS", 16)
	for _, tc := range []struct {
		name string
		size int
		n    int
	}{
		{"10KB", 10 << 10, envInt("CONTACTHUB_EMAIL_LOAD_N", 4000)},
		{"1MB", 1 << 20, envInt("CONTACTHUB_EMAIL_LOAD_N_1MB", 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, nil, desktest.New(t, 1), email.DefaultConfig())
			body := strings.Repeat(strings.Repeat("x", 75)+"\r\n", tc.size/77)
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			begin := time.Now()
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := smtp.Dial(r.addr)
					if err != nil {
						errs <- err
						return
					}
					defer c.Close()
					for {
						i := next.Add(1)
						if i > int64(tc.n) {
							return
						}
						msg := fmt.Sprintf("From: load%d@example.org\r\nTo: support@example.com\r\nSubject: load %d\r\n"+
							"Message-ID: <load-%s-%d@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
							(int(i)%500)+w, i, tc.name, i, body)
						if err := c.SendMail(fmt.Sprintf("load%d@example.org", i), []string{"support@example.com"}, strings.NewReader(msg)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(begin)
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := count(t, r.Rig, `SELECT count(*) FROM contacts WHERE channel = 'email'`); n != tc.n {
				t.Fatalf("%d contacts stored, want %d", n, tc.n)
			}
			rate := float64(tc.n) / elapsed.Seconds()
			t.Logf("%s: %d messages, %d clients, %.2fs, %.0f msg/s, %.1f MB/s", tc.name, tc.n, workers, elapsed.Seconds(), rate,
				rate*float64(tc.size)/1e6)
		})
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
