package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/importer"
)

// runImport imports customers or orders from a CSV file (columns: see
// package importer). Rejected rows are listed on stderr with their row
// number and reason; the good rows are imported. Re-running is harmless.
func runImport(ctx context.Context, args []string) error {
	if len(args) == 0 || isFlag(args[0]) || (args[0] != "customers" && args[0] != "orders") {
		return errors.New("usage: contacthub import customers|orders [flags] FILE.csv")
	}
	what, args := args[0], args[1:]
	var recompute bool
	var maxShown int
	cfg, fs, err := parseConfig("import "+what, args, func(c *config.Config, fs *flag.FlagSet) {
		c.RegisterDatabaseFlags(fs)
		fs.BoolVar(&recompute, "recompute", what == "orders", "recompute customer values afterwards")
		fs.IntVar(&maxShown, "max-rejected", 100, "list at most this many rejected rows")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one FILE.csv")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	e, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.close()
	im := &importer.Importer{Store: e.store, Norm: customer.Normalizer{Region: cfg.DefaultRegion}}
	if importer.IsTerminal(os.Stderr) {
		im.Progress = os.Stderr
	}
	var rep importer.Report
	if what == "customers" {
		rep, err = im.Customers(ctx, f)
	} else {
		rep, err = im.Orders(ctx, f)
	}
	if err != nil {
		return err
	}
	for i, p := range rep.Rejected {
		if i == maxShown {
			fmt.Fprintf(os.Stderr, "... and %d more\n", len(rep.Rejected)-maxShown)
			break
		}
		fmt.Fprintf(os.Stderr, "row %d: %s\n", p.Row, p.Reason)
	}
	fmt.Printf("%s: %d rows read, %d inserted, %d updated, %d unchanged, %d rejected or with warnings, in %s\n",
		what, rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged(), len(rep.Rejected), rep.Elapsed.Round(1e6))
	if recompute {
		st, err := customer.New(e.store, cfg.DefaultRegion, customer.DefaultValueConfig(), e.log).Recompute(ctx, nil)
		if err != nil {
			return err
		}
		fmt.Printf("customer values recomputed in %s\n", st.Elapsed.Round(1e6))
	}
	return nil
}
