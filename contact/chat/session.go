package chat

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/contacthub/contacthub/contact"
)

// sessionRequest is the body of POST /chat/session (the pre-chat form).
type sessionRequest struct {
	VisitorID string `json:"visitor_id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Queue     string `json:"queue"`
	Page      string `json:"page"`
}

// sessionResponse carries the token the widget opens /ws/chat with.
type sessionResponse struct {
	Token     string     `json:"token"`
	VisitorID string     `json:"visitor_id"`
	ContactID contact.ID `json:"contact_id"`
	ExpiresAt time.Time  `json:"expires_at"`
	Resumed   bool       `json:"resumed,omitempty"`
}

var (
	queueRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 ()./-]{3,30}$`)
)

// Session is POST /chat/session: it validates the pre-chat form, starts
// (or resumes) the visitor's chat and returns a signed token. It answers
// CORS preflights for the allowed origins; it uses no cookies, so it must be
// exempt from the server's cross-origin (CSRF) protection.
func (a *Adapter) Session() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.cors(w, r) {
			httpError(w, http.StatusForbidden, "origin not allowed")
			return
		}
		switch r.Method {
		case http.MethodOptions:
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
		default:
			w.Header().Set("Allow", "POST, OPTIONS")
			httpError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		if !a.session.allow(a.cfg.ClientIP(r), a.cfg.Now()) {
			w.Header().Set("Retry-After", "10")
			httpError(w, http.StatusTooManyRequests, "too many chats started from this address; wait a moment")
			return
		}
		var req sessionRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
		if err := dec.Decode(&req); err != nil {
			httpError(w, http.StatusBadRequest, "body must be a JSON object")
			return
		}
		arr, vid, msg := a.arrival(req)
		if msg != "" {
			httpError(w, http.StatusBadRequest, msg)
			return
		}
		resp, err := a.start(r.Context(), arr, vid, req)
		if errors.Is(err, contact.ErrInvalid) {
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err != nil {
			a.log.Error("start chat", "visitor_id", vid, "err", err)
			w.Header().Set("Retry-After", "2")
			httpError(w, http.StatusServiceUnavailable, "chat is temporarily unavailable; try again")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// arrival validates the form and builds the contact's arrival. The sender
// is the email or phone when given, so the desk resolves the customer (tier,
// screen-pop); otherwise the visitor id.
func (a *Adapter) arrival(req sessionRequest) (contact.Arrival, string, string) {
	name := strings.TrimSpace(req.Name)
	email := strings.TrimSpace(req.Email)
	phone := strings.TrimSpace(req.Phone)
	switch {
	case name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n\x00"):
		return contact.Arrival{}, "", "name is required (at most 100 characters)"
	case email == "" && a.cfg.RequireEmail:
		return contact.Arrival{}, "", "email is required"
	case phone == "" && a.cfg.RequirePhone:
		return contact.Arrival{}, "", "phone is required"
	}
	if email != "" {
		addr, err := mail.ParseAddress(email)
		if err != nil || addr.Address != email || len(email) > 254 {
			return contact.Arrival{}, "", "email is not a valid address"
		}
	}
	if phone != "" && !phoneRE.MatchString(phone) {
		return contact.Arrival{}, "", "phone is not a valid number"
	}
	queue := a.cfg.DefaultQueue
	if req.Queue != "" {
		if !queueRE.MatchString(req.Queue) {
			return contact.Arrival{}, "", "queue is not a valid name"
		}
		queue = contact.QueueName(req.Queue)
	}
	vid := req.VisitorID
	if !visitorRE.MatchString(vid) {
		vid = newVisitorID()
	}
	from := contact.Identity{Kind: contact.Visitor, Value: vid}
	switch {
	case email != "":
		from = contact.Identity{Kind: contact.EmailAddr, Value: email}
	case phone != "":
		from = contact.Identity{Kind: contact.Phone, Value: phone}
	}
	// The email and phone are as typed, not verified: the agent sees
	// identity_verified=false with the screen-pop.
	attrs := map[string]string{"visitor_id": vid, "name": name, "identity_verified": "false"}
	if email != "" {
		attrs["email"] = email
	}
	if phone != "" {
		attrs["phone"] = phone
	}
	if p := req.Page; p != "" && len(p) <= 512 && (strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "http://")) {
		attrs["page"] = p
	}
	return contact.Arrival{
		Channel: contact.Chat, From: from, To: string(queue), Queue: queue, Attributes: attrs,
		ExternalID: "chat:" + vid + ":" + randomString(9), ThreadKey: threadKey(vid),
	}, vid, ""
}

func threadKey(visitor string) string { return "chat:" + visitor }

// start resumes the visitor's open chat if there is one, else accepts a new
// contact; it returns after the contact is committed.
func (a *Adapter) start(ctx context.Context, arr contact.Arrival, vid string, req sessionRequest) (sessionResponse, error) {
	resumed := false
	c, err := a.cfg.Desk.Thread(ctx, contact.Chat, threadKey(vid))
	switch {
	case err == nil && !ended(c.State) && !a.endedInRoom(c.ID):
		resumed = true
	case err == nil || errors.Is(err, contact.ErrNoThread):
		c, err = a.cfg.Desk.Accept(ctx, arr)
		if err != nil {
			return sessionResponse{}, err
		}
	default:
		return sessionResponse{}, err
	}
	exp := a.cfg.Now().Add(a.cfg.TokenTTL)
	tok := sign(a.cfg.Secret, claims{Visitor: vid, Contact: c.ID, Name: arr.Attributes["name"],
		Email: strings.TrimSpace(req.Email), Expires: exp.Unix()})
	a.log.Info("chat started", "contact_id", c.ID, "visitor_id", vid, "resumed", resumed, "queue", c.Queue)
	return sessionResponse{Token: tok, VisitorID: vid, ContactID: c.ID, ExpiresAt: exp.UTC().Truncate(time.Second), Resumed: resumed}, nil
}

func ended(s contact.State) bool { return s == contact.WrapUp || s.Terminal() }

func (a *Adapter) endedInRoom(id contact.ID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.rooms[id]
	return r != nil && r.ended != ""
}

// originAllowed reports whether a page of origin may use the widget.
func (a *Adapter) originAllowed(origin string) bool {
	if len(a.cfg.AllowedOrigins) == 0 || origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, o := range a.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
		scheme, host, ok := strings.Cut(o, "://")
		if ok && strings.HasPrefix(host, "*.") && strings.EqualFold(scheme, u.Scheme) &&
			strings.HasSuffix(strings.ToLower(u.Host), strings.ToLower(host[1:])) {
			return true
		}
	}
	return false
}

// cors sets the CORS headers for an allowed origin; false: not allowed.
func (a *Adapter) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" {
		return true
	}
	if !a.originAllowed(origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func remoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}
