package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fuzzSentinel is the frame type the fuzz client sends after each input;
// the server answers it with fuzzAck, so the client knows every answer to
// the input has arrived.
const (
	fuzzSentinel = "__fuzz_sentinel"
	fuzzAck      = "__fuzz_ack"
)

// FuzzFrame sends arbitrary client frames through a real connection's read
// pump (Conn.Serve, the decoding the agent hub uses) and checks that each
// one either reaches the handler as a typed envelope with well-formed data,
// or is answered with exactly one "error" frame, and that the connection
// survives either way.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"typing","data":{"contact_id":12}}`,
		`{"type":"read","data":{"contact_id":12,"message_id":9007199254740993}}`,
		`{"type":"ping"}`,
		`{"type":""}`, `{"data":{}}`, `{"type":null}`, `{"type":1}`, `{"type":"x","data":}`,
		`[]`, `null`, `"typing"`, `{}`, "\xff\xfe", `{"type":"typing","type":"read"}`,
		`{"TYPE":"typing"}`, `{"type":"t","data":"str"}`, `{"type":"t","data":[1,2,{"a":null}]}`,
		`{"type":"\u0000\ud800"}`, `{"type":"t"} trailing`, `{"type":"t"}{"type":"u"}`,
		strings.Repeat(`{"type":"deep","data":`, 200) + "1" + strings.Repeat("}", 200),
	} {
		f.Add(false, []byte(s))
	}
	f.Add(true, []byte(`{"type":"typing"}`))

	type got struct {
		typ  string
		data json.RawMessage
	}
	frames := make(chan got, 64)
	o := Options{ReadLimit: 1 << 20}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := o.Upgrader().Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := NewConn(ws, o)
		_ = c.Serve(r.Context(), nil, func(_ context.Context, typ string, data json.RawMessage) {
			if typ == fuzzSentinel {
				_ = c.SendEnvelope(Envelope{Type: fuzzAck, Data: data})
				return
			}
			frames <- got{typ, append(json.RawMessage(nil), data...)}
		})
	}))
	f.Cleanup(srv.Close)
	var ws *websocket.Conn
	var seq int
	f.Cleanup(func() {
		if ws != nil {
			ws.Close()
		}
	})

	f.Fuzz(func(t *testing.T, binary bool, b []byte) {
		// What a correct decoder does with the input.
		var want frame
		ok := !binary && json.Unmarshal(b, &want) == nil && want.Type != ""
		if len(b) > 256<<10 || want.Type == fuzzSentinel {
			t.Skip()
		}
		seq++
		sentinel := fmt.Sprintf(`{"type":%q,"data":%d}`, fuzzSentinel, seq)
		if ws == nil {
			var err error
			if ws, _, err = websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil); err != nil {
				t.Fatal(err)
			}
		}
		kind := websocket.TextMessage
		if binary {
			kind = websocket.BinaryMessage
		}
		if err := ws.WriteMessage(kind, b); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(sentinel)); err != nil {
			t.Fatalf("write sentinel: %v", err)
		}
		errorFrames := 0
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, m, err := ws.ReadMessage()
			if err != nil {
				ws.Close()
				ws = nil
				t.Fatalf("connection lost after %q: %v", b, err)
			}
			if bytes.Equal(m, invalidFrame) {
				errorFrames++
				continue
			}
			var e frame
			if json.Unmarshal(m, &e) != nil || e.Type != fuzzAck {
				t.Fatalf("unexpected server frame %q", m)
			}
			if string(e.Data) == strconv.Itoa(seq) {
				break
			}
		}
		var handled []got
		for len(frames) > 0 {
			handled = append(handled, <-frames)
		}

		switch {
		case ok && (len(handled) != 1 || errorFrames != 0):
			t.Fatalf("%q: handled %d, error frames %d; want handled once", b, len(handled), errorFrames)
		case !ok && (len(handled) != 0 || errorFrames != 1):
			t.Fatalf("%q: handled %d, error frames %d; want one error frame", b, len(handled), errorFrames)
		case ok:
			h := handled[0]
			if h.typ != want.Type {
				t.Fatalf("%q: type %q, want %q", b, h.typ, want.Type)
			}
			if len(h.data) > 0 && !json.Valid(h.data) {
				t.Fatalf("%q: handler got invalid JSON data %q", b, h.data)
			}
		}
	})
}
