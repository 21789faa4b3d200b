package routing

import "errors"

// Sentinel errors. Methods wrap them with the operation, e.g.
// "routing: enqueue 42: unknown queue"; test with errors.Is.
var (
	ErrUnknownQueue    = errors.New("unknown queue")
	ErrQueueExists     = errors.New("queue already exists")
	ErrInvalidQueue    = errors.New("invalid queue")
	ErrUnknownStrategy = errors.New("unknown strategy")
	ErrUnknownAgent    = errors.New("unknown agent")
	ErrInvalidAgent    = errors.New("invalid agent")
	ErrAgentBusy       = errors.New("agent has live offers or contacts")
	ErrUnknownContact  = errors.New("unknown contact")
	ErrDuplicate       = errors.New("contact already in the engine")
	ErrInvalidItem     = errors.New("invalid item")
	ErrChannel         = errors.New("channel not served by queue")
	ErrQueueFull       = errors.New("queue full and no overflow")
	ErrUnknownOffer    = errors.New("unknown or expired offer")
	ErrNotWaiting      = errors.New("contact is not waiting")
	ErrNotAssigned     = errors.New("contact is not assigned to an agent")
	ErrNotWrappingUp   = errors.New("agent is not in wrap-up")
	ErrInvalidPolicy   = errors.New("invalid tier policy")
)
