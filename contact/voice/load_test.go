package voice_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/contacthub/contacthub/contact/voice"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/pion/rtp"
	"golang.org/x/sys/unix"
)

// The load tests are measurements, not checks for CI: they run only with
// CONTACTHUB_VOICE_BENCH=1 (see docs/BENCHMARKS.md, "Voice channel").

func benchEnv(t *testing.T, name string, def int) int {
	t.Helper()
	if os.Getenv("CONTACTHUB_VOICE_BENCH") == "" {
		t.Skip("set CONTACTHUB_VOICE_BENCH=1 to run the voice load measurements")
	}
	needSipp(t)
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// rtpSink receives hold audio for many calls on one socket, per SSRC.
type rtpSink struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	last  map[uint32]time.Time
	jit   map[uint32]float64 // RFC 3550 interarrival jitter, ms
	devs  []float64          // |interval - 20 ms|, ms, inside the window
	from  time.Time
	until time.Time
	pkts  int
}

func newSink(t *testing.T) *rtpSink {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(16 << 20)
	s := &rtpSink{conn: c, last: map[uint32]time.Time{}, jit: map[uint32]float64{}}
	t.Cleanup(func() { c.Close() })
	// Arrival times are the kernel's (SO_TIMESTAMPNS), so a busy receiver
	// does not add its own scheduling delay to the measurement.
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) })
	}
	s.devs = make([]float64, 0, 1<<20)
	go func() {
		buf := make([]byte, 1500)
		oob := make([]byte, 128)
		var h rtp.Header
		for {
			n, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
			if err != nil {
				return
			}
			now := time.Now()
			if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range msgs {
					if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16 {
						ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
						now = time.Unix(ts.Unix())
					}
				}
			}
			if _, err := h.Unmarshal(buf[:n]); err != nil {
				continue
			}
			s.mu.Lock()
			if prev, ok := s.last[h.SSRC]; ok && now.After(s.from) && now.Before(s.until) {
				d := math.Abs(float64(now.Sub(prev))/1e6 - 20)
				s.devs = append(s.devs, d)
				s.jit[h.SSRC] += (d - s.jit[h.SSRC]) / 16
				s.pkts++
			}
			s.last[h.SSRC] = now
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *rtpSink) port() string { return strconv.Itoa(s.conn.LocalAddr().(*net.UDPAddr).Port) }

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	return xs[min(len(xs)-1, int(float64(len(xs))*p))]
}

var sippCounter = regexp.MustCompile(`(Successful call|Failed call)\s+\|\s+\d+\s+\|\s+(\d+)`)

func runSippLoad(t *testing.T, srv *voice.Server, args ...string) (ok, failed int, out string) {
	t.Helper()
	abs, _ := filepath.Abs(filepath.Join("testdata", "caller.xml"))
	all := append([]string{"-sf", abs, "-i", "127.0.0.1", "-nostdin", "-max_socket", "65000", "-timeout", "200s"}, args...)
	all = append(all, "127.0.0.1:"+strconv.Itoa(srv.Port()))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", all...)
	cmd.Dir = t.TempDir()
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	_ = cmd.Run()
	out = b.String()
	for _, m := range sippCounter.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		if m[1] == "Successful call" {
			ok = n
		} else {
			failed = n
		}
	}
	return ok, failed, out
}

// TestLoadCallRate: short calls at a fixed rate for a while: answered,
// queued, hold audio for 2 s, caller hangs up (abandon). Zero failures wanted.
func TestLoadCallRate(t *testing.T) {
	rate := benchEnv(t, "CONTACTHUB_VOICE_BENCH_RATE", 300)
	secs := benchEnv(t, "CONTACTHUB_VOICE_BENCH_SECS", 60)
	r := desktest.New(t, 1)
	srv := startServer(t, r, func(c *voice.Config, _ *voice.Server) {})
	sink := newSink(t)
	start := time.Now()
	ok, failed, out := runSippLoad(t, srv, "-r", strconv.Itoa(rate), "-m", strconv.Itoa(rate*secs), "-d", "2000",
		"-key", "from", "13800138000", "-key", "rtp_port", sink.port(), "-s", "4000")
	el := time.Since(start)
	t.Logf("rate %d cps for %d s: %d successful, %d failed, wall %v (%.1f calls/s achieved)", rate, secs, ok, failed, el.Round(time.Millisecond), float64(ok+failed)/el.Seconds())
	if failed > 0 || ok != rate*secs {
		t.Errorf("failures at %d cps:\n%s", rate, tail(out, 3000))
	}
	var abandoned int
	_ = r.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM contacts WHERE state = 'abandoned'`).Scan(&abandoned)
	t.Logf("contacts abandoned in the database: %d", abandoned)
}

// TestLoadHeldCalls: N calls on hold at once; hold RTP timing measured at
// the receiver over a 15 s window once all are up.
func TestLoadHeldCalls(t *testing.T) {
	n := benchEnv(t, "CONTACTHUB_VOICE_BENCH_HELD", 1000)
	r := desktest.New(t, 1)
	srv := startServer(t, r, func(c *voice.Config, _ *voice.Server) {})
	sink := newSink(t)
	ramp := time.Duration(n/200+1) * time.Second
	hold := ramp + 22*time.Second
	sink.mu.Lock()
	sink.from, sink.until = time.Now().Add(ramp+4*time.Second), time.Now().Add(ramp+19*time.Second)
	sink.mu.Unlock()
	ok, failed, out := runSippLoad(t, srv, "-r", "200", "-m", strconv.Itoa(n), "-l", strconv.Itoa(n), "-d", strconv.Itoa(int(hold/time.Millisecond)),
		"-key", "from", "13800138000", "-key", "rtp_port", sink.port(), "-s", "4000")
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var jits []float64
	for _, j := range sink.jit {
		jits = append(jits, j)
	}
	devs := append([]float64(nil), sink.devs...)
	t.Logf("%d held calls (%d ok, %d failed); %d streams measured, %d packet intervals in the window", n, ok, failed, len(jits), sink.pkts)
	t.Logf("RFC 3550 jitter per stream: p50 %.2f ms, p99 %.2f ms, max %.2f ms", pct(jits, .5), pct(jits, .99), pct(jits, 1))
	t.Logf("|interval-20ms|: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms", pct(devs, .5), pct(devs, .99), pct(devs, .999), pct(devs, 1))
	over := 0
	for _, d := range devs {
		if d > 10 {
			over++
		}
	}
	t.Logf("intervals off by more than 10 ms: %d of %d (%.3f%%)", over, len(devs), 100*float64(over)/math.Max(1, float64(len(devs))))
	if failed > 0 {
		t.Errorf("failed calls:\n%s", tail(out, 3000))
	}
	if len(jits) < n*95/100 {
		t.Errorf("only %d of %d streams received", len(jits), n)
	}
	_ = fmt.Sprint()
}
