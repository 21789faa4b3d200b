// Package pgdev runs a private PostgreSQL cluster from the system's
// PostgreSQL binaries. It is what ContactHub uses when DATABASE_URL is not
// set, and what the tests use for one cluster per test package.
//
// The cluster listens on a Unix socket only (no TCP), in a directory next to
// the data directory. When the process runs as root, initdb and postgres are
// run as the "postgres" OS user, since both refuse to run as root.
package pgdev

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("pgdev: no PostgreSQL server binaries found (looked in $CONTACTHUB_PG_BIN, /usr/lib/postgresql/*/bin, `pg_config --bindir` and $PATH); install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to use an existing server")

// Options configure a cluster.
type Options struct {
	// DataDir holds the cluster (PGDATA). Created if missing.
	DataDir string
	// SocketDir is where the Unix socket lives. Empty: chosen next to DataDir,
	// or under the system temp dir when that path would be too long for a socket.
	SocketDir string
	// Database is created if missing. Default "contacthub".
	Database string
	// Fast trades durability for speed (fsync off): for tests only.
	Fast bool
	// Logger receives progress messages. Nil: discarded.
	Logger *slog.Logger
}

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	opts   Options
	bin    string
	cmd    *exec.Cmd // nil when attached to a server someone else started
	done   chan error
	socket string
	port   int
}

const defaultPort = 5432

// FindBinDir returns the directory holding initdb and postgres.
func FindBinDir() (string, error) {
	if d := os.Getenv("CONTACTHUB_PG_BIN"); d != "" {
		if hasServer(d) {
			return d, nil
		}
		return "", fmt.Errorf("pgdev: CONTACTHUB_PG_BIN=%s has no initdb/postgres: %w", d, ErrNoBinaries)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if hasServer(d) {
			return d, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if hasServer(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		d := filepath.Dir(p)
		if hasServer(d) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(dir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
	return v
}

func hasServer(dir string) bool {
	for _, b := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// Start initialises the cluster if needed and starts it, or attaches to the
// server already running on DataDir (for example the one `contacthub serve`
// started). Stop stops only a server this call started.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Database == "" {
		o.Database = "contacthub"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dd, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgdev: data dir: %w", err)
	}
	o.DataDir = dd
	c := &Cluster{opts: o, port: defaultPort}

	// A server of a previous run may still be shutting down (its parent was
	// killed) or starting: wait for it to settle either way.
	for deadline := time.Now().Add(60 * time.Second); busy(dd) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if sock, port, ok := running(dd); ok {
		c.socket, c.port = sock, port
		o.Logger.Info("using running private PostgreSQL", "data_dir", dd, "socket_dir", sock)
		if err := c.ensureDatabase(ctx); err != nil {
			return nil, err
		}
		return c, nil
	}

	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	c.bin = bin
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dd), 0o755); err != nil {
		return nil, fmt.Errorf("pgdev: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dd, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx, cred); err != nil {
			return nil, err
		}
	}
	c.socket = o.SocketDir
	if c.socket == "" {
		c.socket = socketDirFor(dd)
	}
	if err := mkdirOwned(c.socket, 0o700, cred); err != nil {
		return nil, err
	}
	if err := c.start(ctx, cred); err != nil {
		return nil, err
	}
	if err := c.ensureDatabase(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// socketDirFor keeps the socket path under the 107-byte limit of sun_path.
func socketDirFor(dataDir string) string {
	d := filepath.Join(filepath.Dir(dataDir), "run")
	if len(d)+len("/.s.PGSQL.5432") < 100 {
		return d
	}
	h := sha256.Sum256([]byte(dataDir))
	return filepath.Join(os.TempDir(), "contacthub-pg-"+hex.EncodeToString(h[:4]))
}

// busy reports whether a live postmaster owns dataDir but is not ready
// (starting or stopping).
func busy(dataDir string) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	return len(lines) < 8 || strings.TrimSpace(lines[7]) != "ready"
}

// running reads postmaster.pid and reports the socket dir and port of a live server.
func running(dataDir string) (string, int, bool) {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return "", 0, false
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	// Lines: pid, data dir, start time, port, socket dir, listen addr, shmem key, status.
	if len(lines) < 8 || strings.TrimSpace(lines[7]) != "ready" {
		return "", 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return "", 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return "", 0, false
	}
	sock := strings.TrimSpace(lines[4])
	if _, err := os.Stat(filepath.Join(sock, fmt.Sprintf(".s.PGSQL.%d", port))); err != nil {
		return "", 0, false
	}
	return sock, port, true
}

// credential returns the postgres OS user's credential when we are root.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgdev: running as root and there is no \"postgres\" OS user to run PostgreSQL as (initdb and postgres refuse root): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func mkdirOwned(dir string, mode os.FileMode, cred *syscall.Credential) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("pgdev: %w", err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("pgdev: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("pgdev: chown %s: %w", dir, err)
		}
	}
	return nil
}

func (c *Cluster) command(ctx context.Context, cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = filepath.Dir(c.opts.DataDir)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	return cmd
}

func (c *Cluster) initdb(ctx context.Context, cred *syscall.Credential) error {
	c.opts.Logger.Info("initialising private PostgreSQL cluster", "data_dir", c.opts.DataDir, "bin_dir", c.bin)
	if err := mkdirOwned(c.opts.DataDir, 0o700, cred); err != nil {
		return err
	}
	cmd := c.command(ctx, cred, "initdb", "-D", c.opts.DataDir, "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgdev: initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (c *Cluster) logPath() string {
	return filepath.Join(filepath.Dir(c.opts.DataDir), "postgres.log")
}

func (c *Cluster) start(ctx context.Context, cred *syscall.Credential) error {
	args := []string{"-D", c.opts.DataDir, "-k", c.socket, "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=", "-c", "max_connections=200"}
	if c.opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "shared_buffers=64MB")
	}
	logf, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgdev: log file: %w", err)
	}
	// Not CommandContext: the server must outlive the start-up context.
	cmd := c.command(context.Background(), cred, "postgres", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// If we die without stopping it (SIGKILL), the kernel stops PostgreSQL
	// with a fast shutdown instead of leaving it behind.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgdev: start postgres: %w", err)
	}
	c.cmd = cmd
	c.done = make(chan error, 1)
	go func() { c.done <- cmd.Wait(); logf.Close() }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			c.opts.Logger.Info("private PostgreSQL started", "pid", cmd.Process.Pid, "socket_dir", c.socket)
			return nil
		}
		select {
		case werr := <-c.done:
			c.cmd = nil
			return fmt.Errorf("pgdev: postgres exited during start-up (%v); log %s:\n%s", werr, c.logPath(), tail(c.logPath(), 20))
		case <-ctx.Done():
			c.Stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return fmt.Errorf("pgdev: postgres not ready after 60s; log %s:\n%s", c.logPath(), tail(c.logPath(), 20))
		}
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return fmt.Errorf("pgdev: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, c.opts.Database).Scan(&exists); err != nil {
		return fmt.Errorf("pgdev: check database: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{c.opts.Database}.Sanitize()); err != nil {
			return fmt.Errorf("pgdev: create database: %w", err)
		}
	}
	return nil
}

func (c *Cluster) dsn(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.socket, c.port, db)
}

// DSN is the connection string of the cluster's database.
func (c *Cluster) DSN() string { return c.dsn(c.opts.Database) }

// DSNFor is the connection string of another database on the cluster.
func (c *Cluster) DSNFor(db string) string { return c.dsn(db) }

// Owned reports whether this process started the server.
func (c *Cluster) Owned() bool { return c.cmd != nil }

// Stop shuts down a server this process started (fast shutdown: sessions
// are disconnected, committed data is safe) and waits for it to exit.
func (c *Cluster) Stop() error {
	if c.cmd == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	c.cmd = nil
	c.opts.Logger.Info("private PostgreSQL stopped", "data_dir", c.opts.DataDir)
	return nil
}
