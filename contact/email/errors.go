package email

import "errors"

// Sentinel errors.
var (
	// ErrMalformed means a message cannot be parsed as MIME (SMTP 554 5.6.0).
	ErrMalformed = errors.New("email: malformed message")
	// ErrNotFound means a blob, thread or message is not known.
	ErrNotFound = errors.New("email: not found")
	// ErrNoRelay means no smarthost is configured, so replies cannot be sent.
	ErrNoRelay = errors.New("email: no smarthost configured (CONTACTHUB_SMTP_RELAY)")
	// ErrConfig means the configuration is invalid.
	ErrConfig = errors.New("email: invalid configuration")
)
