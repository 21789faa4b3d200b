package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
)

// CurrentUser is the authenticated user of the request.
func CurrentUser(c *gin.Context) store.User {
	u, _ := c.Get(userKey)
	user, _ := u.(store.User)
	return user
}

// Authenticate resolves the request's session cookie or bearer token to a
// user (for websocket upgrades and other groups outside /api/v1).
func (s *Server) Authenticate(c *gin.Context) (store.User, error) {
	ctx := c.Request.Context()
	if tok := bearer(c.Request); tok != "" {
		if strings.HasPrefix(tok, auth.APITokenPrefix) {
			return s.deps.Auth.APIToken(ctx, tok)
		}
		return s.deps.Auth.Session(ctx, tok)
	}
	if ck, err := c.Request.Cookie(SessionCookie); err == nil {
		return s.deps.Auth.Session(ctx, ck.Value)
	}
	return store.User{}, auth.ErrUnauthenticated
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate is the middleware of /api/v1.
func (s *Server) authenticate(c *gin.Context) {
	u, err := s.Authenticate(c)
	if errors.Is(err, auth.ErrUnauthenticated) {
		jsonError(c, http.StatusUnauthorized, "authentication required")
		return
	}
	if err != nil {
		s.deps.Log.Error("authenticate", "err", err)
		jsonError(c, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	c.Set(userKey, u)
	c.Next()
}

// RequireRole refuses users below min with 403.
func RequireRole(min store.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !CurrentUser(c).Role.AtLeast(min) {
			jsonError(c, http.StatusForbidden, "forbidden: requires role "+string(min))
			return
		}
		c.Next()
	}
}

// decodeJSON reads a JSON body into v, answering 400/413 with a clear
// message when it cannot.
func decodeJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			jsonError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", mbe.Limit))
			return false
		}
		jsonError(c, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if !decodeJSON(c, &req) {
		return
	}
	tok, u, err := s.deps.Auth.Login(c.Request.Context(), c.ClientIP(), req.Name, req.Password)
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		jsonError(c, http.StatusUnauthorized, "invalid name or password")
		return
	case errors.Is(err, auth.ErrTooManyAttempts):
		c.Header("Retry-After", "300")
		jsonError(c, http.StatusTooManyRequests, err.Error())
		return
	case err != nil:
		s.deps.Log.Error("login", "err", err)
		jsonError(c, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.deps.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.deps.Auth.TTL().Seconds()),
	})
	s.deps.Log.Info("login", "user", u.Name, "role", u.Role)
	c.JSON(http.StatusOK, gin.H{"user": u})
}

func (s *Server) logout(c *gin.Context) {
	if ck, err := c.Request.Cookie(SessionCookie); err == nil {
		if err := s.deps.Auth.Logout(c.Request.Context(), ck.Value); err != nil {
			s.deps.Log.Error("logout", "err", err)
		}
	}
	if tok := bearer(c.Request); tok != "" && !strings.HasPrefix(tok, auth.APITokenPrefix) {
		_ = s.deps.Auth.Logout(c.Request.Context(), tok)
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1})
	c.Status(http.StatusNoContent)
}

func (s *Server) me(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"user": CurrentUser(c)}) }

type createTokenRequest struct {
	Name string `json:"name"`
}

func (s *Server) createToken(c *gin.Context) {
	var req createTokenRequest
	if !decodeJSON(c, &req) {
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		jsonError(c, http.StatusBadRequest, "name is required")
		return
	}
	tok, t, err := s.deps.Auth.CreateAPIToken(c.Request.Context(), CurrentUser(c).ID, req.Name)
	if err != nil {
		s.deps.Log.Error("create api token", "err", err)
		jsonError(c, http.StatusInternalServerError, "could not create token")
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": tok, "info": t})
}
