package chat

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzFrame feeds arbitrary bytes to the frame decoder and every payload
// decoder a visitor can reach, and to the token verifier.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","data":{"client_id":"c1","body":"hi"}}`,
		`{"type":"auth","data":{"token":"a.b","after":12}}`,
		`{"type":"read","data":{"message_id":9007199254740993}}`,
		`{"type":"feedback","data":{"csat":4,"comment":"<img src=x onerror=alert(1)>"}}`,
		`{"type":"typing"}`, `{"type":""}`, `{"data":{}}`, `[]`, `null`, `"x"`, "\xff", `{"type":"message","data":"str"}`,
		`{"type":"message","data":{"body":"\u0000\ud800"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if fr.Type == "" || len(fr.Type) > 32 {
			t.Fatalf("accepted frame with type %q", fr.Type)
		}
		var m messageData
		if decodeData(fr.Data, &m) == nil {
			body, code := checkMessage(m, DefaultMaxMessageBytes)
			if code == "" && (body == "" || len(body) > DefaultMaxMessageBytes) {
				t.Fatalf("checkMessage passed %d bytes", len(body))
			}
		}
		var a authData
		if decodeData(fr.Data, &a) == nil {
			_, _ = verify(testSecret, a.Token, time.Now())
		}
		_ = decodeData(fr.Data, &receiptData{})
		_ = decodeData(fr.Data, &feedbackData{})
		// What is accepted re-encodes.
		if _, err := json.Marshal(fr); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

func TestTokenRoundTrip(t *testing.T) {
	now := time.Now()
	c := claims{Visitor: newVisitorID(), Contact: 42, Name: "李伟", Email: "li.wei@example.com", Expires: now.Add(time.Hour).Unix()}
	got, err := verify(testSecret, sign(testSecret, c), now)
	if err != nil || got != c {
		t.Fatalf("%+v %v", got, err)
	}
}
