package media

import (
	"bytes"
	"testing"
)

func TestG711RoundTrip(t *testing.T) {
	for _, s := range []int16{0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32767, -32768} {
		for name, c := range map[string]struct {
			enc func(int16) byte
			dec func(byte) int16
		}{"ulaw": {EncodeULaw, DecodeULaw}, "alaw": {EncodeALaw, DecodeALaw}} {
			got := c.dec(c.enc(s))
			d := int(got) - int(s)
			if d < 0 {
				d = -d
			}
			lim := int(s) / 16
			if lim < 0 {
				lim = -lim
			}
			if d > lim+40 {
				t.Errorf("%s: %d → %d", name, s, got)
			}
		}
	}
	// Every code decodes and re-encodes to itself.
	for i := 0; i < 256; i++ {
		if b := EncodeULaw(DecodeULaw(byte(i))); b != byte(i) && !(i == 0x7f || i == 0xff) {
			t.Errorf("ulaw %#x → %#x", i, b)
		}
		if b := EncodeALaw(DecodeALaw(byte(i))); b != byte(i) {
			t.Errorf("alaw %#x → %#x", i, b)
		}
	}
}

func TestEmbeddedAudio(t *testing.T) {
	h := DefaultHold()
	if h.Samples() < 8000 || h.Samples()%SamplesPerPacket != 0 {
		t.Fatalf("hold clip %d samples", h.Samples())
	}
	lin := make([]int16, 1600)
	var buf bytes.Buffer
	if err := WriteWAV(&buf, lin, 6); err != nil {
		t.Fatal(err)
	}
	a, err := ParseWAV(buf.Bytes())
	if err != nil || a.Samples() != 1600 {
		t.Fatalf("alaw wav: %v %v", a, err)
	}
}

func TestDTMFInfo(t *testing.T) {
	for _, c := range []struct {
		ct, body string
		want     byte
	}{
		{"application/dtmf-relay", "Signal=1\r\nDuration=160\r\n", '1'},
		{"application/dtmf-relay; charset=x", "signal= #\nDuration=100", '#'},
		{"application/dtmf-relay", "Signal=11", '#'},
		{"application/dtmf", "5", '5'},
		{"application/dtmf", "x", 0},
		{"text/plain", "Signal=1", 0},
	} {
		if got := ParseDTMFInfo(c.ct, []byte(c.body)); got != c.want {
			t.Errorf("%q %q: %q, want %q", c.ct, c.body, got, c.want)
		}
	}
	ev, ok := ParseEvent(AppendEvent(nil, Event{Code: 11, End: true, Volume: 10, Duration: 480}))
	if !ok || ev.Code != 11 || !ev.End || ev.Duration != 480 || Digit(ev.Code) != '#' {
		t.Fatalf("event %+v %v", ev, ok)
	}
}

func FuzzParseWAV(f *testing.F) {
	f.Add(holdWAV[:200])
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseWAV(b) })
}

func FuzzDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=1\r\nDuration=160"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("", []byte{1, 0x8a, 0, 160})
	f.Fuzz(func(t *testing.T, ct string, b []byte) {
		_ = ParseDTMFInfo(ct, b)
		if e, ok := ParseEvent(b); ok && Digit(e.Code) == 0 {
			t.Fatalf("event code %d has no digit", e.Code)
		}
	})
}
