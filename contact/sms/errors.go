package sms

import "errors"

// Sentinel errors.
var (
	// ErrOptedOut: the recipient replied STOP; nothing is sent until START.
	ErrOptedOut = errors.New("sms: recipient has opted out (replied STOP)")
	// ErrTooLong: the message has more segments than configured and
	// LongMessages is "refuse".
	ErrTooLong = errors.New("sms: message too long")
	// ErrNoAccount: no configured account can send for the contact.
	ErrNoAccount = errors.New("sms: no account configured for this number")
	// ErrProvider: the provider refused the message (4xx other than 429)
	// or kept failing after every retry.
	ErrProvider = errors.New("sms: provider error")
	// ErrNoSurvey: no survey is waiting for an answer (Store.PendingSurvey).
	ErrNoSurvey = errors.New("sms: no pending survey")
	// ErrConfig: the configuration is invalid.
	ErrConfig = errors.New("sms: invalid configuration")
)
