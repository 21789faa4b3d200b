// Package auth logs users in and authenticates requests: bcrypt password
// hashes, random session tokens (only their SHA-256 is stored), API tokens
// for integrations, and a login rate limit per client and per name.
package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/internal/store"
)

// APITokenPrefix starts every API token, so they are easy to spot in logs
// and secret scanners.
const APITokenPrefix = "cht_"

// Service authenticates users against the store.
type Service struct {
	st     *store.Store
	ttl    time.Duration
	now    func() time.Time
	byIP   *limiter
	byName *limiter
	cache  *sessionCache
}

// New returns a Service whose sessions last ttl.
func New(st *store.Store, ttl time.Duration) *Service {
	return &Service{
		st:     st,
		ttl:    ttl,
		now:    time.Now,
		byIP:   newLimiter(20, 5*time.Minute),
		byName: newLimiter(10, 5*time.Minute),
		cache:  newSessionCache(5 * time.Second),
	}
}

// TTL is the session lifetime.
func (s *Service) TTL() time.Duration { return s.ttl }

// Login checks name and password and opens a session. It returns the
// session token (to put in a cookie) and the user.
func (s *Service) Login(ctx context.Context, clientIP, name, password string) (string, store.User, error) {
	now := s.now()
	if !s.byIP.allowed(clientIP, now) || !s.byName.allowed(name, now) {
		return "", store.User{}, ErrTooManyAttempts
	}
	u, err := s.st.UserByName(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		CheckPassword(string(dummyHash), password) // same cost as a real check
		s.failed(clientIP, name, now)
		return "", store.User{}, ErrInvalidCredentials
	case err != nil:
		return "", store.User{}, fmt.Errorf("auth: login: %w", err)
	}
	if !CheckPassword(u.PasswordHash, password) || u.Disabled {
		s.failed(clientIP, name, now)
		return "", store.User{}, ErrInvalidCredentials
	}
	s.byName.reset(name)
	tok, hash := NewToken()
	if err := s.st.CreateSession(ctx, hash, u.ID, now.Add(s.ttl)); err != nil {
		return "", store.User{}, fmt.Errorf("auth: login: %w", err)
	}
	return tok, u, nil
}

func (s *Service) failed(ip, name string, now time.Time) {
	s.byIP.fail(ip, now)
	s.byName.fail(name, now)
}

// Session returns the user of a session token.
func (s *Service) Session(ctx context.Context, token string) (store.User, error) {
	if token == "" {
		return store.User{}, ErrUnauthenticated
	}
	h := HashToken(token)
	now := s.now()
	if u, ok := s.cache.get(string(h), now); ok {
		return u, nil
	}
	u, expires, err := s.st.Session(ctx, h, now)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUnauthenticated
	}
	if err == nil {
		s.cache.put(string(h), u, now, expires)
	}
	return u, err
}

// APIToken returns the user of an API token.
func (s *Service) APIToken(ctx context.Context, token string) (store.User, error) {
	if token == "" {
		return store.User{}, ErrUnauthenticated
	}
	u, err := s.st.APITokenUser(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUnauthenticated
	}
	return u, err
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	h := HashToken(token)
	s.cache.drop(string(h))
	return s.st.DeleteSession(ctx, h)
}

// CreateUser hashes password (generating one when empty) and stores the
// user. It returns the user and the clear-text password.
func (s *Service) CreateUser(ctx context.Context, name, display string, role store.Role, password string) (store.User, string, error) {
	if !role.Valid() {
		return store.User{}, "", fmt.Errorf("auth: role %q: want agent, supervisor or admin", role)
	}
	if password == "" {
		password = GeneratePassword()
	}
	h, err := HashPassword(password)
	if err != nil {
		return store.User{}, "", err
	}
	u, err := s.st.CreateUser(ctx, store.User{Name: name, DisplayName: display, Role: role, PasswordHash: h})
	if err != nil {
		return store.User{}, "", err
	}
	return u, password, nil
}

// CreateAPIToken issues a named API token for a user; the clear token is
// returned once and never stored.
func (s *Service) CreateAPIToken(ctx context.Context, userID int64, name string) (string, store.APIToken, error) {
	raw, _ := NewToken()
	tok := APITokenPrefix + raw
	t, err := s.st.CreateAPIToken(ctx, userID, name, HashToken(tok))
	if err != nil {
		return "", store.APIToken{}, err
	}
	return tok, t, nil
}
