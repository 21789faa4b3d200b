package customer

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/contacthub/contacthub/contact"
	"github.com/nyaruka/phonenumbers"
)

// Normalizer turns addresses as received into the form stored in
// identities: phones to E.164 (numbers without a country code are read in
// Region), emails trimmed and case-folded (display-name forms such as
// `"Li" <LI@x.com>` accepted), chat visitor ids trimmed.
type Normalizer struct {
	Region string // ISO 3166 region for national numbers; "" means CN
}

// Normalize returns the stored form of an address, or ErrInvalidIdentity.
func (n Normalizer) Normalize(kind contact.IdentityKind, value string) (string, error) {
	switch kind {
	case contact.Phone:
		return n.Phone(value)
	case contact.EmailAddr:
		return Email(value)
	case contact.Visitor:
		return VisitorID(value)
	}
	return "", fmt.Errorf("customer: identity kind %q: %w", kind, ErrInvalidIdentity)
}

// Phone returns the E.164 form of a phone number: "138 0013 8000" (region
// CN) and "+86 10 6552 9988", "0086 10 6552 9988", "(010) 6552-9988",
// "tel:+8613800138000" all resolve. Numbers that are not valid for their
// region (too short, unassigned prefix) are ErrInvalidIdentity.
func (n Normalizer) Phone(value string) (string, error) {
	region := n.Region
	if region == "" {
		region = "CN"
	}
	v := strings.TrimSpace(value)
	v = strings.TrimPrefix(strings.TrimPrefix(v, "tel:"), "sip:")
	if at := strings.IndexByte(v, '@'); at >= 0 { // sip:+86...@host
		v = v[:at]
	}
	if v == "" || len(v) > 64 || !utf8.ValidString(v) {
		return "", fmt.Errorf("customer: phone %q: %w", value, ErrInvalidIdentity)
	}
	num, err := phonenumbers.Parse(v, strings.ToUpper(region))
	if err != nil {
		return "", fmt.Errorf("customer: phone %q: %v: %w", value, err, ErrInvalidIdentity)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("customer: phone %q: not a valid number: %w", value, ErrInvalidIdentity)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Email returns the address of an email, trimmed and case-folded.
func Email(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > 320 || !utf8.ValidString(v) {
		return "", fmt.Errorf("customer: email %q: %w", value, ErrInvalidIdentity)
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		return "", fmt.Errorf("customer: email %q: %v: %w", value, err, ErrInvalidIdentity)
	}
	addr := strings.ToLower(strings.TrimSpace(a.Address))
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", fmt.Errorf("customer: email %q: %w", value, ErrInvalidIdentity)
	}
	return addr, nil
}

// VisitorID checks a chat visitor id: 1–128 characters of letters, digits
// and . _ : -.
func VisitorID(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > 128 {
		return "", fmt.Errorf("customer: visitor id %q: %w", value, ErrInvalidIdentity)
	}
	for _, r := range v {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r)
		if !ok {
			return "", fmt.Errorf("customer: visitor id %q: %w", value, ErrInvalidIdentity)
		}
	}
	return v, nil
}
