// Command contacthub is the ContactHub server and its administration CLI.
//
//	contacthub [serve]   run the server (the default)
//	contacthub migrate   apply database migrations
//	contacthub user      manage users
//	contacthub demo      seed demo data
//	contacthub version   print the version
//
// Every subcommand uses the same database: DATABASE_URL when set, otherwise
// the private PostgreSQL under the data directory (attached to when the
// server is running, started for the command's duration when not).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{
	"serve":    {"run the server (default)", runServe},
	"migrate":  {"apply database migrations (-status to list them)", runMigrate},
	"user":     {"manage users: user add --role R --name N [--password P], user sip-password, user list", runUser},
	"demo":     {"seed demo users and data, print the demo credentials", runDemo},
	"version":  {"print the version", runVersion},
	"loadtest": {"drive a running server: loadtest desk|mixed [flags] (mixed: voice, chat, SMS, email at once)", runLoadtest},
	"import":   {"import customers|orders FILE.csv (header row; see package importer)", runImport},
	"tiers":    {"recompute customer values and tiers", runTiers},
}

var order = []string{"serve", "migrate", "user", "demo", "import", "tiers", "loadtest", "version"}

func usage() {
	fmt.Fprintf(os.Stderr, "Usage: contacthub [command] [flags]\n\nCommands:\n")
	for _, name := range order {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'contacthub COMMAND --help' for a command's flags.\n")
}

func main() {
	args := os.Args[1:]
	name := "serve"
	if len(args) > 0 && !isFlag(args[0]) {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		usage()
		return
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "contacthub: unknown command %q\n\n", name)
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "contacthub %s: %v\n", name, err)
		os.Exit(1)
	}
}

func isFlag(s string) bool { return len(s) > 0 && s[0] == '-' }
