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
	"github.com/contacthub/contacthub/internal/cluster"
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
	seed := func(ctx context.Context) error {
		if !cfg.Demo {
			return nil
		}
		if err := demo.SeedUsers(ctx, authn); err != nil {
			return err
		}
		return demo.SeedCustomers(ctx, e.store, 0, log)
	}

	// Clustered, the node wires everything but restores the desk, seeds and
	// runs the runners only once it holds the leader lock; until then the
	// gate answers 503 (docs/SCALING.md). Alone, nothing changes.
	var a *app
	var leader *cluster.Leader
	if cfg.Cluster {
		leader = cluster.New(cluster.Options{DSN: e.dsn, Advertise: cfg.BaseURL(), Log: log.With("component", "cluster")})
		defer leader.Release() // after g.Wait: the desk's last flush is done
		a, err = wire(ctx, cfg, e.store, authn, customers, log)
	} else if err = seed(ctx); err == nil {
		a, err = assemble(ctx, cfg, e.store, authn, customers, log)
	}
	if err != nil {
		return err
	}
	handler := a.web.Handler()
	if leader != nil {
		handler = leader.Gate(handler)
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	httpSrv := newHTTPServer(handler)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	runAll := func() {
		for _, run := range a.runners {
			g.Go(func() error { return run(gctx) })
		}
	}
	if leader == nil {
		runAll()
	} else {
		g.Go(func() error { return leader.Run(gctx) }) // ErrLost ends the process
		g.Go(func() error {
			log.Info("cluster: standby; waiting for the leader lock")
			if err := leader.Wait(gctx); err != nil {
				return nil // stopped while standby
			}
			if err := seed(gctx); err != nil {
				return err
			}
			if err := a.desk.Start(gctx); err != nil {
				return err
			}
			runAll()
			leader.MarkServing()
			log.Info("cluster: leader serving")
			return nil
		})
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

// newHTTPServer bounds what a client may hold: headers within 10 s and
// 64 KiB, a request within a minute (websockets clear their deadlines on
// upgrade), idle keep-alive connections for two minutes.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}
