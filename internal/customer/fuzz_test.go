package customer

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/contacthub/contacthub/contact"
)

// FuzzNormalize feeds arbitrary sender addresses (SIP From, SMS From, email
// From, chat visitor ids: all from the network) to the identity normalizer.
// An accepted address is valid UTF-8, bounded, free of control characters
// (it goes into SQL lookups, logs and outbound email headers), and phones
// and visitor ids are stable under normalising again.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"+86 10 6552 9988", "0086 10 6552 9988", "(010) 6552-9988", "tel:+8613800138000",
		"sip:+8613800138000@pbx.example", "138 0013 8000", "+1 (415) 555-2671 ext. 12",
		`"Li" <LI@x.com>`, "a@b", "\"a\r\nBcc: x@y\"@example.com", "<@>", "v-abc123",
		"v:..--__", strings.Repeat("9", 70), "\xff", "",
	} {
		for _, k := range []string{"phone", "email", "visitor"} {
			f.Add(k, s)
		}
	}
	n := Normalizer{Region: "CN"}
	f.Fuzz(func(t *testing.T, kind, value string) {
		k := contact.IdentityKind(kind)
		out, err := n.Normalize(k, value)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) || out == "" || len(out) > 320 {
			t.Fatalf("%s %q -> %q", kind, value, out)
		}
		if strings.ContainsAny(out, "\r\n\x00") {
			t.Fatalf("%s %q -> %q: control characters", kind, value, out)
		}
		switch k {
		case contact.Phone:
			if out[0] != '+' || strings.Trim(out[1:], "0123456789") != "" {
				t.Fatalf("phone %q -> %q: not E.164", value, out)
			}
		case contact.EmailAddr:
			if strings.ToLower(out) != out || !strings.Contains(out, "@") {
				t.Fatalf("email %q -> %q", value, out)
			}
			return // a quoted local part comes back unquoted: not re-parsable, by design of net/mail
		}
		again, err := n.Normalize(k, out)
		if err != nil || again != out {
			t.Fatalf("%s %q -> %q -> %q, %v: not stable", kind, value, out, again, err)
		}
	})
}
