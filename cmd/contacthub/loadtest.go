package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contacthub/contacthub/internal/loadtest"
)

func runLoadtest(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "mixed" {
		return runLoadtestMixed(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "desk" {
		return errors.New("want: loadtest desk|mixed [flags] (see docs/BENCHMARKS.md)")
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

const mixedUsage = `Usage: contacthub loadtest mixed [flags]

A mixed load on one server: calls from sipp (callers wait on hold, hear the
hold audio, hang up), web chats (session, one message, the agent's reply,
end), signed Twilio SMS webhooks and SMTP messages, taken by agent bots on
websockets (accept, reply once on text channels, wrap up), with a
supervisor board websocket open. Reports per channel contacts/s, arrival →
screen-pop p50/p99 and errors; the server's CPU and RSS over time; the
database size; then checks the database for lost or duplicated contacts,
bad state histories and agents over capacity (with -database-url).

The server must have the SMS account and the reply sinks in its environment:

  CONTACTHUB_SMS_TWILIO_ACCOUNT_SID=<-sms-account>
  CONTACTHUB_SMS_TWILIO_AUTH_TOKEN=<-sms-token>
  CONTACTHUB_SMS_TWILIO_NUMBERS=<-sms-number>
  CONTACTHUB_SMS_API_BASE=http://<-provider-addr>   agents' SMS replies go to the load client
  CONTACTHUB_SMTP_RELAY=<-relay-addr>               agents' email replies too
  CONTACTHUB_SMTP_RELAY_TLS=none

(-print-env prints them for the flags given). See docs/BENCHMARKS.md.

Flags:
`

func runLoadtestMixed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("contacthub loadtest mixed", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), mixedUsage); fs.PrintDefaults() }
	var o loadtest.MixedOptions
	var mix string
	var printEnv bool
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&o.SIPAddr, "sip-addr", "127.0.0.1:5060", "server SIP address for sipp's calls (empty: no calls)")
	fs.StringVar(&o.SMTPAddr, "smtp-addr", "127.0.0.1:2525", "server SMTP address (empty: no email)")
	fs.StringVar(&o.Admin, "admin", "admin:admin-demo-pw", "admin name:password, to provision bot agents")
	fs.IntVar(&o.Agents, "agents", 500, "agent bots on websockets")
	fs.Float64Var(&o.Rate, "rate", 100, "contacts per second, all channels together")
	fs.StringVar(&mix, "mix", "voice=10,chat=30,sms=30,email=30", "share of each channel")
	fs.DurationVar(&o.Duration, "duration", 3*time.Minute, "how long to send")
	fs.DurationVar(&o.Hold, "hold", 2*time.Second, "how long a bot keeps a contact before wrap-up")
	fs.DurationVar(&o.CallWait, "call-wait", 3*time.Second, "how long a caller waits on hold before hanging up")
	fs.DurationVar(&o.Drain, "drain", 60*time.Second, "how long to wait for open contacts to close after sending")
	fs.StringVar(&o.Prefix, "prefix", "", "bot user name prefix (default: fresh bots per run, mx<run>-N)")
	fs.StringVar(&o.SMSAccountSID, "sms-account", "ACloadtest00000000000000000000000", "Twilio account SID the server is configured with")
	fs.StringVar(&o.SMSAuthToken, "sms-token", "loadtest-twilio-token", "its auth token")
	fs.StringVar(&o.SMSNumber, "sms-number", "+15005550006", "its number (the To of the messages)")
	fs.StringVar(&o.SMSURL, "sms-url", "", "webhook URL as the server signs it (default -url + /webhooks/sms/twilio)")
	fs.StringVar(&o.ProviderAddr, "provider-addr", "127.0.0.1:28500", "serve a fake Twilio API here for the server's SMS replies (empty: none)")
	fs.StringVar(&o.RelayAddr, "relay-addr", "127.0.0.1:28525", "serve a fake SMTP relay here for the server's email replies (empty: none)")
	fs.StringVar(&o.Sipp, "sipp", "sipp", "sipp binary")
	fs.StringVar(&o.Scenario, "scenario", "contact/voice/testdata/caller.xml", "sipp caller scenario")
	fs.StringVar(&o.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "server's database: size, bot profiles and the consistency check")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "server process for CPU and RSS (default: found by the -url port)")
	fs.BoolVar(&printEnv, "print-env", false, "print the environment the server needs and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if printEnv {
		for _, e := range o.SMSEnv() {
			fmt.Println(e)
		}
		return nil
	}
	o.Mix = map[string]float64{}
	for _, kv := range strings.Split(mix, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return fmt.Errorf("-mix: bad share %q", kv)
		}
		o.Mix[k] = f
	}
	if o.Agents < 1 || o.Rate <= 0 || o.Duration <= 0 {
		return errors.New("agents, rate and duration must be positive")
	}
	fmt.Fprintln(os.Stderr, "the server needs:", strings.Join(o.SMSEnv(), " "))
	o.Progress = os.Stderr
	res, err := loadtest.Mixed(ctx, o)
	if res != nil {
		fmt.Print(res)
		for _, e := range res.FirstErrors {
			fmt.Println("  error:", e)
		}
	}
	if err != nil {
		return err
	}
	if res.Duplicates > 0 {
		return fmt.Errorf("%d contacts offered again after being accepted", res.Duplicates)
	}
	if res.Check != nil && !res.Check.OK() {
		return errors.New("consistency check failed")
	}
	return nil
}
