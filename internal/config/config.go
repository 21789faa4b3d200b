// Package config holds ContactHub's one configuration struct, read from
// flags and the environment and validated at start. Flags win over the
// environment; the defaults run a complete server with no configuration.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything the server needs to know.
type Config struct {
	// DatabaseURL of an external PostgreSQL. Empty: a private cluster is
	// started under DataDir/pg from the system's PostgreSQL binaries.
	DatabaseURL string
	// DataDir holds the private cluster, attachments and other state.
	DataDir string

	HTTPAddr string
	SIPAddr  string
	SMTPAddr string
	// PublicURL is the externally visible base URL (for links, webhook
	// signatures behind a proxy). Empty: derived from HTTPAddr.
	PublicURL string

	LogLevel  string // debug, info, warn, error
	LogFormat string // text, json

	// SessionTTL is how long a login session lasts.
	SessionTTL time.Duration
	// SecureCookies marks the session cookie Secure (set behind HTTPS).
	SecureCookies bool
	// DefaultRegion for phone numbers without a country code (ISO 3166, e.g. CN).
	DefaultRegion string
	// Demo seeds demo users and data at start (idempotent).
	Demo bool
	// PprofAddr serves net/http/pprof on a separate listener (empty: off).
	PprofAddr string
	// Cluster makes this node one of several on a shared DATABASE_URL: only
	// the holder of the leader lock routes (docs/SCALING.md).
	Cluster bool
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// client (comma-separated IPs or CIDRs). Empty: none.
	TrustedProxies []string
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir:       "./var",
		HTTPAddr:      ":8080",
		SIPAddr:       ":5060",
		SMTPAddr:      ":2525",
		LogLevel:      "info",
		LogFormat:     "text",
		SessionTTL:    12 * time.Hour,
		DefaultRegion: "CN",
	}
}

// FromEnv returns Default overridden by the environment.
func FromEnv(getenv func(string) string) Config {
	c := Default()
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	str("DATABASE_URL", &c.DatabaseURL)
	str("CONTACTHUB_DATA_DIR", &c.DataDir)
	str("CONTACTHUB_HTTP_ADDR", &c.HTTPAddr)
	str("CONTACTHUB_SIP_ADDR", &c.SIPAddr)
	str("CONTACTHUB_SMTP_ADDR", &c.SMTPAddr)
	str("CONTACTHUB_PUBLIC_URL", &c.PublicURL)
	str("CONTACTHUB_LOG_LEVEL", &c.LogLevel)
	str("CONTACTHUB_LOG_FORMAT", &c.LogFormat)
	str("CONTACTHUB_DEFAULT_REGION", &c.DefaultRegion)
	str("CONTACTHUB_PPROF_ADDR", &c.PprofAddr)
	if v := getenv("CONTACTHUB_SESSION_TTL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.SessionTTL = d
		} else {
			c.SessionTTL = -1 // reported by Validate
		}
	}
	if v := getenv("CONTACTHUB_SECURE_COOKIES"); v != "" {
		c.SecureCookies, _ = strconv.ParseBool(v)
	}
	if v := getenv("CONTACTHUB_CLUSTER"); v != "" {
		c.Cluster, _ = strconv.ParseBool(v)
	}
	if v := getenv("CONTACTHUB_TRUSTED_PROXIES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if v := getenv("CONTACTHUB_DEMO"); v != "" {
		c.Demo, _ = strconv.ParseBool(v)
	}
	return c
}

// RegisterDatabaseFlags adds the flags every subcommand that touches the
// database shares.
func (c *Config) RegisterDatabaseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL (env DATABASE_URL); empty: private cluster under -data-dir")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the private PostgreSQL and other state (env CONTACTHUB_DATA_DIR)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env CONTACTHUB_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (env CONTACTHUB_LOG_FORMAT)")
	fs.StringVar(&c.DefaultRegion, "default-region", c.DefaultRegion, "region for phone numbers without a country code (env CONTACTHUB_DEFAULT_REGION)")
}

// RegisterServeFlags adds the server's flags.
func (c *Config) RegisterServeFlags(fs *flag.FlagSet) {
	c.RegisterDatabaseFlags(fs)
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listen address (env CONTACTHUB_HTTP_ADDR)")
	fs.StringVar(&c.SIPAddr, "sip-addr", c.SIPAddr, "SIP listen address, UDP and TCP (env CONTACTHUB_SIP_ADDR)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP listen address (env CONTACTHUB_SMTP_ADDR)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "externally visible base URL (env CONTACTHUB_PUBLIC_URL)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "login session lifetime (env CONTACTHUB_SESSION_TTL)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", c.SecureCookies, "mark session cookies Secure, for HTTPS (env CONTACTHUB_SECURE_COOKIES)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "seed demo users and data at start (env CONTACTHUB_DEMO)")
	fs.BoolVar(&c.Cluster, "cluster", c.Cluster, "one of several nodes on a shared DATABASE_URL: only the leader-lock holder routes (env CONTACTHUB_CLUSTER; docs/SCALING.md)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", c.PprofAddr, "serve Go profiling on this address, e.g. 127.0.0.1:6060 (env CONTACTHUB_PPROF_ADDR; off by default)")
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	for name, addr := range map[string]string{"http address": c.HTTPAddr, "sip address": c.SIPAddr, "smtp address": c.SMTPAddr} {
		if addr == "" {
			continue // empty disables the listener
		}
		if _, port, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("config: %s %q: want host:port", name, addr))
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("config: %s %q: bad port", name, addr))
		}
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("config: set DATABASE_URL or a data directory"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.Contains(c.DatabaseURL, "=") {
		errs = append(errs, fmt.Errorf("config: DATABASE_URL: want postgres://... or key=value form"))
	}
	if c.SessionTTL < time.Minute {
		errs = append(errs, fmt.Errorf("config: session TTL %v: want a duration of at least 1m", c.SessionTTL))
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("config: log format %q: want text or json", c.LogFormat))
	}
	if len(c.DefaultRegion) != 2 {
		errs = append(errs, fmt.Errorf("config: default region %q: want a two-letter country code such as CN", c.DefaultRegion))
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, fmt.Errorf("config: trusted proxy %q: want an IP or CIDR", p))
			}
		}
	}
	if c.Cluster && c.DatabaseURL == "" {
		errs = append(errs, errors.New("config: -cluster needs DATABASE_URL (a PostgreSQL shared by the nodes)"))
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("config: public URL %q: want http(s)://host[:port]", c.PublicURL))
	}
	return errors.Join(errs...)
}

// Level parses LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("config: log level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// Logger builds the process logger.
func (c *Config) Logger() *slog.Logger {
	lvl, _ := c.Level()
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// PGDir is where the private cluster keeps its data.
func (c *Config) PGDir() string { return filepath.Join(c.DataDir, "pg") }

// BaseURL is PublicURL, or one derived from HTTPAddr.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return "http://localhost:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
