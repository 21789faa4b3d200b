// Package webhook delivers events to integrators' endpoints. Deliveries are
// written to PostgreSQL in the same transaction as the change they report
// (an outbox, see store.Apply), then POSTed by Dispatcher with an
// HMAC-SHA256 signature over the timestamp and body, retried with
// exponential backoff, and logged for admins.
//
// Headers of every delivery:
//
//	X-ContactHub-Event:     contact.created
//	X-ContactHub-Delivery:  42
//	X-ContactHub-Timestamp: 1764062400                 (unix seconds)
//	X-ContactHub-Signature: v1=<hex hmac_sha256(secret, timestamp + "." + body)>
//
// Receivers should check the signature with a constant-time compare and
// refuse timestamps older than a few minutes.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/contacthub/contacthub/internal/store"
)

// Sign returns the signature header value for body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header in constant time and the timestamp
// against a replay window.
func Verify(secret, header string, ts int64, body []byte, now time.Time, window time.Duration) bool {
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return false
	}
	return hmac.Equal([]byte(header), []byte(Sign(secret, ts, body)))
}

// Dispatcher sends due deliveries.
type Dispatcher struct {
	st     *store.Store
	log    *slog.Logger
	client *http.Client
	// MaxAttempts before a delivery is marked failed (default 10).
	MaxAttempts int
	// Every is the polling interval (default 1 s).
	Every time.Duration
	now   func() time.Time
}

// New returns a dispatcher.
func New(st *store.Store, log *slog.Logger) *Dispatcher {
	return &Dispatcher{st: st, log: log, client: &http.Client{Timeout: 10 * time.Second}, MaxAttempts: 10, Every: time.Second, now: time.Now}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for d.Once(ctx) == 100 {
		}
	}
}

// Once sends one batch of due deliveries and returns how many it took.
func (d *Dispatcher) Once(ctx context.Context) int {
	batch, err := d.st.ClaimDeliveries(ctx, d.now(), 100, time.Minute)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("webhook: claim", "err", err)
		}
		return 0
	}
	for _, del := range batch {
		d.send(ctx, del)
	}
	return len(batch)
}

// Backoff is the wait before attempt n+1 (n ≥ 1): 2^n seconds, at most an hour.
func Backoff(n int) time.Duration {
	if n > 12 {
		return time.Hour
	}
	return min(time.Duration(1<<n)*time.Second, time.Hour)
}

func (d *Dispatcher) send(ctx context.Context, del store.Delivery) {
	ts := d.now().Unix()
	req, err := http.NewRequestWithContext(ctx, "POST", del.URL, bytes.NewReader(del.Payload))
	if err != nil {
		_ = d.st.FinishDelivery(ctx, del.ID, 0, err.Error(), false, time.Time{})
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ContactHub-Webhook/1")
	req.Header.Set("X-ContactHub-Event", del.Event)
	req.Header.Set("X-ContactHub-Delivery", strconv.FormatInt(del.ID, 10))
	req.Header.Set("X-ContactHub-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-ContactHub-Signature", Sign(del.Secret, ts, del.Payload))
	resp, err := d.client.Do(req)
	status, errText := 0, ""
	if err != nil {
		errText = err.Error()
	} else {
		status = resp.StatusCode
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if status < 200 || status > 299 {
			errText = resp.Status
		}
	}
	attempt := del.Attempts + 1
	ok := errText == ""
	next := time.Time{}
	if !ok && attempt < d.MaxAttempts {
		next = d.now().Add(Backoff(attempt))
	}
	if !ok {
		d.log.Info("webhook delivery failed", "delivery_id", del.ID, "url", del.URL, "attempt", attempt, "err", errText)
	}
	if err := d.st.FinishDelivery(ctx, del.ID, status, errText, ok, next); err != nil {
		d.log.Warn("webhook: record attempt", "delivery_id", del.ID, "err", err)
	}
}
