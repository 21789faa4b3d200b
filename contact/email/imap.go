package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// RunIMAP polls every configured IMAP account until ctx ends. Each message
// is imported once: the last imported UID is kept per account with the
// mailbox's UIDVALIDITY, and advanced only after the desk committed the
// message. Servers with IDLE push new mail; others are polled.
func (c *Channel) RunIMAP(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, a := range c.cfg.IMAP {
		a := a.withDefaults()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.pollLoop(ctx, a)
		}()
	}
	wg.Wait()
	return nil
}

func (c *Channel) pollLoop(ctx context.Context, a IMAPAccount) {
	log := c.log.With("imap_account", a.Name)
	backoff := time.Second
	for ctx.Err() == nil {
		err := c.PollIMAP(ctx, a, true)
		if ctx.Err() != nil {
			return
		}
		log.Warn("imap session ended; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 5*time.Minute {
			backoff *= 2
		}
	}
}

// PollIMAP connects to one account and imports new messages. With wait it
// then stays connected (IDLE, or polling every a.Poll) until ctx ends or the
// connection fails; without, it returns after one pass.
func (c *Channel) PollIMAP(ctx context.Context, a IMAPAccount, wait bool) error {
	a = a.withDefaults()
	newMail := make(chan struct{}, 1)
	opts := &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: a.InsecureSkipVerify}, //nolint:gosec // opt-in per account
		Dialer:    &net.Dialer{Timeout: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	var cl *imapclient.Client
	var err error
	switch a.TLS {
	case "none":
		cl, err = imapclient.DialInsecure(a.Addr, opts)
	case "starttls":
		cl, err = imapclient.DialStartTLS(a.Addr, opts)
	default:
		cl, err = imapclient.DialTLS(a.Addr, opts)
	}
	if err != nil {
		return fmt.Errorf("email: imap dial %s: %w", a.Addr, err)
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	if err := cl.Login(a.User, a.Password).Wait(); err != nil {
		return fmt.Errorf("email: imap login: %w", err)
	}
	sel, err := cl.Select(a.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("email: imap select %s: %w", a.Mailbox, err)
	}
	for {
		if err := c.importNew(ctx, cl, a, sel.UIDValidity); err != nil {
			return err
		}
		if !wait {
			_ = cl.Logout().Wait()
			return nil
		}
		if cl.Caps().Has(imap.CapIdle) {
			idle, err := cl.Idle()
			if err != nil {
				return fmt.Errorf("email: imap idle: %w", err)
			}
			select {
			case <-newMail:
			case <-time.After(25 * time.Minute): // RFC 2177: re-issue before 29 min
			case <-ctx.Done():
			}
			if err := idle.Close(); err != nil {
				return fmt.Errorf("email: imap idle: %w", err)
			}
			if err := idle.Wait(); err != nil {
				return fmt.Errorf("email: imap idle: %w", err)
			}
		} else {
			select {
			case <-time.After(a.Poll):
			case <-ctx.Done():
			}
			if ctx.Err() == nil {
				if err := cl.Noop().Wait(); err != nil {
					return fmt.Errorf("email: imap noop: %w", err)
				}
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// importNew imports messages above the account's cursor, one by one.
func (c *Channel) importNew(ctx context.Context, cl *imapclient.Client, a IMAPAccount, validity uint32) error {
	log := c.log.With("imap_account", a.Name)
	v, last, err := c.st.Cursor(ctx, a.Name)
	if err != nil {
		return fmt.Errorf("email: imap cursor: %w", err)
	}
	if v != validity {
		if v != 0 {
			log.Warn("imap UIDVALIDITY changed; re-reading the mailbox (Message-IDs keep it idempotent)", "old", v, "new", validity)
		}
		last = 0
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0) // last+1:*
	section := &imap.FetchItemBodySection{Peek: true}
	cmd := cl.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	defer cmd.Close()
	for {
		md := cmd.Next()
		if md == nil {
			break
		}
		buf, err := md.Collect()
		if err != nil {
			return fmt.Errorf("email: imap fetch: %w", err)
		}
		uid := uint32(buf.UID)
		if uid <= last { // "n:*" always returns the last message
			continue
		}
		raw := buf.FindBodySection(section)
		res, err := c.Receive(ctx, raw, Envelope{Queue: a.Queue, Source: "imap:" + a.Name})
		switch {
		case err == nil:
			log.Debug("imap message imported", "uid", uid, "outcome", res.Outcome, "contact_id", res.Contact)
		case errors.Is(err, ErrMalformed) || errors.Is(err, contact.ErrInvalid):
			log.Warn("imap message skipped", "uid", uid, "err", err)
		default:
			return fmt.Errorf("email: imap import uid %d: %w", uid, err) // retried from this UID
		}
		if err := c.st.SetCursor(ctx, a.Name, validity, uid); err != nil {
			return fmt.Errorf("email: imap cursor: %w", err)
		}
		last = uid
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("email: imap fetch: %w", err)
	}
	if v != validity {
		return c.st.SetCursor(ctx, a.Name, validity, last)
	}
	return nil
}
