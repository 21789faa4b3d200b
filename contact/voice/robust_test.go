package voice

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
)

// fakeDesk accepts every call and remembers what it was told.
type fakeDesk struct {
	contact.Desk
	next  contact.ID
	ended chan contact.ID
	err   error
}

func (d *fakeDesk) Accept(_ context.Context, a contact.Arrival) (contact.Contact, error) {
	if d.err != nil {
		return contact.Contact{}, d.err
	}
	d.next++
	return contact.Contact{ID: d.next, Channel: a.Channel, State: contact.Queued}, nil
}

func (d *fakeDesk) CustomerEnded(_ context.Context, id contact.ID) error {
	select {
	case d.ended <- id:
	default:
	}
	return nil
}

type noCreds struct{}

func (noCreds) Lookup(context.Context, string) (contact.AgentID, string, error) {
	return 0, "", ErrUnknownUser
}

func newTestServer(t testing.TB, d contact.Desk) *Server {
	return newTestServerCfg(t, d, Config{Addr: "127.0.0.1:0"})
}

func newTestServerCfg(t testing.TB, d contact.Desk, cfg Config) *Server {
	s, err := New(cfg, d, noCreds{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func exchange(t *testing.T, conn net.Conn, msg string) string {
	t.Helper()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func sipMsg(method, port string, extra ...string) string {
	lines := []string{
		method + " sip:4000@127.0.0.1:" + port + " SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"From: <sip:1000@127.0.0.1>;tag=a", "To: <sip:4000@127.0.0.1>", "Call-ID: c" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"CSeq: 1 " + method, "Max-Forwards: 70",
	}
	lines = append(lines, extra...)
	return strings.Join(lines, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
}

// TestOptionsAndMalformed: OPTIONS gets 200 over UDP and TCP; garbage and
// broken requests get a 4xx or nothing, and the server keeps serving.
func TestOptionsAndMalformed(t *testing.T) {
	s := newTestServer(t, &fakeDesk{ended: make(chan contact.ID, 1)})
	port := strconv.Itoa(s.Port())
	for _, network := range []string{"udp", "tcp"} {
		conn, err := net.Dial(network, "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if res := exchange(t, conn, sipMsg("OPTIONS", port)); !strings.HasPrefix(res, "SIP/2.0 200") {
			t.Fatalf("%s OPTIONS: %q", network, res)
		}
	}
	udp, _ := net.Dial("udp", "127.0.0.1:"+port)
	defer udp.Close()
	for _, bad := range []string{
		"\x00\x01garbage\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\n\r\n",
		sipMsg("INVITE", port), // no Contact, no SDP
		sipMsg("INVITE", port, "Contact: <sip:1000@127.0.0.1:9>", "Content-Type: application/sdp"),
		sipMsg("BYE", port),
		sipMsg("INFO", port),
		sipMsg("REGISTER", port, "Authorization: Digest nonsense"),
		sipMsg("REGISTER", port, `Authorization: Digest username="x", realm="contacthub", nonce="1.2", uri="sip:h", response="00"`),
	} {
		res := exchange(t, udp, bad)
		if res != "" && !strings.HasPrefix(res, "SIP/2.0 4") {
			t.Fatalf("%q → %q", bad[:20], res)
		}
	}
	if res := exchange(t, udp, sipMsg("OPTIONS", port)); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("server dead after malformed input: %q", res)
	}
}

// TestUnavailableDesk: the desk cannot commit: 503 with Retry-After.
func TestUnavailableDesk(t *testing.T) {
	s := newTestServer(t, &fakeDesk{err: contact.ErrUnavailable})
	port := strconv.Itoa(s.Port())
	conn, _ := net.Dial("udp", "127.0.0.1:"+port)
	defer conn.Close()
	body := sippOffer
	msg := strings.Replace(sipMsg("INVITE", port, "Contact: <sip:1000@127.0.0.1:9>", "Content-Type: application/sdp"),
		"Content-Length: 0\r\n\r\n", "Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body, 1)
	_, _ = conn.Write([]byte(msg))
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal("no final response")
		}
		res := string(buf[:n])
		if strings.HasPrefix(res, "SIP/2.0 100") {
			continue
		}
		if !strings.HasPrefix(res, "SIP/2.0 503") || !strings.Contains(res, "Retry-After: 30") {
			t.Fatalf("got %q", res)
		}
		return
	}
}

// FuzzHandlers feeds parsed requests straight to the handlers through a
// transaction recorder: no panic, whatever the request.
func FuzzHandlers(f *testing.F) {
	f.Add([]byte(sipMsg("OPTIONS", "5060")))
	f.Add([]byte(sipMsg("REGISTER", "5060", "Contact: *", "Expires: 0", `Authorization: Digest username="a", realm="contacthub", nonce="x.y", uri="sip:h", response="1", qop=auth, nc=00000001, cnonce="c"`)))
	f.Add([]byte(strings.Replace(sipMsg("INVITE", "5060", "Contact: <sip:1@127.0.0.1:9>", "Content-Type: application/sdp"), "Content-Length: 0\r\n\r\n", "Content-Length: "+strconv.Itoa(len(sippOffer))+"\r\n\r\n"+sippOffer, 1)))
	f.Add([]byte(sipMsg("INFO", "5060", "Content-Type: application/dtmf-relay")))
	f.Add([]byte(sipMsg("BYE", "5060")))
	s := newTestServerCfg(f, &fakeDesk{ended: make(chan contact.ID, 1)}, Config{Addr: "127.0.0.1:0", MediaTimeout: time.Second})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := sip.ParseMessage(b)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.Via() == nil || req.CSeq() == nil {
			return
		}
		if _, err := sip.ServerTxKeyMake(req); err != nil {
			return
		}
		tx := siptest.NewServerTxRecorder(req)
		defer tx.Terminate()
		switch req.Method {
		case sip.INVITE:
			// INVITE waits for an ACK; bound it.
			done := make(chan struct{})
			go func() { s.onInvite(req, tx); close(done) }()
			select {
			case <-done:
			case <-time.After(100 * time.Millisecond):
				tx.Terminate()
			}
		case sip.REGISTER:
			s.reg.handle(context.Background(), req, tx)
		case sip.BYE:
			s.onBye(req, tx)
		case sip.INFO:
			s.onInfo(req, tx)
		case sip.ACK:
			s.onAck(req, tx)
		}
	})
}
