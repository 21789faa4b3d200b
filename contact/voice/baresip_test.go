package voice_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/desktest"
)

// TestBaresipAgentPhone: baresip, configured in a temporary directory with
// no sound card (sine-wave source, auto-answer), registers as agent1's
// phone with digest auth and answers the call the desk connects.
func TestBaresipAgentPhone(t *testing.T) {
	needSipp(t)
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Fatal("baresip not installed (apt-get install -y baresip; .ci/run does)")
	}
	r := desktest.New(t, 1)
	srv := startServer(t, r, nil)
	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_source aufile,%s
audio_player aufile,%s
rtp_ports 30000-40000
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module_app account.so
module_app menu.so
`, port, filepath.Join(dir, "tone.wav"), filepath.Join(dir, "heard.wav"))
	writePCMWAV(t, filepath.Join(dir, "tone.wav"), 8000*20)
	acc := fmt.Sprintf("<sip:agent1@127.0.0.1:%d;transport=udp>;auth_pass=%s;answermode=auto;regint=300;audio_codecs=PCMU,PCMA\n", srv.Port(), agentPass)
	for name, body := range map[string]string{"config": conf, "accounts": acc, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "baresip", "-f", dir, "-t", "30")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for !srv.Registered(r.Agents[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not register:\n%s", tail(out.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	caller := newRTPPeer(t)
	call := sipp(t, srv, "caller_wait.xml", "-key", "from", "13800138000", "-key", "rtp_port", caller.port())
	caller.waitFirst(t)
	r.Available(t, r.Agents[0])
	of := r.NextOffer(t, r.Agents[0])
	r.Accept(t, r.Agents[0], of)
	deadline = time.Now().Add(10 * time.Second)
	for {
		st, _, _ := srv.CallState(of.Contact.ID)
		if st == "talking" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call state %q, baresip did not answer:\n%s", st, tail(out.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// baresip's sine reaches the caller through the bridge.
	before := len(caller.packets())
	time.Sleep(time.Second)
	if got := len(caller.packets()) - before; got < 30 {
		t.Fatalf("caller got %d packets in 1 s of talk", got)
	}
	if _, err := r.Desk.End(context.Background(), r.Agents[0], of.Contact.ID); err != nil {
		t.Fatal(err)
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
}

// writePCMWAV writes n samples of a 440 Hz tone, 8 kHz 16-bit mono.
func writePCMWAV(t *testing.T, path string, n int) {
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for i := 0; i < n; i++ {
		_ = binary.Write(&b, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*440*float64(i)/8000)))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
