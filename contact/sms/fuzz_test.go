package sms

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTwilioForm: any body parses without panicking, and a parsed message
// has its required fields and bounded media.
func FuzzTwilioForm(f *testing.F) {
	f.Add("MessageSid=SM1&From=%2B8613800138000&To=%2B8610000000001&Body=hi&NumMedia=0")
	f.Add("MessageSid=SM1&From=x&NumMedia=2&MediaUrl0=https%3A%2F%2Fa&MediaContentType0=image%2Fpng&MediaUrl1=")
	f.Add("MessageSid=SM1&From=x&NumMedia=-1")
	f.Add("MessageSid=SM1&From=x&NumMedia=99999999999999999999")
	f.Add("a=%zz&&==&")
	f.Add("Body=%E9%80%80%E8%AE%A2&MessageSid=SM2&From=%2B1")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		_ = TwilioSignature("token", "https://x/webhooks/sms/twilio", form)
		in, err := parseTwilioInbound(form)
		if err != nil {
			return
		}
		if in.sid == "" || in.from == "" || len(in.media) > maxMedia {
			t.Fatalf("parsed %+v", in)
		}
		_ = keyword(in.body)
		_ = rating(in.body)
		_ = ThreadKey(in.from, in.to)
	})
}

// FuzzGenericBody: any JSON body parses without panicking; accepted ones
// have an id and a sender.
func FuzzGenericBody(f *testing.F) {
	f.Add(`{"id":"g1","from":"+8613800138000","to":"+8610000000001","body":"hi","media":[{"url":"https://x"}]}`)
	f.Add(`{"id":"g1","from":"x"} {"id":"g2"}`)
	f.Add(`{"id":1}`)
	f.Add(`{"media":[{}]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		m, err := parseGeneric([]byte(body))
		if err != nil {
			return
		}
		if m.ID == "" || m.From == "" || len(m.Media) > maxMedia {
			t.Fatalf("parsed %+v", m)
		}
	})
}

// FuzzSegments: Segments never panics; split parts fit and keep the text.
func FuzzSegments(f *testing.F) {
	f.Add("hello", 1)
	f.Add(strings.Repeat("€", 200), 2)
	f.Add(strings.Repeat("退订 ", 100), 1)
	f.Add(strings.Repeat("😀a", 90), 3)
	f.Fuzz(func(t *testing.T, body string, max int) {
		if !utf8.ValidString(body) || max < 1 || max > 10 {
			return
		}
		n, _ := Segments(body)
		for _, p := range split(body, max) {
			if k, _ := Segments(p); k > max && n > max {
				t.Fatalf("part of %d segments, max %d", k, max)
			}
		}
	})
}
