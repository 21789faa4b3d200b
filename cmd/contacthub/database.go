package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/pgdev"
	"github.com/contacthub/contacthub/internal/store"
)

// env is what every subcommand works with.
type env struct {
	cfg     config.Config
	log     *slog.Logger
	store   *store.Store
	cluster *pgdev.Cluster // nil with DATABASE_URL
	dsn     string
}

// parseConfig reads the environment, then the subcommand's flags, and validates.
func parseConfig(name string, args []string, register func(*config.Config, *flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	cfg := config.FromEnv(os.Getenv)
	fs := flag.NewFlagSet("contacthub "+name, flag.ContinueOnError)
	register(&cfg, fs)
	if err := fs.Parse(args); err != nil {
		return cfg, fs, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fs, err
	}
	return cfg, fs, nil
}

// open connects to the database (starting the private cluster if needed)
// and applies migrations.
func open(ctx context.Context, cfg config.Config) (*env, error) {
	e := &env{cfg: cfg, log: cfg.Logger(), dsn: cfg.DatabaseURL}
	if e.dsn == "" {
		c, err := pgdev.Start(ctx, pgdev.Options{DataDir: cfg.PGDir(), Logger: e.log})
		if err != nil {
			return nil, err
		}
		e.cluster, e.dsn = c, c.DSN()
	}
	if err := store.Migrate(ctx, e.dsn, e.log); err != nil {
		e.close()
		return nil, err
	}
	st, err := store.Open(ctx, e.dsn)
	if err != nil {
		e.close()
		return nil, err
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		e.close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	e.store = st
	return e, nil
}

// close releases the pool and stops a private cluster this process started.
func (e *env) close() {
	if e.store != nil {
		e.store.Close()
	}
	if e.cluster != nil {
		_ = e.cluster.Stop()
	}
}
