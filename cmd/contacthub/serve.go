package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/demo"
	"golang.org/x/sync/errgroup"
)

func runServe(ctx context.Context, args []string) error {
	cfg, _, err := parseConfig("serve", args, (*config.Config).RegisterServeFlags)
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.close()
	log := e.log

	authn := auth.New(e.store, cfg.SessionTTL)
	customers := customer.New(e.store, cfg.DefaultRegion, customer.DefaultValueConfig(), log.With("component", "customer"))
	if cfg.Demo {
		if err := demo.SeedUsers(ctx, authn); err != nil {
			return err
		}
		if err := demo.SeedCustomers(ctx, e.store, 0, log); err != nil {
			return err
		}
	}

	a, err := assemble(ctx, cfg, e.store, authn, customers, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	httpSrv := &http.Server{Handler: a.web.Handler(), ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	for _, run := range a.runners {
		g.Go(func() error { return run(gctx) })
	}
	g.Go(func() error { // expire old sessions
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case now := <-t.C:
				if n, err := e.store.DeleteExpiredSessions(gctx, now); err != nil {
					log.Warn("expire sessions", "err", err)
				} else if n > 0 {
					log.Info("expired sessions removed", "count", n)
				}
			}
		}
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return httpSrv.Shutdown(sctx)
	})

	if cfg.PprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		pp := &http.Server{Addr: cfg.PprofAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error { _ = pp.ListenAndServe(); return nil })
		g.Go(func() error { <-gctx.Done(); return pp.Close() })
	}
	log.Info("contacthub listening", "url", cfg.BaseURL(), "http_addr", ln.Addr().String())
	if cfg.Demo {
		printDemo(cfg)
	}
	err = g.Wait()
	log.Info("contacthub stopped")
	return err
}

func printDemo(cfg config.Config) {
	fmt.Printf("\nContactHub is running at %s\n", cfg.BaseURL())
	fmt.Printf("  agent console:    %s/agent\n  supervisor board: %s/supervisor\n\n", cfg.BaseURL(), cfg.BaseURL())
	fmt.Printf("Demo logins (name / password / role):\n")
	for _, u := range demo.Users {
		fmt.Printf("  %-11s %-20s %s\n", u.Name, u.Password, u.Role)
	}
	fmt.Printf("\nStop with Ctrl-C.\n\n")
}
