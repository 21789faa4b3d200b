package auth

import "errors"

// Sentinel errors.
var (
	// ErrInvalidCredentials is returned for an unknown user, a wrong password
	// and a disabled user alike, so a caller cannot tell which.
	ErrInvalidCredentials = errors.New("auth: invalid name or password")
	// ErrUnauthenticated means no valid session or token was presented.
	ErrUnauthenticated = errors.New("auth: not authenticated")
	// ErrTooManyAttempts means login is rate-limited for this client or name.
	ErrTooManyAttempts = errors.New("auth: too many failed login attempts, try again later")
)
