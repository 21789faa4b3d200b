package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// limitsServer is a Server with no store or auth, plus test routes that
// decode bodies the way the API handlers do.
func limitsServer(t *testing.T, maxBody int64) *httptest.Server {
	t.Helper()
	s := New(Deps{MaxBodyBytes: maxBody})
	s.Public.POST("/t/contact", func(c *gin.Context) {
		var req createContactRequest
		if !decodeJSON(c, &req) {
			return
		}
		c.JSON(http.StatusOK, gin.H{"attributes": len(req.Attributes)})
	})
	// A handler reading the body itself (webhooks wrapped with gin.WrapH).
	s.Public.POST("/t/raw", func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			c.Status(http.StatusRequestEntityTooLarge)
			return
		}
		c.String(http.StatusOK, "%d", len(b))
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func limitsPost(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// jsonOfSize is a valid createContactRequest of exactly n bytes.
func jsonOfSize(n int) string {
	const head, tail = `{"channel":"chat","message":"`, `"}`
	return head + strings.Repeat("m", n-len(head)-len(tail)) + tail
}

func TestDefaultBodyLimitIsOneMiB(t *testing.T) {
	t.Parallel()
	srv := limitsServer(t, 0) // the default
	tests := []struct {
		name, path, body string
		want             int
		wantBody         string
	}{
		{"JSON of exactly 1 MiB", "/t/contact", jsonOfSize(1 << 20), http.StatusOK, ""},
		{"JSON one byte over 1 MiB", "/t/contact", jsonOfSize(1<<20 + 1), http.StatusRequestEntityTooLarge, "request body over 1048576 bytes"},
		{"JSON far over", "/t/contact", jsonOfSize(8 << 20), http.StatusRequestEntityTooLarge, "request body over"},
		{"raw body over 1 MiB", "/t/raw", strings.Repeat("r", 1<<20+1), http.StatusRequestEntityTooLarge, ""},
		{"raw body of 1 MiB", "/t/raw", strings.Repeat("r", 1<<20), http.StatusOK, "1048576"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := limitsPost(t, srv.URL+tc.path, tc.body)
			if code != tc.want || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %.200s, want %d %q", code, body, tc.want, tc.wantBody)
			}
		})
	}
}

func TestDecodeJSONRefuses(t *testing.T) {
	t.Parallel()
	srv := limitsServer(t, 4096)
	tests := []struct {
		name, body string
		want       int
		wantBody   string
	}{
		{"unknown field", `{"channel":"chat","is_admin":true}`, http.StatusBadRequest, `unknown field \"is_admin\"`},
		{"unknown nested field", `{"channel":"chat","from":{"kind":"phone","value":"1","x":1}}`, http.StatusBadRequest, "unknown field"},
		{"wrong type", `{"channel":"chat","attributes":[1,2]}`, http.StatusBadRequest, "invalid JSON body"},
		{"truncated", `{"channel":`, http.StatusBadRequest, "invalid JSON body"},
		{"empty", ``, http.StatusBadRequest, "invalid JSON body"},
		{"not an object", `"chat"`, http.StatusBadRequest, "invalid JSON body"},
		{"over the configured limit", `{"channel":"chat","message":"` + strings.Repeat("x", 4096) + `"}`, http.StatusRequestEntityTooLarge, "request body over 4096 bytes"},
		{"deep nesting (bounded by the size limit)", strings.Repeat(`{"attributes":`, 10000) + "1" + strings.Repeat("}", 10000), http.StatusRequestEntityTooLarge, ""},
		{"valid", `{"channel":"chat","attributes":{"a":"b"}}`, http.StatusOK, `"attributes":1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := limitsPost(t, srv.URL+"/t/contact", tc.body)
			if code != tc.want || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %.200s, want %d %q", code, body, tc.want, tc.wantBody)
			}
		})
	}
}

// TestBodyLimitAllMethods: the limit is middleware, so it holds for every
// route and method, not only those that call decodeJSON.
func TestBodyLimitAllMethods(t *testing.T) {
	t.Parallel()
	s := New(Deps{MaxBodyBytes: 100})
	var got []string
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		s.Public.Handle(m, "/t", func(c *gin.Context) {
			_, err := io.ReadAll(c.Request.Body)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				got = append(got, c.Request.Method)
				c.Status(http.StatusRequestEntityTooLarge)
				return
			}
			c.Status(http.StatusOK)
		})
	}
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		req := httptest.NewRequest(m, "/t", strings.NewReader(strings.Repeat("b", 101)))
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s of 101 bytes with a 100-byte limit: %d", m, w.Code)
		}
	}
	if len(got) != 4 {
		t.Fatalf("limited methods: %v", got)
	}
}

// TestContactAttributeLimit: createContact refuses more than 50
// attributes before anything is stored (the desk is not reached, so a nil
// desk proves it).
func TestContactAttributeLimit(t *testing.T) {
	t.Parallel()
	s := New(Deps{})
	h := &deskHandlers{s: s}
	s.Public.POST("/contacts", h.createContact)
	attrs := map[string]string{}
	for i := 0; i < 51; i++ {
		attrs[fmt.Sprintf("k%d", i)] = "v"
	}
	b, _ := json.Marshal(map[string]any{"channel": "chat", "attributes": attrs})
	for _, tc := range []struct {
		name, body string
	}{
		{"51 attributes", string(b)},
		{"subject over 1000 bytes", `{"channel":"chat","subject":"` + strings.Repeat("s", 1001) + `"}`},
		{"message over 64 KiB", `{"channel":"chat","message":"` + strings.Repeat("m", 64<<10+1) + `"}`},
		{"unknown channel", `{"channel":"pigeon"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/contacts", strings.NewReader(tc.body))
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, req)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", w.Code, w.Body)
			}
		})
	}
}
