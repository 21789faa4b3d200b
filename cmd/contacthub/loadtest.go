package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/contacthub/contacthub/internal/loadtest"
)

func runLoadtest(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "desk" {
		return errors.New("want: loadtest desk [flags] (see docs/BENCHMARKS.md)")
	}
	fs := flag.NewFlagSet("contacthub loadtest desk", flag.ContinueOnError)
	var o loadtest.Options
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&o.Admin, "admin", "admin:admin-demo-pw", "admin name:password, to provision bot agents")
	fs.IntVar(&o.Agents, "agents", 100, "agent bots on websockets")
	fs.Float64Var(&o.Rate, "rate", 50, "contacts per second")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "how long to send")
	fs.DurationVar(&o.Hold, "hold", 200*time.Millisecond, "how long a bot keeps a contact before wrap-up")
	fs.StringVar(&o.Channel, "channel", "chat", "channel of the created contacts")
	fs.StringVar(&o.Prefix, "prefix", "bot", "bot user name prefix")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if o.Agents < 1 || o.Rate <= 0 || o.Duration <= 0 {
		return errors.New("agents, rate and duration must be positive")
	}
	o.Progress = os.Stderr
	res, err := loadtest.Desk(ctx, o)
	if err != nil {
		return err
	}
	fmt.Println(res)
	for _, e := range res.FirstErrors {
		fmt.Println("  error:", e)
	}
	if res.Duplicates > 0 {
		return fmt.Errorf("%d contacts offered again after being accepted", res.Duplicates)
	}
	return nil
}
