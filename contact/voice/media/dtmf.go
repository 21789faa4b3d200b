package media

import (
	"bufio"
	"encoding/binary"
	"strconv"
	"strings"
)

// Event is a telephone-event payload (RFC 4733 §2.3).
type Event struct {
	Code     uint8 // 0–9, 10 = *, 11 = #, 12–15 = A–D
	End      bool
	Volume   uint8
	Duration uint16
}

// ParseEvent decodes a telephone-event payload. ok is false if it is too
// short or not a DTMF event.
func ParseEvent(p []byte) (Event, bool) {
	if len(p) < 4 {
		return Event{}, false
	}
	e := Event{Code: p[0], End: p[1]&0x80 != 0, Volume: p[1] & 0x3f, Duration: binary.BigEndian.Uint16(p[2:4])}
	return e, e.Code <= 15
}

// AppendEvent encodes a telephone-event payload.
func AppendEvent(b []byte, e Event) []byte {
	f := e.Volume & 0x3f
	if e.End {
		f |= 0x80
	}
	b = append(b, e.Code, f)
	return binary.BigEndian.AppendUint16(b, e.Duration)
}

const digits = "0123456789*#ABCD"

// Digit is the character of an event code, or 0.
func Digit(code uint8) byte {
	if int(code) < len(digits) {
		return digits[code]
	}
	return 0
}

// EventCode is the event code of a DTMF character; ok false if none.
func EventCode(d byte) (uint8, bool) {
	i := strings.IndexByte(digits, d)
	if d >= 'a' && d <= 'd' {
		i = strings.IndexByte(digits, d-'a'+'A')
	}
	return uint8(i), i >= 0
}

// ParseDTMFInfo reads the digit of a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5"). It returns 0 when
// the body holds no digit.
func ParseDTMFInfo(contentType string, body []byte) byte {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch ct {
	case "application/dtmf-relay":
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				return normDigit(strings.TrimSpace(v))
			}
		}
	case "application/dtmf":
		return normDigit(strings.TrimSpace(string(body)))
	}
	return 0
}

func normDigit(v string) byte {
	if len(v) == 1 {
		if _, ok := EventCode(v[0]); ok {
			if v[0] >= 'a' {
				return v[0] - 'a' + 'A'
			}
			return v[0]
		}
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 15 {
		return Digit(uint8(n))
	}
	return 0
}
