package customer

import "errors"

// Sentinel errors.
var (
	// ErrUnknown means no customer has the address: an unknown caller. It is
	// an answer, not a failure; such callers are TierStandard.
	ErrUnknown = errors.New("unknown customer")
	// ErrInvalidIdentity means an address could not be normalised (junk phone
	// number, malformed email, bad visitor id, unknown kind).
	ErrInvalidIdentity = errors.New("invalid identity")
	// ErrInvalid means other bad input (tier name, amount, ...).
	ErrInvalid = errors.New("invalid input")
)
