package voice

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Credentials finds an agent's SIP account: the agent it belongs to and
// HA1 = MD5(username ":" realm ":" password) (RFC 2617), so no password is
// kept in clear. It returns ErrUnknownUser if there is no such account.
type Credentials interface {
	Lookup(ctx context.Context, username string) (agent contact.AgentID, ha1 string, err error)
}

// ErrUnknownUser means no SIP account has the username.
var ErrUnknownUser = errors.New("voice: unknown sip user")

// HA1 computes the digest secret stored for an account.
func HA1(username, realm, password string) string {
	sum := md5.Sum([]byte(username + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

// Registration limits (RFC 3261 §10.3): a phone asking for less than
// minExpires gets minExpires, more than maxExpires gets maxExpires.
const (
	defaultExpires = 3600
	minExpires     = 60
	maxExpires     = 7200
	nonceLifetime  = 5 * time.Minute
)

// binding is one registered contact of an agent's phone.
type binding struct {
	uri       sip.Uri
	raw       string
	transport string
	expires   time.Time
}

// registrar keeps agents' phone bindings in memory; phones re-register
// well within their expiry, so a restart heals itself.
type registrar struct {
	realm string
	creds Credentials
	key   [32]byte
	now   func() time.Time

	mu       sync.Mutex
	bindings map[contact.AgentID]map[string]binding
}

func newRegistrar(realm string, creds Credentials) *registrar {
	r := &registrar{realm: realm, creds: creds, now: time.Now, bindings: map[contact.AgentID]map[string]binding{}}
	_, _ = rand.Read(r.key[:])
	return r
}

// nonce is stateless: a timestamp and its HMAC, checked on the way back.
func (r *registrar) nonce() string {
	ts := strconv.FormatInt(r.now().Unix(), 16)
	m := hmac.New(sha256.New, r.key[:])
	m.Write([]byte(ts))
	return ts + "." + hex.EncodeToString(m.Sum(nil)[:16])
}

// checkNonce returns whether the nonce is ours and whether it is still fresh.
func (r *registrar) checkNonce(n string) (valid, fresh bool) {
	ts, mac, ok := strings.Cut(n, ".")
	if !ok {
		return false, false
	}
	m := hmac.New(sha256.New, r.key[:])
	m.Write([]byte(ts))
	if !hmac.Equal([]byte(mac), []byte(hex.EncodeToString(m.Sum(nil)[:16]))) {
		return false, false
	}
	sec, err := strconv.ParseInt(ts, 16, 64)
	if err != nil {
		return false, false
	}
	age := r.now().Sub(time.Unix(sec, 0))
	return true, age >= -time.Minute && age <= nonceLifetime
}

func (r *registrar) challenge(req *sip.Request, tx sip.ServerTransaction, stale bool) {
	ch := digest.Challenge{Realm: r.realm, Nonce: r.nonce(), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", ch.String()))
	_ = tx.Respond(res)
}

// authenticate checks the request's digest credentials (RFC 2617 with
// qop=auth or none). On failure it has answered the request.
func (r *registrar) authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) (contact.AgentID, string, bool) {
	h := req.GetHeader("Authorization")
	if h == nil {
		r.challenge(req, tx, false)
		return 0, "", false
	}
	cr, err := digest.ParseCredentials(h.Value())
	if err != nil || cr.Username == "" || cr.Response == "" {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Authorization", nil))
		return 0, "", false
	}
	valid, fresh := r.checkNonce(cr.Nonce)
	if !valid || cr.Realm != r.realm || (cr.Algorithm != "" && !strings.EqualFold(cr.Algorithm, "MD5")) {
		r.challenge(req, tx, false)
		return 0, "", false
	}
	agent, ha1, err := r.creds.Lookup(ctx, cr.Username)
	if errors.Is(err, ErrUnknownUser) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return 0, "", false
	}
	if err != nil {
		res := sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "30"))
		_ = tx.Respond(res)
		return 0, "", false
	}
	if !checkResponse(cr, req.Method.String(), ha1) {
		r.challenge(req, tx, false)
		return 0, "", false
	}
	if !fresh {
		r.challenge(req, tx, true)
		return 0, "", false
	}
	return agent, cr.Username, true
}

func checkResponse(cr *digest.Credentials, method, ha1 string) bool {
	ha2 := md5hex(method + ":" + cr.URI)
	var want string
	if cr.QOP == "" {
		want = md5hex(ha1 + ":" + cr.Nonce + ":" + ha2)
	} else {
		want = md5hex(fmt.Sprintf("%s:%s:%08x:%s:%s:%s", ha1, cr.Nonce, cr.Nc, cr.Cnonce, cr.QOP, ha2))
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cr.Response))) == 1
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// handle answers a REGISTER: authenticate, then add, refresh or remove the
// bindings (RFC 3261 §10.3) and answer with the agent's current ones.
func (r *registrar) handle(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	agent, _, ok := r.authenticate(ctx, req, tx)
	if !ok {
		return
	}
	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			headerExpires = n
		}
	}
	now := r.now()
	contacts := req.GetHeaders("Contact")
	r.mu.Lock()
	bs := r.bindings[agent]
	if bs == nil {
		bs = map[string]binding{}
		r.bindings[agent] = bs
	}
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if c.Address.Wildcard || strings.TrimSpace(c.Value()) == "*" {
			if headerExpires == 0 {
				clear(bs)
			}
			continue
		}
		exp := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				exp = n
			}
		}
		if exp < 0 {
			exp = defaultExpires
		}
		key := c.Address.String()
		if exp == 0 {
			delete(bs, key)
			continue
		}
		exp = min(max(exp, minExpires), maxExpires)
		transport := strings.ToLower(req.Transport())
		if t, ok := c.Address.UriParams.Get("transport"); ok {
			transport = strings.ToLower(t)
		}
		bs[key] = binding{uri: *c.Address.Clone(), raw: key, transport: transport, expires: now.Add(time.Duration(exp) * time.Second)}
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	for key, b := range bs {
		left := int(b.expires.Sub(now) / time.Second)
		if left <= 0 {
			delete(bs, key)
			continue
		}
		res.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<%s>;expires=%d", b.raw, left)))
	}
	if len(bs) == 0 {
		delete(r.bindings, agent)
	}
	r.mu.Unlock()
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	_ = tx.Respond(res)
}

// contacts returns the agent's live bindings.
func (r *registrar) contacts(agent contact.AgentID) []binding {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []binding
	for key, b := range r.bindings[agent] {
		if b.expires.After(now) {
			out = append(out, b)
		} else {
			delete(r.bindings[agent], key)
		}
	}
	return out
}

// registered reports whether the agent has a live binding.
func (r *registrar) registered(agent contact.AgentID) bool { return len(r.contacts(agent)) > 0 }
