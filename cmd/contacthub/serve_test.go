package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles contacthub once for the package's tests.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "contacthub")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type server struct {
	cmd    *exec.Cmd
	addr   string
	output *syncBuf
	done   chan struct{}
}

// syncBuf collects the server's output from one goroutine while the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) WriteString(x string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(x)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t *testing.T, bin, dataDir string, extra ...string) *server {
	t.Helper()
	addr := freePort(t)
	args := append([]string{"serve", "-demo", "-data-dir", dataDir, "-http-addr", addr, "-sip-addr", "", "-smtp-addr", ""}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL=")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	s := &server{cmd: cmd, addr: addr, output: &syncBuf{}, done: make(chan struct{})}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() {
		for l := range lines {
			s.output.WriteString(l + "\n")
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); pw.Close(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("server exited during start-up:\n%s", s.output.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	t.Fatalf("server not ready after 60s:\n%s", s.output.String())
	return nil
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("server did not stop on SIGINT:\n%s", s.output.String())
	}
}

// postgresFor reports whether a postgres process serves dataDir.
func postgresFor(dataDir string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cl := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cl, "postgres") && strings.Contains(cl, dataDir) {
			return true
		}
	}
	return false
}

// TestServeLifecycle is the foundation's promise: the server starts on its
// own PostgreSQL, is ready, a CLI command reaches the same database while
// it runs, Ctrl-C leaves no postgres behind, and data survives a restart.
func TestServeLifecycle(t *testing.T) {
	base, err := os.MkdirTemp("", "chsrv")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	defer os.RemoveAll(base)
	bin := buildBinary(t, base)
	dataDir := filepath.Join(base, "var")

	s := startServer(t, bin, dataDir)
	if !strings.Contains(s.output.String(), "supervisor-demo-pw") {
		t.Errorf("demo credentials not printed:\n%s", s.output.String())
	}
	// A CLI command while the server runs attaches to its PostgreSQL.
	out, err := exec.Command(bin, "user", "add", "-data-dir", dataDir, "-role", "agent", "-name", "dave", "-password", "dave-password").CombinedOutput()
	if err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	s.stop(t)
	time.Sleep(200 * time.Millisecond)
	if postgresFor(dataDir) {
		t.Fatal("postgres still running after the server stopped")
	}

	s = startServer(t, bin, dataDir)
	defer s.stop(t)
	resp, err := http.Post("http://"+s.addr+"/api/v1/login", "application/json", strings.NewReader(`{"name":"dave","password":"dave-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login of user created before restart: %d", resp.StatusCode)
	}
}

func TestCLIErrors(t *testing.T) {
	base, err := os.MkdirTemp("", "chcli")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	bin := buildBinary(t, base)
	tests := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"bogus"}, nil, `unknown command "bogus"`},
		{[]string{"serve", "-http-addr", "nonsense"}, nil, "http address"},
		{[]string{"user"}, nil, "want a subcommand"},
		{[]string{"serve", "-data-dir", filepath.Join(base, "d")}, []string{"CONTACTHUB_PG_BIN=" + base}, "no initdb/postgres"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.CommandContext(context.Background(), bin, tc.args...)
			cmd.Env = append(append(os.Environ(), "DATABASE_URL="), tc.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("want failure, got success:\n%s", out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "contacthub ") {
		t.Fatalf("version: %v %s", err, out)
	}
	out, _ = exec.Command(bin, "serve", "--help").CombinedOutput()
	if !strings.Contains(string(out), "-http-addr") {
		t.Fatalf("serve --help lacks flags:\n%s", out)
	}
}
