package email

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP replies of the inbound server.
var (
	errNoMailbox    = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	errTryLater     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporarily unable to accept the message, try again later"}
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errNoRecipient  = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipient"}
)

// Serve answers SMTP on ln until ctx ends.
func (c *Channel) Serve(ctx context.Context, ln net.Listener) error {
	srv, err := c.smtpServer(ctx)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				srv.Close()
			}
		case <-done:
		}
	}()
	c.log.Info("smtp listening", "smtp_addr", ln.Addr().String())
	err = srv.Serve(ln)
	close(done)
	if errors.Is(err, smtp.ErrServerClosed) || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("email: smtp serve: %w", err)
}

// ListenAndServe listens on Config.Addr and serves SMTP until ctx ends.
// With Addr "off" or empty it returns when ctx ends.
func (c *Channel) ListenAndServe(ctx context.Context) error {
	if c.cfg.Addr == "" || c.cfg.Addr == "off" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", c.cfg.Addr)
	if err != nil {
		return fmt.Errorf("email: smtp listen: %w", err)
	}
	return c.Serve(ctx, ln)
}

func (c *Channel) smtpServer(ctx context.Context) (*smtp.Server, error) {
	srv := smtp.NewServer(smtp.BackendFunc(func(conn *smtp.Conn) (smtp.Session, error) {
		return &session{ch: c, ctx: ctx, remote: conn.Conn().RemoteAddr().String()}, nil
	}))
	srv.Domain = c.cfg.hostname()
	srv.MaxMessageBytes = c.cfg.MaxBytes
	srv.MaxRecipients = 50
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.AllowInsecureAuth = c.cfg.InsecureAuth
	srv.ErrorLog = smtpLog{c}
	if c.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.cfg.TLSCert, c.cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("email: smtp tls: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return srv, nil
}

type smtpLog struct{ c *Channel }

func (l smtpLog) Printf(format string, v ...any) { l.c.log.Warn("smtp: " + fmt.Sprintf(format, v...)) }
func (l smtpLog) Println(v ...any)               { l.c.log.Warn("smtp: " + fmt.Sprint(v...)) }

// session is one SMTP transaction sequence on a connection.
type session struct {
	ch     *Channel
	ctx    context.Context
	remote string

	mu     sync.Mutex
	authed bool
	from   string
	null   bool
	to     string
	queue  contact.QueueName
}

func (s *session) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.from, s.null, s.to, s.queue = "", false, "", ""
}

func (s *session) Logout() error { return nil }

func (s *session) AuthMechanisms() []string {
	if len(s.ch.cfg.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || len(s.ch.cfg.Users) == 0 {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		want, ok := s.ch.cfg.Users[user]
		if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 || (identity != "" && identity != user) {
			return smtp.ErrAuthFailed
		}
		s.mu.Lock()
		s.authed = true
		s.mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch.cfg.RequireAuth && !s.authed {
		return errAuthRequired
	}
	s.from, s.null = from, from == ""
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	q, ok := s.ch.cfg.queueFor(to)
	if !ok {
		s.ch.log.Info("smtp recipient refused", "to", to, "remote", s.remote)
		return errNoMailbox
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.to == "" {
		s.to, s.queue = strings.ToLower(to), q
	}
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se // 552 when over the size limit
		}
		return errTryLater
	}
	s.mu.Lock()
	env := Envelope{From: s.from, NullSender: s.null, To: s.to, Queue: s.queue, Source: "smtp"}
	s.mu.Unlock()
	if env.To == "" {
		return errNoRecipient
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Minute)
	defer cancel()
	if _, err = s.ch.Receive(ctx, raw, env); err != nil {
		s.ch.log.Warn("smtp message not accepted", "err", err, "remote", s.remote, "from", env.From, "to", env.To)
	}
	return smtpError(err)
}

// smtpError maps Receive's errors to SMTP replies.
func smtpError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrMalformed):
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: trimReply(err.Error())}
	case errors.Is(err, contact.ErrInvalid):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: trimReply(err.Error())}
	default:
		return errTryLater // the sender retries; nothing was acknowledged
	}
}

func trimReply(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
