package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	agentui "github.com/contacthub/contacthub/agent-ui"
	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/chat"
	"github.com/contacthub/contacthub/contact/email"
	"github.com/contacthub/contacthub/contact/email/emailstore"
	"github.com/contacthub/contacthub/contact/sms"
	"github.com/contacthub/contacthub/contact/sms/smsstore"
	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/board"
	"github.com/contacthub/contacthub/internal/complaint"
	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/demo"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/hub"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/web"
	"github.com/contacthub/contacthub/internal/webhook"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
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

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The desk and the agents' hub need each other: the hub tells the desk
	// who connects; the desk pushes through the hub.
	dh := &deskHub{log: log}
	agentHub := hub.New(dh, log.With("component", "hub"), hub.Options{})
	dsk := desk.New(e.store, desk.CustomerModel(customers), hubNotifier{agentHub}, log.With("component", "desk"), desk.Options{})
	dh.d = dsk
	if err := dsk.Start(ctx); err != nil {
		return err
	}

	// Channels.
	mailCfg, err := email.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	mailCfg.Addr = cfg.SMTPAddr // -smtp-addr / CONTACTHUB_SMTP_ADDR; empty disables
	mailCh, err := email.New(mailCfg, dsk, emailstore.New(e.store.Pool), log.With("component", "email"))
	if err != nil {
		return err
	}
	dsk.Register(contact.Email, mailCh)
	smsCfg, err := sms.ConfigFromEnv(os.Getenv, cfg.PublicURL)
	if err != nil {
		return err
	}
	smsCh, err := sms.New(smsCfg, dsk, smsstore.New(e.store.Pool), log.With("component", "sms"))
	if err != nil {
		return err
	}
	dsk.Register(contact.SMS, smsCh)
	chatCfg, err := chat.ConfigFromEnv(chat.Config{
		Desk: dsk, Messages: e.store, Log: log.With("component", "chat"),
		Position: dsk.Position,
		OnTyping: func(id contact.ID) {
			dsk.NotifyHandler(id, "typing", map[string]any{"contact_id": id, "who": "customer"})
		},
		OnReceipt: func(id contact.ID, msg int64, status string) {
			dsk.NotifyHandler(id, "receipt", map[string]any{"contact_id": id, "message_id": msg, "status": status})
		},
		SendTranscript: mailCh.SendTranscript,
	}, os.Getenv)
	if err != nil {
		return err
	}
	chatCh, err := chat.New(chatCfg)
	if err != nil {
		return err
	}
	dsk.Register(contact.Chat, chatCh)
	dh.onFrame = agentFrames(dsk, chatCh)

	srv := web.New(web.Deps{Store: e.store, Auth: authn, Log: log, Registry: reg, SecureCookies: cfg.SecureCookies})
	web.MountCustomers(srv, customers)
	web.MountDesk(srv, dsk)
	web.MountAgentSocket(srv, agentHub)
	web.MountUI(srv, agentui.Files)
	web.MountWebhooks(srv)
	complaints := complaint.New(e.store, complaint.DefaultConfig(), log.With("component", "complaint"))
	web.MountComplaints(srv, complaints, dsk)
	brd := board.New(e.store, dsk, log.With("component", "board"), board.Config{})
	web.MountBoard(srv, brd, hub.Options{})
	dsk.OnFeedback = func(f store.Feedback) {
		if f.CustomerID == 0 {
			return
		}
		if err := e.store.UpdateSatisfaction(context.Background(), f.CustomerID, customers.Config().Params(), time.Now()); err != nil {
			log.Warn("update satisfaction", "customer_id", f.CustomerID, "err", err)
		}
	}
	srv.API.GET("/attachments/:ref", gin.WrapH(mailCh.AttachmentHandler()))
	// Provider webhooks: authenticated by their signatures, not sessions.
	srv.Public.POST("/webhooks/sms/twilio", gin.WrapH(smsCh.TwilioHandler()))
	srv.Public.POST("/webhooks/sms/twilio/status", gin.WrapH(smsCh.TwilioStatusHandler()))
	srv.Public.POST("/webhooks/sms/generic", gin.WrapH(smsCh.GenericHandler()))
	srv.AllowCrossOrigin("/webhooks/")
	// The chat widget runs on customers' sites: cookie-less, its own
	// signed visitor tokens and origin allow-list.
	chatHandler := gin.WrapH(chatCh.Handler())
	srv.Public.GET("/widget.js", chatHandler)
	srv.Public.GET("/chat-demo", chatHandler)
	srv.Public.POST("/chat/session", chatHandler)
	srv.Public.OPTIONS("/chat/session", chatHandler)
	srv.Public.GET("/ws/chat", chatHandler)
	srv.AllowCrossOrigin("/chat/session")
	hooks := webhook.New(e.store, log.With("component", "webhook"))

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error { return customers.RunPeriodic(gctx, time.Hour) })
	g.Go(func() error { return dsk.Run(gctx) })
	g.Go(func() error { return agentHub.Run(gctx) })
	g.Go(func() error { return hooks.Run(gctx) })
	if mailCfg.Addr != "" {
		g.Go(func() error { return mailCh.ListenAndServe(gctx) })
	}
	g.Go(func() error { return mailCh.RunIMAP(gctx) })
	g.Go(func() error { return chatCh.Run(gctx) })
	g.Go(func() error { return brd.Run(gctx) })
	g.Go(func() error { return complaints.Watch(gctx, 30*time.Second, brd.NotifyOverdue) })
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
