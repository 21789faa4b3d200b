package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"bad http addr", func(c *Config) { c.HTTPAddr = "8080" }, "http address"},
		{"bad port", func(c *Config) { c.SIPAddr = ":99999" }, "bad port"},
		{"disabled smtp", func(c *Config) { c.SMTPAddr = "" }, ""},
		{"bad db url", func(c *Config) { c.DatabaseURL = "mysql://x" }, "DATABASE_URL"},
		{"key value db url", func(c *Config) { c.DatabaseURL = "host=/tmp dbname=x" }, ""},
		{"short ttl", func(c *Config) { c.SessionTTL = time.Second }, "session TTL"},
		{"bad level", func(c *Config) { c.LogLevel = "loud" }, "log level"},
		{"bad format", func(c *Config) { c.LogFormat = "xml" }, "log format"},
		{"bad region", func(c *Config) { c.DefaultRegion = "China" }, "default region"},
		{"bad public url", func(c *Config) { c.PublicURL = "example.com" }, "public URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mod(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL":           "postgres://u@h/db",
		"CONTACTHUB_HTTP_ADDR":   "127.0.0.1:9000",
		"CONTACTHUB_SESSION_TTL": "1h",
		"CONTACTHUB_DEMO":        "true",
	}
	c := FromEnv(func(k string) string { return env[k] })
	if c.DatabaseURL != "postgres://u@h/db" || c.HTTPAddr != "127.0.0.1:9000" || c.SessionTTL != time.Hour || !c.Demo {
		t.Fatalf("FromEnv = %+v", c)
	}
	if c.SIPAddr != ":5060" || c.SMTPAddr != ":2525" {
		t.Fatalf("defaults lost: %+v", c)
	}
	if got := c.BaseURL(); got != "http://127.0.0.1:9000" {
		t.Fatalf("BaseURL = %q", got)
	}
	bad := FromEnv(func(k string) string {
		if k == "CONTACTHUB_SESSION_TTL" {
			return "forever"
		}
		return ""
	})
	if err := bad.Validate(); err == nil {
		t.Fatal("unparseable TTL accepted")
	}
}
