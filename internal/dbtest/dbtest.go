// Package dbtest gives tests a real PostgreSQL: one private cluster per test
// package (started in TestMain by Main) and a fresh, migrated database per
// test (New), cloned from a template so it takes milliseconds. Nothing needs
// configuring; the cluster is started from the system's PostgreSQL binaries.
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		st := dbtest.New(t)
//		...
//	}
package dbtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/contacthub/contacthub/internal/pgdev"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/jackc/pgx/v5"
)

const template = "ch_template"

var (
	cluster *pgdev.Cluster
	mu      sync.Mutex // serialises CREATE/DROP DATABASE on admin
	admin   *pgx.Conn
	seq     atomic.Int64
)

// Main starts the package's cluster, runs the tests and stops it.
func Main(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	base, err := os.MkdirTemp("", "chpg")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	defer os.RemoveAll(base)
	// The postgres OS user must be able to reach the data directory.
	if err := os.Chmod(base, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	cluster, err = pgdev.Start(ctx, pgdev.Options{DataDir: filepath.Join(base, "pg"), Database: template, Fast: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	defer cluster.Stop()
	if err := store.Migrate(ctx, cluster.DSN(), nil); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	admin, err = pgx.Connect(ctx, cluster.DSNFor("postgres"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	defer admin.Close(ctx)
	return m.Run()
}

// DSN creates a fresh migrated database for t, dropped when t ends, and
// returns its connection string.
func DSN(t testing.TB) string {
	t.Helper()
	if cluster == nil {
		t.Fatal("dbtest: call dbtest.Main(m) from TestMain")
	}
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), seq.Add(1))
	ctx := context.Background()
	mu.Lock()
	_, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template+` STRATEGY FILE_COPY`)
	mu.Unlock()
	if err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if _, err := admin.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("dbtest: drop database: %v", err)
		}
	})
	return cluster.DSNFor(name)
}

// New returns a Store on a fresh migrated database, closed when t ends.
func New(t testing.TB) *store.Store {
	t.Helper()
	dsn := DSN(t)
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}
