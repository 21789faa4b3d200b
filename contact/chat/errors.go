package chat

import "errors"

// Sentinel errors.
var (
	// ErrBadToken means a visitor token is malformed, forged or expired.
	ErrBadToken = errors.New("bad visitor token")
	// ErrConfig means the configuration is not usable.
	ErrConfig = errors.New("chat: bad configuration")
)
