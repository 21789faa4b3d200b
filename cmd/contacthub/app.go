package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	agentui "github.com/contacthub/contacthub/agent-ui"
	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/chat"
	"github.com/contacthub/contacthub/contact/email"
	"github.com/contacthub/contacthub/contact/email/emailstore"
	"github.com/contacthub/contacthub/contact/sms"
	"github.com/contacthub/contacthub/contact/sms/smsstore"
	"github.com/contacthub/contacthub/contact/voice"
	"github.com/contacthub/contacthub/contact/voice/voicestore"
	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/board"
	"github.com/contacthub/contacthub/internal/complaint"
	"github.com/contacthub/contacthub/internal/config"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/hub"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/internal/web"
	"github.com/contacthub/contacthub/internal/webhook"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// app is every component of a running server, wired by hand. runServe
// listens and runs the runners; tests build one on a test database.
type app struct {
	web     *web.Server
	desk    *desk.Desk
	runners []func(context.Context) error
}

// assemble builds and wires every component. The desk is started (open
// contacts restored) before it returns; nothing listens yet.
func assemble(ctx context.Context, cfg config.Config, st *store.Store, authn *auth.Service, customers *customer.Service, log *slog.Logger) (*app, error) {
	a, err := wire(ctx, cfg, st, authn, customers, log)
	if err != nil {
		return nil, err
	}
	if err := a.desk.Start(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// wire is assemble without starting the desk: a cluster standby wires
// everything at start but restores the desk only once it is the leader
// (docs/SCALING.md).
func wire(ctx context.Context, cfg config.Config, st *store.Store, authn *auth.Service, customers *customer.Service, log *slog.Logger) (*app, error) {
	a := &app{}
	var err error
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The desk and the agents' hub need each other: the hub tells the desk
	// who connects; the desk pushes through the hub.
	dh := &deskHub{log: log}
	agentHub := hub.New(dh, log.With("component", "hub"), hub.Options{})
	dsk := desk.New(st, desk.CustomerModel(customers), hubNotifier{agentHub}, log.With("component", "desk"), desk.Options{})
	dh.d = dsk

	// Channels.
	mailCfg, err := email.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	mailCfg.Addr = cfg.SMTPAddr // -smtp-addr / CONTACTHUB_SMTP_ADDR; empty disables
	mailCh, err := email.New(mailCfg, dsk, emailstore.New(st.Pool), log.With("component", "email"))
	if err != nil {
		return nil, err
	}
	dsk.Register(contact.Email, mailCh)
	smsCfg, err := sms.ConfigFromEnv(os.Getenv, cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	smsCh, err := sms.New(smsCfg, dsk, smsstore.New(st.Pool), log.With("component", "sms"))
	if err != nil {
		return nil, err
	}
	dsk.Register(contact.SMS, smsCh)
	chatCfg, err := chat.ConfigFromEnv(chat.Config{
		Desk: dsk, Messages: st, Log: log.With("component", "chat"),
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
		return nil, err
	}
	if len(chatCfg.Secret) == 0 {
		// Without CONTACTHUB_CHAT_SECRET, a key kept in the database: visitor
		// tokens survive restarts and work on every node.
		if chatCfg.Secret, err = st.Secret(ctx, "chat_visitor_token", 32); err != nil {
			return nil, err
		}
	}
	chatCh, err := chat.New(chatCfg)
	if err != nil {
		return nil, err
	}
	dsk.Register(contact.Chat, chatCh)
	dh.onFrame = agentFrames(dsk, chatCh)
	var voiceCh *voice.Server
	if cfg.SIPAddr != "" {
		voiceCfg, err := voice.ConfigFromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		voiceCfg.Addr = cfg.SIPAddr
		voiceCh, err = voice.New(voiceCfg, dsk, voicestore.New(st.Pool), log.With("component", "voice"))
		if err != nil {
			return nil, err
		}
		voiceCh.OnAgentLegFailed = func(ctx context.Context, c contact.Contact, agent contact.AgentID, reason string) {
			// The agent's phone did not answer: the caller goes back to the
			// queue (keeping the original enqueue time) and waits on hold.
			if err := dsk.Transfer(ctx, agent, c.ID, c.Queue, 0, "agent phone: "+reason); err != nil {
				log.Warn("requeue after agent leg failed", "contact_id", c.ID, "agent_id", agent, "reason", reason, "err", err)
			}
		}
		voiceCh.OnCallback = dsk.RequestCallback
		dsk.Register(contact.Voice, voiceCh)
		desk.PhoneRegistered = voiceCh.Registered
		a.runners = append(a.runners, voiceCh.Run)
	}

	srv := web.New(web.Deps{Store: st, Auth: authn, Log: log, Registry: reg, SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.TrustedProxies})
	web.MountCustomers(srv, customers)
	web.MountDesk(srv, dsk)
	web.MountAgentSocket(srv, agentHub)
	web.MountUI(srv, agentui.Files)
	web.MountWebhooks(srv)
	complaints := complaint.New(st, complaint.DefaultConfig(), log.With("component", "complaint"))
	web.MountComplaints(srv, complaints, dsk)
	brd := board.New(st, dsk, log.With("component", "board"), board.Config{})
	web.MountBoard(srv, brd, hub.Options{})
	dsk.OnFeedback = func(f store.Feedback) {
		if f.CustomerID == 0 {
			return
		}
		if err := st.UpdateSatisfaction(context.Background(), f.CustomerID, customers.Config().Params(), time.Now()); err != nil {
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
	hooks := webhook.New(st, log.With("component", "webhook"))

	a.web, a.desk = srv, dsk
	a.runners = append(a.runners,
		func(ctx context.Context) error { return customers.RunPeriodic(ctx, time.Hour) },
		dsk.Run, agentHub.Run, hooks.Run, mailCh.RunIMAP, chatCh.Run, brd.Run,
		func(ctx context.Context) error { return complaints.Watch(ctx, 30*time.Second, brd.NotifyOverdue) },
	)
	if mailCfg.Addr != "" {
		a.runners = append(a.runners, mailCh.ListenAndServe)
	}
	return a, nil
}
