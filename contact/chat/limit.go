package chat

import (
	"sync"
	"time"
)

// Rate is a token bucket: Per events per second on average, Burst at once.
// A zero Per disables the limit.
type Rate struct {
	Per   float64
	Burst int
}

// limiter keeps one token bucket per key (visitor id, client IP).
type limiter struct {
	rate Rate
	mu   sync.Mutex
	b    map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(r Rate) *limiter { return &limiter{rate: r, b: map[string]*bucket{}} }

// allow takes one token from key's bucket if there is one.
func (l *limiter) allow(key string, now time.Time) bool {
	if l == nil || l.rate.Per <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b[key]
	if b == nil {
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.b[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * l.rate.Per
	if max := float64(l.rate.Burst); b.tokens > max {
		b.tokens = max
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets buckets that have refilled, so the map does not grow forever.
func (l *limiter) sweep(now time.Time) {
	if l == nil || l.rate.Per <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	full := time.Duration(float64(l.rate.Burst)/l.rate.Per*float64(time.Second)) + time.Second
	for k, b := range l.b {
		if now.Sub(b.last) > full {
			delete(l.b, k)
		}
	}
}
