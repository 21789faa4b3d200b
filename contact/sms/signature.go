package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TwilioSignature computes the X-Twilio-Signature of a request: HMAC-SHA1
// keyed with the auth token over the full URL Twilio requested followed by
// every POST parameter's name and value, names in byte order (a repeated
// name: its values in byte order), base64-encoded.
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		vs := params[k]
		if len(vs) > 1 {
			vs = append([]string(nil), vs...)
			sort.Strings(vs)
		}
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidTwilioSignature reports whether signature is the request's
// signature under authToken, compared in constant time. Like Twilio's own
// validators it also accepts the URL with the default port added or
// removed (Twilio signs https URLs as configured, proxies may differ).
func ValidTwilioSignature(authToken, fullURL string, params url.Values, signature string) bool {
	if signature == "" || authToken == "" {
		return false
	}
	got := []byte(signature)
	for _, u := range urlVariants(fullURL) {
		want := TwilioSignature(authToken, u, params)
		if hmac.Equal(got, []byte(want)) {
			return true
		}
	}
	return false
}

// urlVariants returns u, then u with its default port removed or added.
func urlVariants(u string) []string {
	out := []string{u}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[p.Scheme]
	if def == "" {
		return out
	}
	q := *p
	switch p.Port() {
	case def:
		q.Host = p.Hostname()
	case "":
		q.Host = p.Host + ":" + def
	default:
		return out
	}
	return append(out, q.String())
}

// Generic webhook signature headers.
const (
	HeaderTimestamp = "X-ContactHub-Timestamp"
	HeaderSignature = "X-ContactHub-Signature"
)

// GenericSignature returns the value of X-ContactHub-Signature for a body
// sent at unix time ts: "v1=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func GenericSignature(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// verifyGeneric checks the timestamp header (unix seconds, within window of
// now either way) and the signature header, which may hold several
// comma-separated "v1=" values (secret rotation); any of secrets may match.
func verifyGeneric(secrets []string, tsHeader, sigHeader string, body []byte, now time.Time, window time.Duration) bool {
	ts, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil || ts <= 0 {
		return false
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > window || age < -window {
		return false
	}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		want := []byte(GenericSignature(secret, ts, body))
		for _, part := range strings.Split(sigHeader, ",") {
			if hmac.Equal([]byte(strings.TrimSpace(part)), want) {
				return true
			}
		}
	}
	return false
}
