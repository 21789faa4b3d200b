package email_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/email"
	"github.com/contacthub/contacthub/contact/email/emailstore"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/demo"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func testLog() *slog.Logger {
	if os.Getenv("CONTACTHUB_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// rig is a desk on PostgreSQL with the email channel's SMTP server in front.
type rig struct {
	*desktest.Rig
	ch   *email.Channel
	st   *emailstore.Store
	addr string
	sink *sink
}

func start(t *testing.T, d contact.Desk, r *desktest.Rig, cfg email.Config) *rig {
	t.Helper()
	s := newSink(t)
	cfg.Relay = s.addr
	cfg.RelayTLS = "none"
	st := emailstore.New(r.Store.Pool)
	if d == nil {
		d = r.Desk
	}
	ch, err := email.New(cfg, d, st, testLog())
	if err != nil {
		t.Fatal(err)
	}
	r.Desk.Register(contact.Email, ch)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &rig{Rig: r, ch: ch, st: st, addr: ln.Addr().String(), sink: s}
}

func swaks(t *testing.T, addr string, args ...string) (string, bool) {
	t.Helper()
	if _, err := exec.LookPath("swaks"); err != nil {
		t.Fatal("swaks not installed (apt-get install -y swaks; .ci/run does)")
	}
	all := append([]string{"--server", addr, "--helo", "client.test", "--timeout", "30"}, args...)
	out, err := exec.Command("swaks", all...).CombinedOutput()
	return string(out), err == nil
}

func mustSwaks(t *testing.T, addr string, args ...string) string {
	t.Helper()
	out, ok := swaks(t, addr, args...)
	if !ok || !strings.Contains(out, "<-  250") {
		t.Fatalf("swaks failed:\n%s", out)
	}
	return out
}

func count(t *testing.T, r *desktest.Rig, query string, args ...any) int {
	t.Helper()
	var n int
	if err := r.Store.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func contactByExternal(t *testing.T, r *desktest.Rig, ext string) (id contact.ID, subject, queue, tier string) {
	t.Helper()
	err := r.Store.Pool.QueryRow(context.Background(),
		`SELECT id, subject, queue, tier FROM contacts WHERE channel = 'email' AND external_id = $1`, ext).Scan(&id, &subject, &queue, &tier)
	if err != nil {
		t.Fatalf("contact %s: %v", ext, err)
	}
	return
}

// A known customer writes; the offer pops gold/priority; the agent's reply
// reaches the smarthost threaded; the customer's answer lands on the same
// contact and the agent sees it live.
func TestSwaksConversation(t *testing.T) {
	r := start(t, nil, desktest.New(t, 1), email.DefaultConfig())
	r.SeedDemoCustomers(t, 200)
	agent := r.Agents[0]
	r.Available(t, agent)

	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", demo.LiWei.Email,
		"--header", "Message-Id: <first-1@client.example.com>", "--header", "Subject: Where is my order?",
		"--body", "Hello, order 42 has not arrived.")
	of := r.NextOffer(t, agent)
	if of.Profile == nil || of.Profile.Tier != "gold" {
		t.Fatalf("offer profile = %+v, want tier gold", of.Profile)
	}
	if of.Contact.Queue != "priority" || of.Contact.Channel != contact.Email {
		t.Fatalf("offer contact queue %q channel %q, want priority email", of.Contact.Queue, of.Contact.Channel)
	}
	c := r.Accept(t, agent, of)
	if c.ThreadKey != "first-1@client.example.com" {
		t.Fatalf("thread key %q", c.ThreadKey)
	}

	ctx := context.Background()
	if _, err := r.Desk.Reply(ctx, agent, c.ID, "Hello Li Wei,\nit ships today."); err != nil {
		t.Fatal(err)
	}
	got := r.sink.next(t)
	if got.to[0] != demo.LiWei.Email || got.from != "support@example.com" {
		t.Fatalf("envelope %s → %v", got.from, got.to)
	}
	h := got.header(t)
	ourID, _ := h.MessageID()
	irt, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	subj, _ := h.Subject()
	if !strings.HasSuffix(ourID, "@example.com") || len(irt) != 1 || irt[0] != "first-1@client.example.com" ||
		len(refs) == 0 || refs[0] != "first-1@client.example.com" {
		t.Fatalf("threading headers: Message-ID %q In-Reply-To %v References %v", ourID, irt, refs)
	}
	if want := fmt.Sprintf("Re: Where is my order? [#CH-%d]", c.ID); subj != want {
		t.Fatalf("subject %q, want %q", subj, want)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Fatalf("content type %q", ct)
	}
	waitStatus(t, r, c.ID, "sent")

	// The customer answers our reply (their client quotes it).
	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", demo.LiWei.Email,
		"--header", "Message-Id: <second-2@client.example.com>", "--header", "In-Reply-To: <"+ourID+">",
		"--header", "References: <first-1@client.example.com> <"+ourID+">", "--header", "Subject: "+subj,
		"--body", "Thank you!\n\nOn Mon, 1 Jan 2024, Customer Service <support@example.com> wrote:\n> Hello Li Wei,\n> it ships today.")
	var frame struct {
		Message contact.Message `json:"message"`
	}
	for frame.Message.Direction != contact.Inbound {
		if err := json.Unmarshal(r.Rec.Next(t, agent, "message"), &frame); err != nil {
			t.Fatal(err)
		}
	}
	if frame.Message.ContactID != c.ID || frame.Message.Body != "Thank you!" {
		t.Fatalf("message frame %+v", frame.Message)
	}
	if len(frame.Message.Attachments) != 1 || frame.Message.Attachments[0].Name != "full-text.txt" {
		t.Fatalf("full text not kept: %+v", frame.Message.Attachments)
	}
	msgs, err := r.Store.Messages(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	if n := count(t, r.Rig, `SELECT count(*) FROM contacts WHERE channel = 'email'`); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}

	// A subject token alone threads too (a client that drops headers).
	mustSwaks(t, r.addr, "--to", "support@localhost", "--from", demo.LiWei.Email,
		"--header", "Message-Id: <third-3@client.example.com>", "--header", "Subject: "+subj, "--body", "One more thing.")
	if n := count(t, r.Rig, `SELECT count(*) FROM messages WHERE contact_id = $1`, c.ID); n != 4 {
		t.Fatalf("%d messages after token reply, want 4", n)
	}
	// A redelivery of the same Message-ID stores nothing.
	mustSwaks(t, r.addr, "--to", "support@localhost", "--from", demo.LiWei.Email,
		"--header", "Message-Id: <third-3@client.example.com>", "--header", "Subject: "+subj, "--body", "One more thing.")
	if n := count(t, r.Rig, `SELECT count(*) FROM messages WHERE contact_id = $1`, c.ID); n != 4 {
		t.Fatalf("%d messages after redelivery, want 4", n)
	}

	// A bounce of our reply marks it failed and opens no contact.
	dsn := strings.ReplaceAll(string(must(os.ReadFile("testdata/dsn.eml"))), "ch.7.9.0011223344556677@example.com", ourID)
	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", "", "--data", writeFile(t, dsn))
	waitStatus(t, r, c.ID, "failed")
	if n := count(t, r.Rig, `SELECT count(*) FROM contacts WHERE channel = 'email'`); n != 1 {
		t.Fatalf("%d contacts after bounce, want 1", n)
	}
	// An out-of-office reply outside a thread is not routed.
	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", demo.WangFang.Email,
		"--header", "Auto-Submitted: auto-replied", "--header", "Subject: Out of office", "--body", "I am away.")
	if n := count(t, r.Rig, `SELECT count(*) FROM contacts WHERE channel = 'email'`); n != 1 {
		t.Fatalf("%d contacts after auto-reply, want 1", n)
	}
}

func waitStatus(t *testing.T, r *rig, id contact.ID, status string) {
	t.Helper()
	for range 200 {
		if count(t, r.Rig, `SELECT count(*) FROM messages WHERE contact_id = $1 AND direction = 'outbound' AND status = $2`, id, status) == 1 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("outbound message of %d never %s", id, status)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func writeFile(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\n", "\r\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSwaksAttachmentDownload(t *testing.T) {
	r := start(t, nil, desktest.New(t, 1), email.DefaultConfig())
	pdf := filepath.Join(t.TempDir(), "invoice.pdf")
	body := bytes.Repeat([]byte("%PDF-1.4 fake "), 1000)
	if err := os.WriteFile(pdf, body, 0o644); err != nil {
		t.Fatal(err)
	}
	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", "new.customer@example.org",
		"--header", "Message-Id: <att-1@example.org>", "--header", "Subject: Invoice attached",
		"--body", "Please see the invoice.", "--attach-type", "application/pdf", "--attach-name", "invoice.pdf", "--attach", "@"+pdf)
	id, subject, queue, tier := contactByExternal(t, r.Rig, "att-1@example.org")
	if subject != "Invoice attached" || queue != "general" || tier != "standard" {
		t.Fatalf("contact: %q %q %q", subject, queue, tier)
	}
	msgs, err := r.Store.Messages(context.Background(), id, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages %v %v", msgs, err)
	}
	m := msgs[0]
	if m.Body != "Please see the invoice." || len(m.Attachments) != 1 {
		t.Fatalf("message %+v", m)
	}
	a := m.Attachments[0]
	if a.Name != "invoice.pdf" || a.ContentType != "application/pdf" || a.Size != int64(len(body)) {
		t.Fatalf("attachment %+v", a)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/attachments/{ref}", r.ch.AttachmentHandler())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/attachments/"+a.Ref, nil))
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Content-Type") != "application/pdf" ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "invoice.pdf") {
		t.Fatalf("download: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/attachments/"+strings.Repeat("0", 64), nil))
	if rec.Code != 404 {
		t.Fatalf("unknown ref: %d", rec.Code)
	}
}

func TestSwaksGB2312(t *testing.T) {
	r := start(t, nil, desktest.New(t, 1), email.DefaultConfig())
	enc := simplifiedchinese.GBK.NewEncoder() // GB2312 is a subset of GBK
	subject, body := "订单没有收到", "您好，我的订单还没有到，请帮忙查询。谢谢！"
	gbSubject := must(enc.String(subject))
	gbBody := must(enc.String(body))
	raw := "From: =?GB2312?B?" + b64(must(enc.String("王芳"))) + "?= <wang.fang@example.com>\n" +
		"To: support@example.com\nSubject: =?GB2312?B?" + b64(gbSubject) + "?=\n" +
		"Message-ID: <gb-1@mail.example.cn>\nMIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=\"gb2312\"\nContent-Transfer-Encoding: 8bit\n\n" + gbBody + "\n"
	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", "wang.fang@example.com", "--data", writeFile(t, raw))
	id, got, _, _ := contactByExternal(t, r.Rig, "gb-1@mail.example.cn")
	if got != subject {
		t.Fatalf("subject %q, want %q", got, subject)
	}
	msgs, _ := r.Store.Messages(context.Background(), id, 0)
	if len(msgs) != 1 || msgs[0].Body != body {
		t.Fatalf("body %+v, want %q", msgs, body)
	}
}

func TestSwaksRefusals(t *testing.T) {
	cfg := email.DefaultConfig()
	cfg.MaxBytes = 64 << 10
	r := start(t, nil, desktest.New(t, 1), cfg)

	out, ok := swaks(t, r.addr, "--to", "nobody@example.com", "--from", "a@example.org", "--body", "hi")
	if ok || !strings.Contains(out, "<** 550") {
		t.Fatalf("unknown recipient not refused with 550:\n%s", out)
	}
	big := strings.Repeat("0123456789abcdef\n", 8<<10) // 136 KiB
	out, ok = swaks(t, r.addr, "--to", "support@example.com", "--from", "a@example.org", "--body", writeFile(t, big))
	if ok || !strings.Contains(out, "<** 552") {
		t.Fatalf("oversize not refused with 552:\n%s", out)
	}
	malformed := "From: a@example.org\nTo: support@example.com\nMessage-ID: <bad-1@example.org>\n" +
		"Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n\nunterminated\n"
	out, ok = swaks(t, r.addr, "--to", "support@example.com", "--from", "a@example.org", "--data", writeFile(t, malformed))
	if ok || !strings.Contains(out, "<** 554 5.6.0") {
		t.Fatalf("malformed not refused with 554 5.6.0:\n%s", out)
	}
	if n := count(t, r.Rig, `SELECT count(*) FROM contacts`); n != 0 {
		t.Fatalf("%d contacts stored", n)
	}
	// The server is still up.
	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", "a@example.org", "--body", "still there?")
}

// flaky fails the first Accept with ErrUnavailable, as when the database is down.
type flaky struct {
	contact.Desk
	mu     sync.Mutex
	failed bool
}

func (f *flaky) Accept(ctx context.Context, a contact.Arrival) (contact.Contact, error) {
	f.mu.Lock()
	fail := !f.failed
	f.failed = true
	f.mu.Unlock()
	if fail {
		return contact.Contact{}, fmt.Errorf("desk: %w: connection refused", contact.ErrUnavailable)
	}
	return f.Desk.Accept(ctx, a)
}

func TestSwaksUnavailableRetry(t *testing.T) {
	dr := desktest.New(t, 1)
	r := start(t, &flaky{Desk: dr.Desk}, dr, email.DefaultConfig())
	args := []string{"--to", "support@example.com", "--from", "a@example.org",
		"--header", "Message-Id: <retry-1@example.org>", "--body", "Please call me back."}
	out, ok := swaks(t, r.addr, args...)
	if ok || !strings.Contains(out, "<** 451") {
		t.Fatalf("want 451 while the desk is down:\n%s", out)
	}
	if n := count(t, r.Rig, `SELECT count(*) FROM contacts`); n != 0 {
		t.Fatalf("%d contacts after 451", n)
	}
	mustSwaks(t, r.addr, args...) // the sender's retry
	mustSwaks(t, r.addr, args...) // and a duplicate
	if n := count(t, r.Rig, `SELECT count(*) FROM contacts WHERE external_id = 'retry-1@example.org'`); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
	if n := count(t, r.Rig, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestSendTranscript(t *testing.T) {
	r := start(t, nil, desktest.New(t, 0), email.DefaultConfig())
	if err := r.ch.SendTranscript(context.Background(), "li.wei@example.com", "Your chat with us", "Agent: hello\nYou: hi"); err != nil {
		t.Fatal(err)
	}
	got := r.sink.next(t)
	h := got.header(t)
	if s, _ := h.Subject(); s != "Your chat with us" || h.Get("Auto-Submitted") != "auto-generated" {
		t.Fatalf("transcript header %v", h)
	}
}

// sink is a smarthost on loopback that keeps what it receives.
type sink struct {
	addr string
	got  chan received
}

type received struct {
	from string
	to   []string
	data []byte
}

func (r received) header(t *testing.T) mail.Header {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(r.data))
	if err != nil {
		t.Fatal(err)
	}
	return mr.Header
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{got: make(chan received, 100)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *sink) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("smarthost received nothing")
	}
	return received{}
}

type sinkSession struct {
	s   *sink
	cur received
}

func (x *sinkSession) Reset()        { x.cur = received{} }
func (x *sinkSession) Logout() error { return nil }
func (x *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	x.cur.from = from
	return nil
}
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.cur.to = append(x.cur.to, to)
	return nil
}
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.cur.data = b
	x.s.got <- x.cur
	return nil
}

var _ = errors.New

func TestSwaksAuth(t *testing.T) {
	cfg := email.DefaultConfig()
	cfg.Users = map[string]string{"relay": "s3cret"}
	cfg.RequireAuth, cfg.InsecureAuth = true, true
	r := start(t, nil, desktest.New(t, 0), cfg)
	out, ok := swaks(t, r.addr, "--to", "support@example.com", "--from", "a@example.org", "--body", "hi")
	if ok || !strings.Contains(out, "<** 530") {
		t.Fatalf("unauthenticated relay not refused with 530:\n%s", out)
	}
	out, ok = swaks(t, r.addr, "--to", "support@example.com", "--from", "a@example.org", "--body", "hi",
		"--auth", "PLAIN", "--auth-user", "relay", "--auth-password", "wrong")
	if ok {
		t.Fatalf("wrong password accepted:\n%s", out)
	}
	mustSwaks(t, r.addr, "--to", "support@example.com", "--from", "a@example.org", "--body", "hi",
		"--auth", "PLAIN", "--auth-user", "relay", "--auth-password", "s3cret")
}
