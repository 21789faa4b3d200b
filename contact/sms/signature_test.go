package sms

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

// Twilio's worked example (twilio.com/docs/usage/security): URL
// https://mycompany.com/myapp.php?foo=1&bar=2, auth token 12345. The page
// has carried two versions of the parameters; both signatures are checked.
func TestTwilioSignatureDocumentedExample(t *testing.T) {
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	params := func(caller string) url.Values {
		return url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {caller}, "Digits": {"1234"}, "From": {caller}, "To": {"+18005551212"}}
	}
	for _, tc := range []struct{ caller, want string }{
		{"+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="},
		{"+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
	} {
		if got := TwilioSignature("12345", u, params(tc.caller)); got != tc.want {
			t.Errorf("caller %s: signature %s, want %s", tc.caller, got, tc.want)
		}
	}
}

func TestValidTwilioSignature(t *testing.T) {
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"}, "From": {"+14158675310"}, "To": {"+18005551212"}}
	const sig = "GvWf1cFY/Q7PnoempGyD5oXAezc="
	tampered := url.Values{}
	for k, v := range params {
		tampered[k] = v
	}
	tampered.Set("Digits", "9999")
	extra := url.Values{}
	for k, v := range params {
		extra[k] = v
	}
	extra.Set("Body", "injected")
	for _, tc := range []struct {
		name, token, url, sig string
		params                url.Values
		want                  bool
	}{
		{"documented", "12345", u, sig, params, true},
		{"tampered parameter", "12345", u, sig, tampered, false},
		{"added parameter", "12345", u, sig, extra, false},
		{"wrong url", "12345", "https://mycompany.com/myapp.php?foo=1&bar=3", sig, params, false},
		{"http instead of https", "12345", "http://mycompany.com/myapp.php?foo=1&bar=2", sig, params, false},
		{"default port added by a proxy", "12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", sig, params, true},
		{"missing header", "12345", u, "", params, false},
		{"wrong token", "54321", u, sig, params, false},
		{"empty token", "", u, sig, params, false},
		{"truncated signature", "12345", u, sig[:len(sig)-1], params, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidTwilioSignature(tc.token, tc.url, tc.params, tc.sig); got != tc.want {
				t.Fatalf("valid = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVerifyGeneric(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"id":"m1","from":"+8613800138000","to":"+8610000000001","body":"hi"}`)
	ts := now.Unix()
	good := GenericSignature("s1", ts, body)
	for _, tc := range []struct {
		name    string
		secrets []string
		ts      string
		sig     string
		body    []byte
		want    bool
	}{
		{"valid", []string{"s1"}, formatInt(ts), good, body, true},
		{"rotation: second secret", []string{"old", "s1"}, formatInt(ts), good, body, true},
		{"several signatures in the header", []string{"s1"}, formatInt(ts), "v1=00," + good, body, true},
		{"tampered body", []string{"s1"}, formatInt(ts), good, append([]byte{' '}, body...), false},
		{"wrong secret", []string{"s2"}, formatInt(ts), good, body, false},
		{"stale (6 min)", []string{"s1"}, formatInt(ts - 360), GenericSignature("s1", ts-360, body), body, false},
		{"future (6 min)", []string{"s1"}, formatInt(ts + 360), GenericSignature("s1", ts+360, body), body, false},
		{"within window (4 min)", []string{"s1"}, formatInt(ts - 240), GenericSignature("s1", ts-240, body), body, true},
		{"timestamp not signed value", []string{"s1"}, formatInt(ts + 1), good, body, false},
		{"missing timestamp", []string{"s1"}, "", good, body, false},
		{"missing signature", []string{"s1"}, formatInt(ts), "", body, false},
		{"no secret configured", nil, formatInt(ts), good, body, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verifyGeneric(tc.secrets, tc.ts, tc.sig, tc.body, now, 5*time.Minute); got != tc.want {
				t.Fatalf("verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }
