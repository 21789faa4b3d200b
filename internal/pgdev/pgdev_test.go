package pgdev

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartStopKeepsData(t *testing.T) {
	base, err := os.MkdirTemp("", "chpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	defer os.RemoveAll(base)
	ctx := context.Background()
	opts := Options{DataDir: filepath.Join(base, "pg"), Fast: true}

	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Owned() {
		t.Fatal("first start should own the server")
	}
	conn, err := pgx.Connect(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// A second Start on the same data dir attaches instead of starting another server.
	c2, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Owned() {
		t.Fatal("second start should attach to the running server")
	}
	if c2.DSN() != c.DSN() {
		t.Fatalf("attached DSN %q, want %q", c2.DSN(), c.DSN())
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := running(opts.DataDir); ok {
		t.Fatal("server still running after Stop")
	}

	c3, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Stop()
	conn, err = pgx.Connect(ctx, c3.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != 42 {
		t.Fatalf("data not kept across restart: v=%d err=%v", v, err)
	}
}

func TestFindBinDirExplicitBad(t *testing.T) {
	t.Setenv("CONTACTHUB_PG_BIN", t.TempDir())
	if _, err := FindBinDir(); err == nil {
		t.Fatal("want error for a directory without binaries")
	}
}

func TestSocketDirShort(t *testing.T) {
	long := "/" + string(make([]byte, 0)) + filepath.Join("a", "very", "long", "path", "that", "goes", "on", "and", "on", "and", "on", "and", "on", "and", "on", "and", "on", "pg")
	for _, dd := range []string{"/tmp/x/pg", long + long} {
		if d := socketDirFor(dd); len(d)+len("/.s.PGSQL.5432") >= 100 {
			t.Errorf("socket dir %q too long", d)
		}
	}
}
