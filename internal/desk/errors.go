package desk

import (
	"errors"
	"fmt"

	"github.com/contacthub/contacthub/contact"
)

// Sentinel errors. The HTTP layer maps them to status codes.
var (
	ErrNotFound     = errors.New("desk: not found")
	ErrForbidden    = errors.New("desk: not your contact or offer")
	ErrInvalid      = errors.New("desk: invalid request")
	ErrWrongState   = errors.New("desk: not possible in the contact's current state")
	ErrUnavailable  = fmt.Errorf("desk: %w", contact.ErrUnavailable)
	ErrNoConversion = errors.New("desk: channel cannot deliver messages")
)
