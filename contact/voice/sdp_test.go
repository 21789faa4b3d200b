package voice

import (
	"net/netip"
	"testing"

	"github.com/contacthub/contacthub/contact/voice/media"
)

const sippOffer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

func TestParseSDP(t *testing.T) {
	for _, c := range []struct {
		name, sdp string
		want      mediaOffer
		err       bool
	}{
		{"sipp default", sippOffer, mediaOffer{Addr: netip.MustParseAddrPort("127.0.0.1:6000"), PT: media.PCMU}, false},
		{"pcma first, dtmf", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\nc=IN IP4 10.0.0.2\r\na=rtpmap:101 telephone-event/8000\r\n",
			mediaOffer{Addr: netip.MustParseAddrPort("10.0.0.2:4000"), PT: media.PCMA, DTMFPT: 101}, false},
		{"opus only", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n", mediaOffer{}, true},
		{"srtp", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n", mediaOffer{}, true},
		{"garbage", "hello", mediaOffer{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseSDP([]byte(c.sdp))
			if (err != nil) != c.err || (!c.err && got != c.want) {
				t.Fatalf("got %+v, %v; want %+v (err %v)", got, err, c.want, c.err)
			}
		})
	}
	// Our answer parses as an offer of the same thing.
	b := buildSDP(netip.MustParseAddr("127.0.0.1"), 7000, []uint8{media.PCMA}, 101)
	got, err := parseSDP(b)
	if err != nil || got.PT != media.PCMA || got.DTMFPT != 101 || got.Addr.Port() != 7000 {
		t.Fatalf("own sdp: %+v %v\n%s", got, err, b)
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(sippOffer))
	f.Add(buildSDP(netip.MustParseAddr("::1"), 1, []uint8{0, 8}, 101))
	f.Add([]byte("v=0\r\nm=audio 99999999999 RTP/AVP 0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		off, err := parseSDP(b)
		if err == nil && off.PT != media.PCMU && off.PT != media.PCMA {
			t.Fatalf("payload type %d chosen", off.PT)
		}
	})
}

func TestCallerID(t *testing.T) {
	for in, want := range map[string]string{
		`"Li Wei" <sip:+8613900139000@example.com;user=phone>;tag=1`: "+8613900139000",
		`<tel:+8613700137000;phone-context=x>`:                       "+8613700137000",
		`sip:100@h`:                                                  "100",
		`garbage`:                                                    "",
	} {
		if got := uriUser(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
