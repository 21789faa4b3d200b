package contact

import "errors"

// Sentinel errors.
var (
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrUnavailable means the contact could not be committed right now
	// (storage down); the adapter answers with a temporary failure so the
	// peer retries (SIP 503, SMTP 451, HTTP 503).
	ErrUnavailable = errors.New("temporarily unavailable")
)
