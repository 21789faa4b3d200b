// Package media is ContactHub's RTP layer for voice: one UDP socket per call
// leg, G.711 hold audio paced by a shared scheduler, RTP relay between two
// legs, RFC 4733 DTMF detection. Packets are built and parsed with pion/rtp.
package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Packetisation: 20 ms of 8 kHz audio.
const (
	SamplesPerPacket = 160
	Interval         = 20 * time.Millisecond
)

// Stream is one RTP leg: our socket, the peer's address, our outgoing
// sequence/timestamp/SSRC, what we play to the peer, and where the peer's
// packets go (DTMF callback, relay partner).
type Stream struct {
	conn *net.UDPConn

	mu       sync.Mutex
	remote   netip.AddrPort
	latched  bool
	pt       uint8 // audio payload type sent
	dtmfPT   uint8 // telephone-event payload type, 0 if none
	ssrc     uint32
	seq      uint16
	ts       uint32
	started  bool // first packet sent (marker)
	play     *Audio
	playPos  int
	loop     bool
	onDone   func()
	peer     *Stream
	inSSRC   uint32 // SSRC of relayed source, to rebase its timestamps
	tsOffset uint32
	lastDTMF uint32 // timestamp of the last DTMF event reported
	haveDTMF bool

	onDTMF   atomic.Pointer[func(byte)]
	lastRx   atomic.Int64 // unix nanos of the last packet from the peer
	rxCount  atomic.Uint64
	txCount  atomic.Uint64
	closed   atomic.Bool
	sched    *Scheduler
	schedIdx int
	buf      []byte
}

// ErrClosed is returned for operations on a closed stream.
var ErrClosed = errors.New("media: stream closed")

// Listen opens a stream's socket on ip with a port from [min, max] (both 0:
// any free port).
func Listen(ip netip.Addr, min, max int) (*Stream, error) {
	var conn *net.UDPConn
	var err error
	if min <= 0 || max < min {
		conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	} else {
		n := max - min + 1
		start := rand.IntN(n)
		for i := 0; i < n && i < 64; i++ {
			port := min + (start+i*2)%n&^1 // even ports for RTP (RFC 3550 §11)
			if port < min {
				port += 2
			}
			conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
			if err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("media: listen rtp: %w", err)
	}
	_ = conn.SetReadBuffer(256 << 10)
	s := &Stream{conn: conn, ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(), buf: make([]byte, 1500)}
	s.lastRx.Store(time.Now().UnixNano())
	return s, nil
}

// Port is the local RTP port.
func (s *Stream) Port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// LocalAddr is the socket's address.
func (s *Stream) LocalAddr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// SetRemote sets where packets go and the negotiated payload types.
func (s *Stream) SetRemote(remote netip.AddrPort, pt, dtmfPT uint8) {
	s.mu.Lock()
	s.remote, s.pt, s.dtmfPT = remote, pt, dtmfPT
	s.mu.Unlock()
}

// Remote is where packets go.
func (s *Stream) Remote() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remote
}

// OnDTMF sets the function told each digit the peer sends (RFC 4733).
func (s *Stream) OnDTMF(f func(digit byte)) { s.onDTMF.Store(&f) }

// LastReceived is when the peer last sent a packet (creation time if never).
func (s *Stream) LastReceived() time.Time { return time.Unix(0, s.lastRx.Load()) }

// Counts returns packets received and sent.
func (s *Stream) Counts() (rx, tx uint64) { return s.rxCount.Load(), s.txCount.Load() }

// Bridge relays each leg's incoming packets to the other leg. Nil peer
// stops relaying.
func Bridge(a, b *Stream) {
	a.mu.Lock()
	a.peer = b
	a.mu.Unlock()
	b.mu.Lock()
	b.peer = a
	b.mu.Unlock()
}

// Unbridge stops relaying between a and its peer.
func Unbridge(a *Stream) {
	a.mu.Lock()
	p := a.peer
	a.peer = nil
	a.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		if p.peer == a {
			p.peer = nil
		}
		p.mu.Unlock()
	}
}

// Serve reads the peer's packets until the stream is closed: DTMF events are
// reported, audio is relayed to the bridged leg. Run it in its own goroutine.
func (s *Stream) Serve() {
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closed.Load() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		hl, err := h.Unmarshal(buf[:n])
		if err != nil || h.Version != 2 {
			continue // not RTP (RTCP is on the next port; stray packets are dropped)
		}
		s.lastRx.Store(time.Now().UnixNano())
		s.rxCount.Add(1)
		s.mu.Lock()
		if !s.latched {
			// Symmetric RTP (RFC 4961): send back where the peer sends from,
			// which is right behind a NAT and harmless on loopback.
			s.latched = true
			if from.IsValid() {
				s.remote = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
			}
		}
		dtmfPT, peer := s.dtmfPT, s.peer
		var digit byte
		if dtmfPT != 0 && h.PayloadType == dtmfPT {
			if ev, ok := ParseEvent(buf[hl:n]); ok && (!s.haveDTMF || s.lastDTMF != h.Timestamp) {
				s.haveDTMF, s.lastDTMF = true, h.Timestamp
				digit = Digit(ev.Code)
			}
		}
		s.mu.Unlock()
		if digit != 0 {
			if f := s.onDTMF.Load(); f != nil {
				(*f)(digit)
			}
		}
		if peer != nil {
			peer.relay(&h, buf[hl:n], dtmfPT)
		}
	}
}

// relay sends a packet from the other leg to our peer, continuing our own
// SSRC, sequence and timestamp line so the peer sees one stream from the
// moment it was answered (hold music, then the agent's voice).
func (s *Stream) relay(in *rtp.Header, payload []byte, inDTMF uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || !s.remote.IsValid() {
		return
	}
	pt := in.PayloadType
	if inDTMF != 0 && pt == inDTMF {
		if s.dtmfPT == 0 {
			return // the peer did not negotiate telephone-event
		}
		pt = s.dtmfPT
	} else if pt != PCMU && pt != PCMA {
		return // comfort noise and anything unknown is dropped
	} else if pt != s.pt {
		// The legs negotiated different laws: transcode (G.711 to G.711 is a table lookup).
		p := make([]byte, len(payload))
		for i, x := range payload {
			if pt == PCMU {
				p[i] = EncodeALaw(DecodeULaw(x))
			} else {
				p[i] = EncodeULaw(DecodeALaw(x))
			}
		}
		payload, pt = p, s.pt
	}
	marker := in.Marker
	if in.SSRC != s.inSSRC || s.play != nil {
		// A new source: rebase its timestamps onto ours.
		s.inSSRC = in.SSRC
		s.tsOffset = s.ts + SamplesPerPacket - in.Timestamp
		s.play = nil
		marker = true
	}
	s.ts = in.Timestamp + s.tsOffset
	s.write(rtp.Header{Version: 2, Marker: marker, PayloadType: pt, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc}, payload)
	s.seq++
}

// write sends one packet; s.mu is held.
func (s *Stream) write(h rtp.Header, payload []byte) {
	n, err := h.MarshalTo(s.buf)
	if err != nil {
		return
	}
	n += copy(s.buf[n:], payload)
	if _, err := s.conn.WriteToUDPAddrPort(s.buf[:n], s.remote); err == nil {
		s.txCount.Add(1)
	}
}

// SendDigit sends a DTMF digit as RFC 4733 events (3 packets, last with End).
func (s *Stream) SendDigit(d byte) error {
	code, ok := EventCode(d)
	if !ok {
		return fmt.Errorf("media: %q is not a DTMF digit", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dtmfPT == 0 || !s.remote.IsValid() {
		return fmt.Errorf("media: telephone-event not negotiated")
	}
	ts := s.ts + SamplesPerPacket
	for i := 0; i < 3; i++ {
		ev := Event{Code: code, End: i == 2, Volume: 10, Duration: uint16((i + 1) * SamplesPerPacket)}
		s.write(rtp.Header{Version: 2, Marker: i == 0, PayloadType: s.dtmfPT, SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc}, AppendEvent(nil, ev))
		s.seq++
	}
	return nil
}

// Close stops the stream and closes its socket.
func (s *Stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	Unbridge(s)
	if s.sched != nil {
		s.sched.remove(s)
	}
	return s.conn.Close()
}

// Closed reports whether Close was called.
func (s *Stream) Closed() bool { return s.closed.Load() }
