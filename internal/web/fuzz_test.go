package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/board"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/gin-gonic/gin"
)

// fuzzBodies are the request bodies the API decodes with decodeJSON,
// chosen by the fuzzer's first argument.
var fuzzBodies = []func() any{
	func() any { return new(createContactRequest) },
	func() any { return new(loginRequest) },
	func() any { return new(createWebhookRequest) },
	func() any { return new(createUserRequest) },
	func() any { return new(bulkUsersRequest) },
	func() any { return new(orderRequest) },
	func() any { return new(linkRequest) },
	func() any { return new(transferRequest) },
	func() any { return new(customer.NewCustomer) },
}

// FuzzDecodeJSON posts arbitrary bodies to decodeJSON (behind the body
// limit middleware) for each request type: the answer is the decoded value
// or 400/413 with a JSON error, never a panic, and what is accepted
// survives a round trip (so nothing is silently half-read).
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"channel":"chat","from":{"kind":"phone","value":"+8613800138000"},"attributes":{"a":"b"}}`,
		`{"name":"agent1","password":"x"}`,
		`{"url":"https://x.example/h","events":["contact.created"],"secret":"s"}`,
		`{"amount":1e308,"margin":-0,"paid_on_time":null,"ordered_at":"2024-01-02"}`,
		`{"count":1e3}`, `{"count":99999999999999999999}`, `{"attributes":{"a":null}}`,
		`{"name":"\ud800","name":"dup"}`, `{"Name":"case"}`, `{"x":1}`, `[]`, `null`, ``, `{`, "\xff",
		`{"identities":[{"kind":"email","value":"A@B.example"}]}`,
	} {
		for i := range fuzzBodies {
			f.Add(uint8(i), []byte(s))
		}
	}
	s := New(Deps{MaxBodyBytes: 8 << 10})
	s.Public.POST("/fuzz/:kind", func(c *gin.Context) {
		var k int
		for _, ch := range c.Param("kind") {
			k = k*10 + int(ch-'0')
		}
		v := fuzzBodies[k]()
		if !decodeJSON(c, v) {
			return
		}
		c.JSON(http.StatusOK, v)
	})
	h := s.Handler()
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		k := int(kind) % len(fuzzBodies)
		req := httptest.NewRequest("POST", "/fuzz/"+string(rune('0'+k)), bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var e struct{ Error string }
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%d without a JSON error: %q", w.Code, w.Body)
			}
			if w.Code == http.StatusRequestEntityTooLarge && len(body) <= 8<<10 {
				t.Fatalf("413 for %d bytes", len(body))
			}
			return
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		// Accepted: what came back decodes to the same value, strictly.
		first := fuzzBodies[k]()
		if err := json.Unmarshal(w.Body.Bytes(), first); err != nil {
			t.Fatalf("answer does not decode: %v", err)
		}
		again := fuzzBodies[k]()
		dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(again); err != nil || !reflect.DeepEqual(first, again) {
			t.Fatalf("round trip of %q: %v %+v != %+v", body, err, first, again)
		}
	})
}

// FuzzTimeRange feeds arbitrary from/to query values to the report range
// parser: 400, or a range that is ordered and within the report limit.
func FuzzTimeRange(f *testing.F) {
	for _, s := range [][2]string{
		{"2024-01-01", "2024-01-31"}, {"2024-01-01T00:00:00Z", ""}, {"", "2024-02-30"},
		{"0001-01-01", "9999-12-31"}, {"2024-01-01T00:00:00+14:00", "2024-01-01T00:00:00-12:00"},
		{"-0001-01-01T00:00:00Z", "2024-01-01"}, {"2024-13-01", ""}, {"\x00", "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	s := New(Deps{})
	s.Public.GET("/range", func(c *gin.Context) {
		from, to, ok := boardRange(c)
		if !ok {
			return
		}
		c.JSON(http.StatusOK, gin.H{"from": from, "to": to})
	})
	h := s.Handler()
	f.Fuzz(func(t *testing.T, from, to string) {
		q := url.Values{}
		if from != "" {
			q.Set("from", from)
		}
		if to != "" {
			q.Set("to", to)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/range?"+q.Encode(), nil))
		if w.Code == http.StatusBadRequest {
			return
		}
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		var r struct{ From, To time.Time }
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			// Years outside 0–9999 do not marshal; gin then answers 200
			// with an empty body. Accept that as long as the range is sane.
			return
		}
		if !r.To.After(r.From) || r.To.Sub(r.From) > board.MaxReportRange {
			t.Fatalf("from=%q to=%q accepted as %v .. %v", from, to, r.From, r.To)
		}
	})
}
