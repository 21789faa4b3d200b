package email_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/email"
	"github.com/contacthub/contacthub/contact/email/emailstore"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/emersion/go-imap/v2/imapclient"
)

// startDovecot runs a private Dovecot on loopback: passwd-file user
// "customer"/"secret", Maildir in a temp dir. It returns host:port.
func startDovecot(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/dovecot"); err != nil {
			t.Fatal("dovecot not installed (apt-get install -y dovecot-imapd; .ci/run does)")
		}
		bin = "/usr/sbin/dovecot"
	}
	dir, err := os.MkdirTemp("", "chdovecot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Mail processes run as an unprivileged user that must reach the Maildir.
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		u, err := user.Lookup("dovecot")
		if err != nil {
			t.Fatalf("dovecot user missing: %v", err)
		}
		fmt.Sscan(u.Uid, &uid)
		fmt.Sscan(u.Gid, &gid)
	}
	me, _ := user.Current()
	must(0, os.Chmod(dir, 0o755))
	home := filepath.Join(dir, "home")
	must(0, os.MkdirAll(home, 0o755))
	must(0, os.Chown(home, uid, gid))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	must(0, os.WriteFile(filepath.Join(dir, "passwd"), []byte("customer:{PLAIN}secret::::::\n"), 0o644))
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_internal_user = %[4]s
default_login_user = %[4]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[2]d gid=%[3]d home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[5]d
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
`, dir, uid, gid, defaultUser(me), port)
	confPath := filepath.Join(dir, "dovecot.conf")
	must(0, os.WriteFile(confPath, []byte(conf), 0o644))
	cmd := exec.Command(bin, "-F", "-c", confPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if i > 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func defaultUser(me *user.User) string {
	if me != nil && me.Uid == "0" {
		return "dovecot"
	}
	if me != nil {
		return me.Username
	}
	return "dovecot"
}

func appendIMAP(t *testing.T, addr, raw string) {
	t.Helper()
	cl, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Login("customer", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	cmd := cl.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	_ = cl.Logout().Wait()
}

func imapMessage(id, subject string) string {
	return "From: Li Wei <li.wei@example.com>\nTo: help@shop.example\nSubject: " + subject +
		"\nMessage-ID: <" + id + ">\nContent-Type: text/plain; charset=utf-8\n\n" + subject + " body\n"
}

func TestIMAPDovecot(t *testing.T) {
	addr := startDovecot(t)
	r := desktest.New(t, 1)
	st := emailstore.New(r.Store.Pool)
	acct := email.IMAPAccount{Addr: addr, TLS: "none", User: "customer", Password: "secret", Queue: "general", Poll: time.Second}
	newChannel := func() *email.Channel { // a fresh process: nothing in memory
		ch, err := email.New(email.DefaultConfig(), r.Desk, st, testLog())
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	emails := func() int { return count(t, r, `SELECT count(*) FROM contacts WHERE channel = 'email'`) }
	ctx := context.Background()

	appendIMAP(t, addr, imapMessage("imap-1@example.com", "First via IMAP"))
	appendIMAP(t, addr, imapMessage("imap-2@example.com", "Second via IMAP"))
	if err := newChannel().PollIMAP(ctx, acct, false); err != nil {
		t.Fatal(err)
	}
	if n := emails(); n != 2 {
		t.Fatalf("%d contacts after first poll, want 2", n)
	}
	// Restart: the cursor survives; nothing is imported again.
	if err := newChannel().PollIMAP(ctx, acct, false); err != nil {
		t.Fatal(err)
	}
	if n := emails(); n != 2 {
		t.Fatalf("%d contacts after restart, want 2", n)
	}
	// Running with IDLE: a new message arrives while connected.
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- newChannel().PollIMAP(rctx, acct, true) }()
	time.Sleep(300 * time.Millisecond)
	appendIMAP(t, addr, imapMessage("imap-3@example.com", "Third via IMAP"))
	deadline := time.Now().Add(10 * time.Second)
	for emails() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("IDLE: %d contacts, want 3", emails())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	_, subject, queue, _ := contactByExternal(t, r, "imap-3@example.com")
	if subject != "Third via IMAP" || contact.QueueName(queue) != "general" {
		t.Fatalf("imported contact %q %q", subject, queue)
	}
	if n := count(t, r, `SELECT count(*) FROM messages`); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}
