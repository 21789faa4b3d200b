package chat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// claims is what a visitor token vouches for.
type claims struct {
	Visitor string     `json:"v"`
	Contact contact.ID `json:"c"`
	Name    string     `json:"n,omitempty"`
	Email   string     `json:"e,omitempty"`
	Expires int64      `json:"x"`
}

var b64 = base64.RawURLEncoding

// sign returns payload.mac, both base64url: HMAC-SHA256 over the payload bytes.
func sign(secret []byte, c claims) string {
	p := b64.EncodeToString(mustJSON(c))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(p))
	return p + "." + b64.EncodeToString(m.Sum(nil))
}

// verify checks a token's MAC (in constant time) and expiry.
func verify(secret []byte, tok string, now time.Time) (claims, error) {
	p, mac, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 2048 {
		return claims{}, fmt.Errorf("chat: token: %w", ErrBadToken)
	}
	got, err := b64.DecodeString(mac)
	if err != nil {
		return claims{}, fmt.Errorf("chat: token: %w", ErrBadToken)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(p))
	if !hmac.Equal(got, m.Sum(nil)) {
		return claims{}, fmt.Errorf("chat: token signature: %w", ErrBadToken)
	}
	raw, err := b64.DecodeString(p)
	if err != nil {
		return claims{}, fmt.Errorf("chat: token: %w", ErrBadToken)
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil || c.Visitor == "" || c.Contact == 0 {
		return claims{}, fmt.Errorf("chat: token claims: %w", ErrBadToken)
	}
	if now.Unix() > c.Expires {
		return claims{}, fmt.Errorf("chat: token expired: %w", ErrBadToken)
	}
	return c, nil
}

var visitorRE = regexp.MustCompile(`^v-[A-Za-z0-9_-]{22}$`)

// newVisitorID returns "v-" and 128 random bits.
func newVisitorID() string { return "v-" + randomString(16) }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b64.EncodeToString(b)
}
