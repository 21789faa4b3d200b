// Package cluster lets several ContactHub nodes share one PostgreSQL while
// routing stays single-writer: the node that holds a PostgreSQL session
// advisory lock is the leader and runs the desk; the others are standbys
// that wait for the lock (docs/SCALING.md).
//
// The lock lives on a dedicated connection, not a pool connection, so its
// lifetime is exactly the session's: when the leader's process dies, its
// socket closes, PostgreSQL ends the session and releases the lock, and a
// standby's next attempt (every Retry) takes it. A leader that loses its
// lock connection stops: Run returns ErrLost and the process is expected to
// exit and be restarted by its supervisor, since an in-memory routing engine
// that may be stale cannot be trusted to keep writing.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The lock is pg_try_advisory_lock(lockClass, lockDesk): the two-int4 form,
// so it never collides with goose's single-bigint migration lock.
const (
	lockClass int32 = 0x43480000 // "CH"
	lockDesk  int32 = 1
)

// appPrefix marks the lock connection in pg_stat_activity; the advertised
// URL follows it so standbys can name the leader.
const appPrefix = "contacthub-leader "

// Options configure a Leader.
type Options struct {
	// DSN of the shared database. Every node must use the same database:
	// advisory locks are per database.
	DSN string
	// Advertise is this node's URL as others should reach it (shown by
	// standbys as "leader is ..."). At most 63-len(appPrefix) bytes are
	// recorded; a longer URL is not advertised.
	Advertise string
	// Retry is how often a standby tries to take the lock (default 500 ms).
	Retry time.Duration
	// Ping is how often the leader checks its lock connection (default 1 s);
	// PingTimeout bounds each check (default 2 s).
	Ping        time.Duration
	PingTimeout time.Duration
	Log         *slog.Logger
}

// Leader campaigns for and holds the routing lock. Run it once; it is not
// reusable after it returns.
type Leader struct {
	o        Options
	acquired chan struct{}
	once     sync.Once
	leader   atomic.Bool
	serving  atomic.Bool
	hint     atomic.Pointer[string] // advertised URL of the current leader, as last seen

	mu   sync.Mutex
	held *pgx.Conn // the lock connection kept after an orderly stop, until Release
}

// New returns a Leader; nothing happens until Run.
func New(o Options) *Leader {
	if o.Retry <= 0 {
		o.Retry = 500 * time.Millisecond
	}
	if o.Ping <= 0 {
		o.Ping = time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	l := &Leader{o: o, acquired: make(chan struct{})}
	empty := ""
	l.hint.Store(&empty)
	return l
}

// IsLeader reports whether this node holds the lock and acts as leader
// (false again once Run has returned).
func (l *Leader) IsLeader() bool { return l.leader.Load() }

// MarkServing records that the node, as leader, has restored the desk and
// serves; the HTTP gate lets requests through from then on.
func (l *Leader) MarkServing() {
	if l.leader.Load() {
		l.serving.Store(true)
	}
}

// Serving reports whether the node is leader and has marked itself serving.
func (l *Leader) Serving() bool { return l.leader.Load() && l.serving.Load() }

// Current is the advertised URL of the leader as this node last saw it:
// its own when leader, "" when unknown.
func (l *Leader) Current() string {
	if l.leader.Load() {
		return l.o.Advertise
	}
	return *l.hint.Load()
}

// Wait blocks until this node is leader or ctx ends.
func (l *Leader) Wait(ctx context.Context) error {
	select {
	case <-l.acquired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run campaigns until the lock is taken, then holds it until ctx ends
// (returns nil) or the lock connection fails (returns ErrLost). After an
// orderly stop the lock stays held until Release, so the node can finish
// its last writes (the desk's final flush) before another node restores.
func (l *Leader) Run(ctx context.Context) error {
	var conn *pgx.Conn
	lost := false
	defer func() {
		wasLeader := l.leader.Swap(false)
		l.serving.Store(false)
		if conn == nil {
			return
		}
		if wasLeader && !lost {
			l.mu.Lock()
			l.held = conn
			l.mu.Unlock()
			return
		}
		closeConn(conn)
	}()
	failures := 0
	for {
		got, err := l.attempt(ctx, &conn)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// Log the first failure and then every 20th, not each retry.
			if failures%20 == 0 {
				l.o.Log.Warn("cluster: leader lock attempt failed", "err", err)
			}
			failures++
			if conn != nil {
				closeConn(conn)
				conn = nil
			}
		} else if got {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(l.o.Retry):
		}
	}
	l.leader.Store(true)
	l.once.Do(func() { close(l.acquired) })
	l.o.Log.Info("cluster: this node is the leader", "advertise", l.o.Advertise)

	t := time.NewTicker(l.o.Ping)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, l.o.PingTimeout)
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			lost = true
			l.leader.Store(false)
			l.serving.Store(false)
			l.o.Log.Error("cluster: lock connection lost; stepping down", "err", err)
			return fmt.Errorf("%w: %v", ErrLost, err)
		}
	}
}

// Release gives up the lock after Run has returned from an orderly stop:
// call it once everything this node writes has stopped. It is a no-op
// otherwise; the lock also goes when the process exits.
func (l *Leader) Release() {
	l.mu.Lock()
	c := l.held
	l.held = nil
	l.mu.Unlock()
	if c != nil {
		closeConn(c)
		l.o.Log.Info("cluster: leader lock released")
	}
}

// closeConn ends the session, which releases any lock it holds.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// attempt (re)connects if needed, tries the lock once and, when another
// node holds it, records that node's advertised URL.
func (l *Leader) attempt(ctx context.Context, conn **pgx.Conn) (bool, error) {
	if *conn == nil {
		c, err := l.connect(ctx)
		if err != nil {
			return false, err
		}
		*conn = c
	}
	qctx, cancel := context.WithTimeout(ctx, l.o.PingTimeout)
	defer cancel()
	var got bool
	if err := (*conn).QueryRow(qctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClass, lockDesk).Scan(&got); err != nil {
		return false, fmt.Errorf("cluster: try lock: %w", err)
	}
	if got {
		return true, nil
	}
	var app string
	err := (*conn).QueryRow(qctx, `
		SELECT a.application_name
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2`,
		int64(lockClass), int64(lockDesk)).Scan(&app)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		app = "" // released between the two queries
	case err != nil:
		return false, fmt.Errorf("cluster: find leader: %w", err)
	}
	hint := ""
	if len(app) > len(appPrefix) && app[:len(appPrefix)] == appPrefix {
		hint = app[len(appPrefix):]
	}
	l.hint.Store(&hint)
	return false, nil
}

// connect opens the dedicated lock connection. Keepalives are set on both
// ends so a leader machine that vanishes without closing its socket (power
// loss, partition) is noticed by PostgreSQL in about 11 s rather than the
// operating system's default two hours, and the lock is released.
func (l *Leader) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(l.o.DSN)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	app := "contacthub-standby"
	if a := appPrefix + l.o.Advertise; l.o.Advertise != "" && len(a) <= 63 {
		app = a
	}
	cfg.RuntimeParams["application_name"] = app
	// Server side (ignored on Unix sockets): keepalive probes after 5 s idle,
	// every 2 s, 3 lost probes end the session; unacknowledged data for 10 s too.
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	cfg.RuntimeParams["tcp_user_timeout"] = "10000"
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	d := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}}
	cfg.DialFunc = d.DialContext
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect: %w", err)
	}
	return c, nil
}
