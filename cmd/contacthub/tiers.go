package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/demo"
)

// runTiers recomputes every customer's value figures and tier. Hidden
// benchmark flags: -bench-generate N [-bench-orders M] first generates N
// customers and M orders (use an empty -data-dir), then times the
// recomputation and Resolve + Profile lookups.
func runTiers(ctx context.Context, args []string) error {
	var cfgPath string
	var benchN, benchOrders, lookups, workers int
	cfg, _, err := parseConfig("tiers", args, func(c *config.Config, fs *flag.FlagSet) {
		c.RegisterDatabaseFlags(fs)
		fs.StringVar(&cfgPath, "value-config", "", "JSON file overriding the value model defaults (customer.ValueConfig)")
		fs.IntVar(&benchN, "bench-generate", 0, "benchmark: generate this many customers first (hidden)")
		fs.IntVar(&benchOrders, "bench-orders", 0, "benchmark: orders to generate (default 10 per customer)")
		fs.IntVar(&lookups, "bench-lookups", 10000, "benchmark: Resolve+Profile lookups to time")
		fs.IntVar(&workers, "bench-workers", 8, "benchmark: concurrent lookups")
	})
	if err != nil {
		return err
	}
	vc := customer.DefaultValueConfig()
	if cfgPath != "" {
		if vc, err = customer.LoadValueConfig(cfgPath); err != nil {
			return err
		}
	}
	e, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.close()
	svc := customer.New(e.store, cfg.DefaultRegion, vc, e.log)

	if benchN > 0 {
		if benchOrders == 0 {
			benchOrders = 10 * benchN
		}
		fmt.Fprintf(os.Stderr, "generating %d customers and ~%d orders...\n", benchN, benchOrders)
		t0 := time.Now()
		if err := demo.Generate(ctx, e.store, demo.Population{Prefix: fmt.Sprintf("bench%d-", time.Now().Unix()), Customers: benchN, Orders: benchOrders}); err != nil {
			return err
		}
		var nc, no int64
		_ = e.store.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)`).Scan(&nc, &no)
		fmt.Fprintf(os.Stderr, "generated in %s: %d customers, %d orders in the database\n", time.Since(t0).Round(time.Second), nc, no)
	}

	fmt.Fprintln(os.Stderr, "recomputing customer values...")
	st, err := svc.Recompute(ctx, func(name string, took time.Duration) {
		fmt.Fprintf(os.Stderr, "  %-22s %8s\n", name, took.Round(time.Millisecond))
	})
	if err != nil {
		return err
	}
	fmt.Printf("recomputed %d customers (%d with orders) in %s\n", st.Customers, st.WithOrders, st.Elapsed.Round(time.Millisecond))
	for _, t := range []string{customer.TierPlatinum, customer.TierGold, customer.TierSilver, customer.TierBronze} {
		fmt.Printf("  %-9s %d\n", t, st.Tiers[t])
	}
	if benchN > 0 {
		return benchLookups(ctx, e, svc, lookups, workers)
	}
	return nil
}

func benchLookups(ctx context.Context, e *env, svc *customer.Service, n, workers int) error {
	rows, err := e.store.Pool.Query(ctx, `SELECT value FROM identities TABLESAMPLE SYSTEM (1) WHERE kind = 'phone' LIMIT $1`, n)
	if err != nil {
		return err
	}
	var phones []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return err
		}
		phones = append(phones, p)
	}
	rows.Close()
	if len(phones) == 0 {
		return errors.New("no phones to look up")
	}
	// Present them as callers dial: national format for CN numbers.
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := phones[rand.IntN(len(phones))]
				if len(p) > 3 && p[:3] == "+86" {
					p = "0086 " + p[3:]
				}
				t := time.Now()
				m, err := svc.Resolve(ctx, contact.Phone, p)
				if err == nil {
					_, err = svc.Profile(ctx, m.CustomerID)
				}
				lat[i] = time.Since(t)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("lookup %s: %w", p, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	total := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[int(p*float64(n-1))].Round(10 * time.Microsecond) }
	fmt.Printf("Resolve+Profile: %d lookups, %d workers, %.0f/s: p50 %s  p90 %s  p99 %s  max %s\n",
		n, workers, float64(n)/total.Seconds(), q(0.50), q(0.90), q(0.99), lat[n-1].Round(10*time.Microsecond))
	return nil
}
