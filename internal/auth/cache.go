package auth

import (
	"sync"
	"time"

	"github.com/contacthub/contacthub/internal/store"
)

// sessionCache remembers recently checked sessions for a few seconds, so a
// busy agent console does not cost a database query per request. Logout on
// this node drops the entry at once; on another node of a cluster, a
// session ends at most ttl later.
type sessionCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]cachedSession
}

type cachedSession struct {
	u     store.User
	until time.Time
}

func newSessionCache(ttl time.Duration) *sessionCache {
	return &sessionCache{ttl: ttl, m: map[string]cachedSession{}}
}

func (c *sessionCache) get(key string, now time.Time) (store.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.After(e.until) {
		return store.User{}, false
	}
	return e.u, true
}

// put remembers u for ttl, but never past the session's own expiry.
func (c *sessionCache) put(key string, u store.User, now, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 50000 {
		for k, e := range c.m {
			if now.After(e.until) {
				delete(c.m, k)
			}
		}
	}
	until := now.Add(c.ttl)
	if expires.Before(until) {
		until = expires
	}
	c.m[key] = cachedSession{u: u, until: until}
}

func (c *sessionCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
