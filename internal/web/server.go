// Package web is ContactHub's HTTP edge: the gin router, authentication and
// role middleware, the JSON API handlers (one file per resource), health,
// readiness and Prometheus metrics. Handlers translate HTTP to calls on the
// domain packages and back; they hold no business rules.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are what the HTTP layer needs.
type Deps struct {
	Store         *store.Store
	Auth          *auth.Service
	Log           *slog.Logger
	Registry      *prometheus.Registry
	SecureCookies bool
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For / X-Real-IP name the client (for the login rate
	// limit and logs). Empty: none; the client is the TCP peer, so a
	// caller cannot pick its own address by sending those headers.
	TrustedProxies []string
}

// Server is the HTTP router with its route groups, so each feature mounts
// its handlers in one place.
type Server struct {
	deps   Deps
	engine *gin.Engine
	// API is /api/v1, every route authenticated.
	API *gin.RouterGroup
	// Public is the root group: unauthenticated pages, webhooks, websockets.
	Public *gin.RouterGroup

	reqs *prometheus.CounterVec
	dur  *prometheus.HistogramVec
	coop *http.CrossOriginProtection
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "ch_session"

const userKey = "contacthub.user"

// New builds the router with the foundation routes.
func New(d Deps) *Server {
	if d.MaxBodyBytes == 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{deps: d, engine: gin.New(), coop: http.NewCrossOriginProtection()}
	s.engine.ContextWithFallback = true
	if err := s.engine.SetTrustedProxies(d.TrustedProxies); err != nil {
		d.Log.Error("trusted proxies ignored: trusting none", "err", err)
		_ = s.engine.SetTrustedProxies(nil)
	}
	s.engine.HandleMethodNotAllowed = true
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "contacthub_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"method", "route", "code"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "contacthub_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route"})
	if d.Registry != nil {
		d.Registry.MustRegister(s.reqs, s.dur)
	}
	s.engine.Use(s.recover, s.observe, s.securityHeaders, s.limitBody)
	s.engine.NoRoute(func(c *gin.Context) { jsonError(c, http.StatusNotFound, "not found") })
	s.engine.NoMethod(func(c *gin.Context) { jsonError(c, http.StatusMethodNotAllowed, "method not allowed") })

	s.Public = &s.engine.RouterGroup
	s.Public.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	s.Public.GET("/readyz", s.ready)
	if d.Registry != nil {
		s.Public.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{Registry: d.Registry})))
	}
	s.Public.POST("/api/v1/login", s.login)

	s.API = s.engine.Group("/api/v1", s.authenticate)
	s.API.POST("/logout", s.logout)
	s.API.GET("/me", s.me)
	s.API.POST("/tokens", s.createToken)
	admin := s.API.Group("", RequireRole(store.RoleAdmin))
	admin.GET("/users", s.listUsers)
	admin.POST("/users", s.createUser)
	admin.POST("/users/bulk", s.bulkUsers)
	return s
}

// Handler is the http.Handler to serve, with cross-origin protection for
// state-changing requests (CSRF): browsers' cross-site POST/PUT/PATCH/DELETE
// are refused; non-browser clients (no Origin / Sec-Fetch-Site) pass.
func (s *Server) Handler() http.Handler { return s.coop.Handler(s.engine) }

// AllowCrossOrigin exempts a path pattern (as in http.ServeMux) from the
// cross-origin check, for endpoints authenticated otherwise (webhooks with
// signatures, the embeddable chat widget).
func (s *Server) AllowCrossOrigin(pattern string) { s.coop.AddInsecureBypassPattern(pattern) }

func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.Store.Ping(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "database": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.deps.Log.Error("panic in HTTP handler", "path", c.Request.URL.Path, "panic", r)
			jsonError(c, http.StatusInternalServerError, "internal error")
		}
	}()
	c.Next()
}

func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	code := c.Writer.Status()
	s.reqs.WithLabelValues(c.Request.Method, route, strconv.Itoa(code)).Inc()
	s.dur.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	if code >= 500 {
		s.deps.Log.Warn("http request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", code)
	} else {
		s.deps.Log.Debug("http request", "method", c.Request.Method, "path", c.Request.URL.Path, "status", code, "duration", time.Since(start))
	}
}

func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
}

func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.deps.MaxBodyBytes)
	}
	c.Next()
}

// jsonError writes {"error": msg} and stops the chain.
func jsonError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"error": msg})
}

// Routes lists every registered route (the access-matrix test checks each
// has an expected answer per role).
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }
