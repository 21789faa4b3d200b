package contact

import "errors"

// Sentinel errors.
var (
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrUnavailable means the contact could not be committed right now
	// (storage down); the adapter answers with a temporary failure so the
	// peer retries (SIP 503, SMTP 451, HTTP 503).
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrNoThread means no contact has the thread key.
	ErrNoThread = errors.New("no contact in that thread")
	// ErrInvalid means the request is malformed (empty sender, bad rating).
	ErrInvalid = errors.New("invalid")
)
