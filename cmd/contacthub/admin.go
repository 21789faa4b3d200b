package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"text/tabwriter"

	"github.com/contacthub/contacthub/contact/voice"
	"github.com/contacthub/contacthub/contact/voice/voicestore"
	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/demo"
	"github.com/contacthub/contacthub/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(ctx context.Context, args []string) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
	}
	fmt.Println("contacthub", v)
	return nil
}

func runMigrate(ctx context.Context, args []string) error {
	var status bool
	cfg, _, err := parseConfig("migrate", args, func(c *config.Config, fs *flag.FlagSet) {
		c.RegisterDatabaseFlags(fs)
		fs.BoolVar(&status, "status", false, "list migrations and whether each is applied")
	})
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg) // applies migrations
	if err != nil {
		return err
	}
	defer e.close()
	if status {
		lines, err := store.MigrationStatus(ctx, e.dsn)
		if err != nil {
			return err
		}
		for _, l := range lines {
			fmt.Println(l)
		}
		return nil
	}
	fmt.Println("migrations applied")
	return nil
}

func runUser(ctx context.Context, args []string) error {
	if len(args) == 0 || isFlag(args[0]) {
		return errors.New("want a subcommand: user add --role R --name N [--password P] [--display-name D] | user sip-password --name N [--password P] | user list")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
		var name, role, password, display string
		cfg, _, err := parseConfig("user add", args, func(c *config.Config, fs *flag.FlagSet) {
			c.RegisterDatabaseFlags(fs)
			fs.StringVar(&name, "name", "", "login name (letters, digits, . _ @ -)")
			fs.StringVar(&role, "role", "agent", "agent, supervisor or admin")
			fs.StringVar(&password, "password", "", "password (at least 8 characters); empty: generate one and print it")
			fs.StringVar(&display, "display-name", "", "name shown in the console")
		})
		if err != nil {
			return err
		}
		if name == "" {
			return errors.New("--name is required")
		}
		e, err := open(ctx, cfg)
		if err != nil {
			return err
		}
		defer e.close()
		u, pw, err := auth.New(e.store, cfg.SessionTTL).CreateUser(ctx, name, display, store.Role(role), password)
		if err != nil {
			return err
		}
		fmt.Printf("created %s %q (id %d)\n", u.Role, u.Name, u.ID)
		if password == "" {
			fmt.Printf("password: %s\n", pw)
		}
		return nil
	case "sip-password":
		var name, password string
		cfg, _, err := parseConfig("user sip-password", args, func(c *config.Config, fs *flag.FlagSet) {
			c.RegisterDatabaseFlags(fs)
			fs.StringVar(&name, "name", "", "login name of the agent; it is also the SIP username")
			fs.StringVar(&password, "password", "", "SIP password (at least 8 characters); empty: generate one and print it")
		})
		if err != nil {
			return err
		}
		if name == "" {
			return errors.New("--name is required")
		}
		vcfg, err := voice.ConfigFromEnv(os.Getenv)
		if err != nil {
			return err
		}
		e, err := open(ctx, cfg)
		if err != nil {
			return err
		}
		defer e.close()
		generated := password == ""
		if generated {
			password = auth.GeneratePassword()
		}
		if err := voicestore.New(e.store.Pool).SetPassword(ctx, name, password, vcfg.Realm); err != nil {
			return err
		}
		fmt.Printf("SIP account %q set (realm %q): point the phone at this server with username %s\n", name, vcfg.Realm, name)
		if generated {
			fmt.Printf("password: %s\n", password)
		}
		return nil
	case "list":
		cfg, _, err := parseConfig("user list", args, func(c *config.Config, fs *flag.FlagSet) { c.RegisterDatabaseFlags(fs) })
		if err != nil {
			return err
		}
		e, err := open(ctx, cfg)
		if err != nil {
			return err
		}
		defer e.close()
		users, err := e.store.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tDISPLAY NAME\tDISABLED")
		for _, u := range users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\n", u.ID, u.Name, u.Role, u.DisplayName, u.Disabled)
		}
		return tw.Flush()
	default:
		return fmt.Errorf("unknown user subcommand %q: want add, sip-password or list", sub)
	}
}

func runDemo(ctx context.Context, args []string) error {
	cfg, _, err := parseConfig("demo", args, func(c *config.Config, fs *flag.FlagSet) { c.RegisterDatabaseFlags(fs) })
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.close()
	if err := demo.SeedUsers(ctx, auth.New(e.store, cfg.SessionTTL)); err != nil {
		return err
	}
	fmt.Println("Demo logins (name / password / role):")
	for _, u := range demo.Users {
		fmt.Printf("  %-11s %-20s %s\n", u.Name, u.Password, u.Role)
	}
	return nil
}
