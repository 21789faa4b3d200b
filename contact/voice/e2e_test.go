package voice_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/voice"
	"github.com/contacthub/contacthub/contact/voice/media"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/pion/rtp"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const agentPass = "s3cret-phone"

// memCreds is voice.Credentials in memory.
type memCreds map[string]contact.AgentID

func (m memCreds) Lookup(_ context.Context, user string) (contact.AgentID, string, error) {
	a, ok := m[user]
	if !ok {
		return 0, "", voice.ErrUnknownUser
	}
	return a, voice.HA1(user, "contacthub", agentPass), nil
}

func testLog() *slog.Logger {
	if os.Getenv("CONTACTHUB_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer runs the voice channel on a random loopback port with the rig's desk.
func startServer(t *testing.T, r *desktest.Rig, mod func(*voice.Config, *voice.Server)) *voice.Server {
	t.Helper()
	return startServerWith(t, r, nil, mod)
}

func startServerCfg(t *testing.T, r *desktest.Rig, cfgMod func(*voice.Config)) *voice.Server {
	t.Helper()
	return startServerWith(t, r, cfgMod, nil)
}

func startServerWith(t *testing.T, r *desktest.Rig, cfgMod func(*voice.Config), mod func(*voice.Config, *voice.Server)) *voice.Server {
	t.Helper()
	cfg := voice.Config{Addr: "127.0.0.1:0", MediaTimeout: 30 * time.Second, RingTimeout: 5 * time.Second, CallbackDigit: "1", SurveyTimeout: 3 * time.Second}
	var s *voice.Server
	creds := memCreds{}
	for i, a := range r.Agents {
		creds[fmt.Sprintf("agent%d", i+1)] = a
	}
	if cfgMod != nil {
		cfgMod(&cfg)
	}
	s, err := voice.New(cfg, r.Desk, creds, testLog())
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(&cfg, s)
	}
	r.Desk.Register(contact.Voice, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func needSipp(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp not installed (apt-get install -y sip-tester; .ci/run does)")
	}
}

// sipp runs a scenario from testdata against the server; wait for it with the returned func.
func sipp(t *testing.T, srv *voice.Server, scenario string, args ...string) func() error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	abs, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	errFile := filepath.Join(t.TempDir(), "err.log")
	all := append([]string{"-sf", abs, "-i", "127.0.0.1", "-m", "1", "-nostdin",
		"-trace_err", "-error_file", errFile}, args...)
	all = append(all, "127.0.0.1:"+strconv.Itoa(srv.Port()))
	cmd := exec.CommandContext(ctx, "sipp", all...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	var werr error
	wait := func() error {
		once.Do(func() {
			werr = cmd.Wait()
			cancel()
			if werr != nil {
				b, _ := os.ReadFile(errFile)
				werr = fmt.Errorf("sipp %s: %v\n%s\n%s", scenario, werr, tail(out.String(), 1500), tail(string(b), 1500))
			}
		})
		return werr
	}
	t.Cleanup(func() { cancel(); _ = wait() })
	return wait
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// rtpPeer is a test endpoint's RTP socket: it records what arrives and can
// send audio or DTMF back to whoever sent to it (our media socket).
type rtpPeer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []rxPacket
	from netip.AddrPort
	got  chan struct{}
}

type rxPacket struct {
	at time.Time
	h  rtp.Header
}

func newRTPPeer(t *testing.T) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: c, got: make(chan struct{})}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		first := true
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var pk rtp.Packet
			if pk.Unmarshal(buf[:n]) != nil {
				continue
			}
			p.mu.Lock()
			p.pkts = append(p.pkts, rxPacket{time.Now(), pk.Header})
			p.from = from
			p.mu.Unlock()
			if first {
				first = false
				close(p.got)
			}
		}
	}()
	return p
}

func (p *rtpPeer) port() string { return strconv.Itoa(p.conn.LocalAddr().(*net.UDPAddr).Port) }

func (p *rtpPeer) packets() []rxPacket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rxPacket(nil), p.pkts...)
}

func (p *rtpPeer) waitFirst(t *testing.T) netip.AddrPort {
	t.Helper()
	select {
	case <-p.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no RTP arrived")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.from
}

// talk sends 20 ms PCMU packets to to until stop is closed.
func (p *rtpPeer) talk(to netip.AddrPort, ssrc uint32, stop <-chan struct{}) {
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	h := rtp.Header{Version: 2, PayloadType: 0, SSRC: ssrc}
	payload := bytes.Repeat([]byte{0xd5}, 160)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tk.C:
		}
		h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*160)
		b, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		_, _ = p.conn.WriteToUDPAddrPort(b, to)
	}
}

// sendDigit sends an RFC 4733 event for d (payload type 101) to to.
func (p *rtpPeer) sendDigit(to netip.AddrPort, d byte) {
	code, _ := media.EventCode(d)
	for i := 0; i < 3; i++ {
		h := rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: uint16(1000 + i), Timestamp: 99999, SSRC: 42, Marker: i == 0}
		b, _ := (&rtp.Packet{Header: h, Payload: media.AppendEvent(nil, media.Event{Code: code, End: i == 2, Volume: 10, Duration: uint16(160 * (i + 1))})}).Marshal()
		_, _ = p.conn.WriteToUDPAddrPort(b, to)
		time.Sleep(20 * time.Millisecond)
	}
}

func lastContactState(t *testing.T, r *desktest.Rig, callID string) string {
	t.Helper()
	var st string
	q := `SELECT state FROM contacts WHERE channel = 'voice' ORDER BY id DESC LIMIT 1`
	if err := r.Store.Pool.QueryRow(context.Background(), q).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitState polls until the newest voice contact is in want.
func waitState(t *testing.T, r *desktest.Rig, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := lastContactState(t, r, "")
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("contact state %q, want %q", st, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkHoldStream: one SSRC, sequence +1 and timestamp +160 per packet, ~20 ms apart.
func checkHoldStream(t *testing.T, pk []rxPacket, min int) {
	t.Helper()
	if len(pk) < min {
		t.Fatalf("%d hold packets, want at least %d", len(pk), min)
	}
	for i := 1; i < len(pk); i++ {
		a, b := pk[i-1].h, pk[i].h
		if b.SSRC != a.SSRC || b.SequenceNumber != a.SequenceNumber+1 || b.Timestamp != a.Timestamp+160 || b.PayloadType != 0 {
			t.Fatalf("packet %d: ssrc %d→%d seq %d→%d ts %d→%d pt %d", i, a.SSRC, b.SSRC, a.SequenceNumber, b.SequenceNumber, a.Timestamp, b.Timestamp, b.PayloadType)
		}
	}
	span := pk[len(pk)-1].at.Sub(pk[0].at)
	per := span / time.Duration(len(pk)-1)
	if per < 15*time.Millisecond || per > 25*time.Millisecond {
		t.Fatalf("mean packet interval %v, want 20ms", per)
	}
}

// TestCallQueuedWithHoldAudioThenAbandoned: sipp calls with zero
// configuration, is answered and queued, hears hold audio (RTP with
// correct seq/timestamp/SSRC every 20 ms), hangs up: the contact is abandoned.
func TestCallQueuedWithHoldAudioThenAbandoned(t *testing.T) {
	needSipp(t)
	r := desktest.New(t, 1)
	srv := startServer(t, r, nil)
	caller := newRTPPeer(t)
	wait := sipp(t, srv, "caller.xml", "-s", "4000", "-d", "1500", "-key", "from", "13800138000", "-key", "rtp_port", caller.port())
	caller.waitFirst(t)
	var id contact.ID
	if err := r.Store.Pool.QueryRow(context.Background(), `SELECT id FROM contacts ORDER BY id DESC LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if st, _, ok := srv.CallState(id); !ok || st != voice.StateHeld {
		t.Fatalf("call state %q %v, want held", st, ok)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	checkHoldStream(t, caller.packets(), 50)
	waitState(t, r, "abandoned")
	if _, _, ok := srv.CallState(id); ok {
		t.Fatal("call still known after BYE")
	}
}

// registerAgent starts the agent phone's UAS scenario and registers it with digest auth.
func registerAgent(t *testing.T, srv *voice.Server, user, uas string, args ...string) func() error {
	t.Helper()
	port := freePort(t)
	phone := sipp(t, srv, uas, append([]string{"-p", strconv.Itoa(port)}, args...)...)
	reg := sipp(t, srv, "agent_register.xml", "-key", "user", user, "-au", user, "-ap", agentPass, "-key", "contact_port", strconv.Itoa(port), "-key", "expires", "300")
	if err := reg(); err != nil {
		t.Fatal(err)
	}
	return phone
}

// TestAgentAnswersBridgedThenHangsUp: a queued caller is offered to an
// agent, who accepts; Connect rings the agent's sipp phone (registered with
// digest auth), which answers; the caller's RTP reaches the agent and the
// agent's reaches the caller; the agent hangs up: the caller gets BYE and
// the contact goes to wrap-up.
func TestAgentAnswersBridgedThenHangsUp(t *testing.T) {
	needSipp(t)
	r := desktest.New(t, 1)
	srv := startServer(t, r, nil)
	agentRTP := newRTPPeer(t)
	phone := registerAgent(t, srv, "agent1", "agent_answer.xml", "-d", "1500", "-key", "rtp_port", agentRTP.port())
	if !srv.Registered(r.Agents[0]) {
		t.Fatal("agent phone not registered")
	}
	caller := newRTPPeer(t)
	call := sipp(t, srv, "caller_wait.xml", "-s", "4000", "-key", "from", "13800138000", "-key", "rtp_port", caller.port())
	ours := caller.waitFirst(t)
	stop := make(chan struct{})
	defer close(stop)
	go caller.talk(ours, 0xca11e4, stop)

	r.Available(t, r.Agents[0])
	of := r.NextOffer(t, r.Agents[0])
	r.Accept(t, r.Agents[0], of)
	agentSide := agentRTP.waitFirst(t)
	go agentRTP.talk(agentSide, 0xa9e47, stop)
	time.Sleep(500 * time.Millisecond)
	if st, _, _ := srv.CallState(of.Contact.ID); st != voice.StateTalking {
		t.Fatalf("call state %q, want talking", st)
	}
	// Relayed packets carry the agent leg's own SSRC (we re-stamp), so count them all.
	if n := len(agentRTP.packets()); n < 10 {
		t.Fatalf("agent received %d of the caller's packets", n)
	}
	if err := phone(); err != nil {
		t.Fatal(err)
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
	// The agent's voice reached the caller, re-stamped as our stream (one SSRC throughout).
	pk := caller.packets()
	ssrcs := map[uint32]bool{}
	for _, p := range pk {
		ssrcs[p.h.SSRC] = true
	}
	if len(ssrcs) != 1 || len(pk) < 60 {
		t.Fatalf("caller got %d packets with %d SSRCs", len(pk), len(ssrcs))
	}
	waitState(t, r, "wrapup")
}

// TestAgentPhoneBusy: the agent's phone answers 486: OnAgentLegFailed is
// told, the caller stays on hold; the desk's Hangup then BYEs the caller.
func TestAgentPhoneBusyThenHangup(t *testing.T) {
	needSipp(t)
	r := desktest.New(t, 1)
	failed := make(chan string, 1)
	srv := startServer(t, r, func(_ *voice.Config, s *voice.Server) {
		s.OnAgentLegFailed = func(_ context.Context, c contact.Contact, a contact.AgentID, reason string) { failed <- reason }
	})
	registerAgent(t, srv, "agent1", "agent_busy.xml")
	caller := newRTPPeer(t)
	call := sipp(t, srv, "caller_wait.xml", "-s", "4000", "-key", "from", "13800138000", "-key", "rtp_port", caller.port())
	caller.waitFirst(t)
	r.Available(t, r.Agents[0])
	of := r.NextOffer(t, r.Agents[0])
	r.Accept(t, r.Agents[0], of)
	select {
	case reason := <-failed:
		if reason != "busy" {
			t.Fatalf("reason %q, want busy", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnAgentLegFailed not called")
	}
	if st, _, _ := srv.CallState(of.Contact.ID); st != voice.StateHeld {
		t.Fatalf("call state %q after a busy agent, want held", st)
	}
	if _, err := r.Desk.End(context.Background(), r.Agents[0], of.Contact.ID); err != nil {
		t.Fatal(err)
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
}

// TestCallbackByDTMF: a waiting caller presses 1 (SIP INFO, and RFC 4733 in
// RTP): OnCallback is called with the contact and the line is released.
func TestCallbackByDTMF(t *testing.T) {
	needSipp(t)
	for _, how := range []string{"info", "rfc4733"} {
		t.Run(how, func(t *testing.T) {
			r := desktest.New(t, 1)
			asked := make(chan contact.ID, 1)
			srv := startServer(t, r, func(_ *voice.Config, s *voice.Server) {
				s.OnCallback = func(_ context.Context, id contact.ID) error { asked <- id; return nil }
			})
			caller := newRTPPeer(t)
			var call func() error
			if how == "info" {
				call = sipp(t, srv, "caller_info.xml", "-d", "500", "-key", "digit", "1", "-key", "from", "13800138000", "-key", "rtp_port", caller.port())
				caller.waitFirst(t)
			} else {
				call = sipp(t, srv, "caller_wait.xml", "-key", "from", "13800138000", "-key", "rtp_port", caller.port())
				caller.sendDigit(caller.waitFirst(t), '1')
			}
			select {
			case id := <-asked:
				if id == 0 {
					t.Fatal("callback for contact 0")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("OnCallback not called")
			}
			if err := call(); err != nil {
				t.Fatal(err)
			}
			if st := lastContactState(t, r, ""); st == "abandoned" {
				t.Fatal("a callback request was counted as abandoned")
			}
		})
	}
}

// TestGoldBeforeBronze: a bronze caller waits, then a gold caller calls;
// the one agent's first offer is the gold caller.
func TestGoldBeforeBronze(t *testing.T) {
	needSipp(t)
	r := desktest.New(t, 1)
	r.SeedDemoCustomers(t, 200)
	srv := startServer(t, r, nil)
	bronze, gold := newRTPPeer(t), newRTPPeer(t)
	sipp(t, srv, "caller_wait.xml", "-key", "from", "+8613700137000", "-key", "rtp_port", bronze.port())
	bronze.waitFirst(t)
	time.Sleep(300 * time.Millisecond)
	sipp(t, srv, "caller_wait.xml", "-key", "from", "+8613900139000", "-key", "rtp_port", gold.port())
	gold.waitFirst(t)
	r.Available(t, r.Agents[0])
	of := r.NextOffer(t, r.Agents[0])
	if of.Profile == nil || of.Profile.Tier != "gold" {
		t.Fatalf("first offer %+v (profile %+v), want the gold caller", of.Contact.From, of.Profile)
	}
}

// TestPostCallSurvey: with the survey on, the agent hangs up, the caller
// hears the prompt and presses 4 (SIP INFO): the rating is stored, then BYE.
func TestPostCallSurvey(t *testing.T) {
	needSipp(t)
	r := desktest.New(t, 1)
	srv := startServerCfg(t, r, func(c *voice.Config) { c.Survey = true })
	agentRTP := newRTPPeer(t)
	phone := registerAgent(t, srv, "agent1", "agent_answer.xml", "-d", "500", "-key", "rtp_port", agentRTP.port())
	caller := newRTPPeer(t)
	call := sipp(t, srv, "caller_info.xml", "-d", "2500", "-key", "digit", "4", "-key", "from", "13800138000", "-key", "rtp_port", caller.port())
	caller.waitFirst(t)
	r.Available(t, r.Agents[0])
	of := r.NextOffer(t, r.Agents[0])
	r.Accept(t, r.Agents[0], of)
	if err := phone(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, _, _ := srv.CallState(of.Contact.ID)
		if st == voice.StateSurvey {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %q after the agent left, want survey", st)
		}
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
	var csat int
	if err := r.Store.Pool.QueryRow(context.Background(), `SELECT csat FROM feedback WHERE contact_id = $1`, of.Contact.ID).Scan(&csat); err != nil || csat != 4 {
		t.Fatalf("feedback csat %d, %v; want 4", csat, err)
	}
}
