package voice

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact/voice/media"
	"github.com/pion/sdp/v3"
)

// errNoCodec means the offer has no audio stream we can speak (SIP 488).
var errNoCodec = errors.New("voice: no acceptable audio codec (PCMU, PCMA)")

// mediaOffer is what we take from a peer's SDP.
type mediaOffer struct {
	Addr   netip.AddrPort // where to send RTP (unspecified: on hold / wait for latching)
	PT     uint8          // chosen audio payload type, PCMU or PCMA
	DTMFPT uint8          // telephone-event/8000 payload type, 0 if not offered
}

// parseSDP picks the first audio stream of an offer or answer and, in the
// peer's order of preference, the first of PCMU/PCMA it lists.
func parseSDP(body []byte) (mediaOffer, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return mediaOffer{}, fmt.Errorf("voice: sdp: %w", err)
	}
	for _, md := range sd.MediaDescriptions {
		if md == nil || md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		if !hasProto(md.MediaName.Protos, "RTP") || hasProto(md.MediaName.Protos, "SAVP") || hasProto(md.MediaName.Protos, "SAVPF") {
			continue
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = sd.ConnectionInformation
		}
		var ip netip.Addr
		if ci != nil && ci.Address != nil {
			ip, _ = netip.ParseAddr(ci.Address.Address)
		}
		port := md.MediaName.Port.Value
		if port < 0 || port > 65535 {
			continue
		}
		// Dynamic payload types are named by rtpmap; static ones may be bare.
		names := map[string]string{}
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			pt, enc, ok := strings.Cut(a.Value, " ")
			if ok {
				names[strings.TrimSpace(pt)] = strings.ToLower(strings.TrimSpace(enc))
			}
		}
		off := mediaOffer{PT: 255}
		for _, f := range md.MediaName.Formats {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 || n > 127 {
				continue
			}
			enc := names[f]
			switch {
			case off.PT == 255 && (n == 0 && (enc == "" || strings.HasPrefix(enc, "pcmu/8000")) || strings.HasPrefix(enc, "pcmu/8000")):
				off.PT = media.PCMU
			case off.PT == 255 && (n == 8 && (enc == "" || strings.HasPrefix(enc, "pcma/8000")) || strings.HasPrefix(enc, "pcma/8000")):
				off.PT = media.PCMA
			case strings.HasPrefix(enc, "telephone-event/8000") && n >= 96 && off.DTMFPT == 0:
				off.DTMFPT = uint8(n)
			}
		}
		if off.PT == 255 {
			continue
		}
		if ip.IsValid() {
			off.Addr = netip.AddrPortFrom(ip.Unmap(), uint16(port))
		}
		return off, nil
	}
	return mediaOffer{}, errNoCodec
}

func hasProto(ps []string, p string) bool {
	for _, x := range ps {
		if strings.EqualFold(x, p) {
			return true
		}
	}
	return false
}

// buildSDP writes our side: one audio stream at ip:port with the given
// audio payload types (in preference order) and telephone-event if dtmfPT.
func buildSDP(ip netip.Addr, port int, pts []uint8, dtmfPT uint8) []byte {
	ipv := "IP4"
	if ip.Is6() && !ip.Is4In6() {
		ipv = "IP6"
	}
	id := strconv.FormatInt(time.Now().UnixNano()/1e3, 10)
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=contacthub %s %s IN %s %s\r\ns=ContactHub\r\nc=IN %s %s\r\nt=0 0\r\n", id, id, ipv, ip.Unmap(), ipv, ip.Unmap())
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", port)
	for _, pt := range pts {
		fmt.Fprintf(&b, " %d", pt)
	}
	if dtmfPT != 0 {
		fmt.Fprintf(&b, " %d", dtmfPT)
	}
	b.WriteString("\r\n")
	for _, pt := range pts {
		name := "PCMU"
		if pt == media.PCMA {
			name = "PCMA"
		}
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", pt, name)
	}
	if dtmfPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmfPT, dtmfPT)
	}
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	return []byte(b.String())
}

var netipInvalid netip.AddrPort
