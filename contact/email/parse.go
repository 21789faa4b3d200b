package email

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // GB2312, GBK, GB18030, Big5, ISO-8859-x …
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/microcosm-cc/bluemonday"
)

// AutoKind says why a message is automatic (not written by a person).
type AutoKind string

// Kinds of automatic messages.
const (
	NotAuto   AutoKind = ""
	AutoReply AutoKind = "auto-reply" // vacation, out-of-office, list traffic
	Bounce    AutoKind = "bounce"     // delivery status notification
)

// Mail is a parsed message.
type Mail struct {
	MessageID  string // without angle brackets
	InReplyTo  []string
	References []string
	From       string // address, as written
	FromName   string
	To         []string
	Subject    string
	Date       time.Time
	// Text is the full plain text (from text/plain, else converted from HTML).
	Text string
	// Display is Text with the quoted earlier conversation trimmed.
	Display string
	// HTML is the sanitised HTML alternative, if any.
	HTML        string
	Attachments []Part
	Auto        AutoKind
	// BounceOf lists the Message-IDs of the messages a bounce reports on.
	BounceOf []string
}

// Part is an attachment (or inline image).
type Part struct {
	Name        string
	ContentType string
	ContentID   string
	Data        []byte
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// RemoteImages keeps http(s) image sources in the sanitised HTML.
	RemoteImages bool
}

const (
	maxDepth = 16
	maxParts = 512
)

// Parse reads one RFC 5322 message. A message that is not valid MIME
// returns an error wrapping ErrMalformed. Unknown charsets and transfer
// encodings are not errors: the bytes are kept, invalid UTF-8 replaced.
func Parse(r io.Reader, o ParseOptions) (*Mail, error) {
	e, err := message.Read(r)
	if err != nil && !lenient(err) {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	h := mail.Header{Header: e.Header}
	m := &Mail{}
	m.MessageID = msgID(h, "Message-Id")
	m.InReplyTo = msgIDs(h, "In-Reply-To")
	m.References = msgIDs(h, "References")
	if s, err := h.Subject(); err == nil {
		m.Subject = cleanText(s)
	} else {
		m.Subject = cleanText(h.Get("Subject"))
	}
	m.Subject = strings.Join(strings.Fields(m.Subject), " ")
	if addrs, err := h.AddressList("From"); err == nil && len(addrs) > 0 {
		m.From, m.FromName = addrs[0].Address, cleanText(addrs[0].Name)
	} else if a := addrRe.FindString(h.Get("From")); a != "" {
		m.From = a
	}
	if addrs, err := h.AddressList("To"); err == nil {
		for _, a := range addrs {
			m.To = append(m.To, a.Address)
		}
	}
	m.Date, _ = h.Date()
	m.Auto = autoKind(h, m.From)

	w := &walker{m: m, opts: o}
	if err := w.walk(e, 0, false); err != nil {
		return nil, err
	}
	if m.Text == "" && m.HTML != "" {
		m.Text = htmlToText(w.rawHTML)
	}
	m.Text = strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n"))
	m.Display = TrimQuoted(m.Text)
	if m.Auto == Bounce && len(m.BounceOf) == 0 {
		// A bounce without a report part: look for the original's id.
		for _, s := range msgIDInBody.FindAllStringSubmatch(m.Text, 4) {
			m.BounceOf = append(m.BounceOf, s[1])
		}
		m.BounceOf = append(m.BounceOf, m.InReplyTo...)
	}
	return m, nil
}

var (
	addrRe      = regexp.MustCompile(`[A-Za-z0-9._%+\-=]+@[A-Za-z0-9.\-]+`)
	msgIDInBody = regexp.MustCompile(`(?im)^\s*Message-ID:\s*<([^>\s]+)>`)
)

func lenient(err error) bool {
	return message.IsUnknownCharset(err) || message.IsUnknownEncoding(err)
}

type walker struct {
	m       *Mail
	opts    ParseOptions
	parts   int
	rawHTML string
}

func (w *walker) walk(e *message.Entity, depth int, inAlternative bool) error {
	w.parts++
	if depth > maxDepth || w.parts > maxParts {
		return fmt.Errorf("%w: too deeply nested or too many parts", ErrMalformed)
	}
	ct, params, err := e.Header.ContentType()
	if err != nil {
		ct, params = "text/plain", nil // RFC 2045 default
	}
	if mr := e.MultipartReader(); mr != nil {
		if params["boundary"] == "" {
			return fmt.Errorf("%w: %s without boundary", ErrMalformed, ct)
		}
		if ct == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
			w.m.Auto = Bounce
		}
		alt := ct == "multipart/alternative"
		n := 0
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil && !lenient(err) {
				return fmt.Errorf("%w: %s part %d: %v", ErrMalformed, ct, n+1, err)
			}
			n++
			if err := w.walk(p, depth+1, alt || inAlternative); err != nil {
				return err
			}
		}
		if n == 0 {
			return fmt.Errorf("%w: %s with no parts", ErrMalformed, ct)
		}
		return nil
	}
	body, err := io.ReadAll(e.Body)
	if err != nil {
		return fmt.Errorf("%w: %s body: %v", ErrMalformed, ct, err)
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = decodeWord(name)
	attachment := disp == "attachment" || (name != "" && !strings.HasPrefix(ct, "text/"))
	switch {
	case ct == "text/plain" && !attachment:
		t := cleanText(string(body))
		if w.m.Text == "" {
			w.m.Text = t
		} else if !inAlternative {
			w.m.Text += "\n\n" + t
		}
		return nil
	case ct == "text/html" && !attachment && w.m.HTML == "":
		w.rawHTML = cleanText(string(body))
		w.m.HTML = sanitize(w.rawHTML, w.opts.RemoteImages)
		return nil
	case ct == "message/rfc822" || ct == "text/rfc822-headers" || ct == "message/rfc822-headers":
		if w.m.Auto == Bounce {
			if hdr, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(body))); err == nil {
				mh := mail.Header{Header: message.Header{Header: hdr}}
				if id := msgID(mh, "Message-Id"); id != "" {
					w.m.BounceOf = append(w.m.BounceOf, id)
				}
			}
		}
		if name == "" {
			name = "message.eml"
		}
	case ct == "message/delivery-status":
		if name == "" {
			name = "delivery-status.txt"
		}
	}
	if name == "" {
		exts, _ := mime.ExtensionsByType(ct)
		name = "attachment"
		if len(exts) > 0 {
			name += exts[0]
		}
	}
	w.m.Attachments = append(w.m.Attachments, Part{
		Name: sanitizeName(name), ContentType: ct, Data: body,
		ContentID: strings.Trim(e.Header.Get("Content-Id"), "<> "),
	})
	return nil
}

func msgID(h mail.Header, key string) string {
	if id, err := h.MessageID(); key == "Message-Id" && err == nil && id != "" {
		return id
	}
	ids := msgIDs(h, key)
	if len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// msgIDs parses a list of message ids leniently (clients write them badly).
func msgIDs(h mail.Header, key string) []string {
	if l, err := h.MsgIDList(key); err == nil && len(l) > 0 {
		return l
	}
	var out []string
	for _, s := range looseID.FindAllStringSubmatch(h.Get(key), 64) {
		out = append(out, s[1])
	}
	return out
}

var looseID = regexp.MustCompile(`<([^<>\s]+)>`)

func autoKind(h mail.Header, from string) AutoKind {
	local, _, _ := strings.Cut(strings.ToLower(from), "@")
	if local == "mailer-daemon" || local == "postmaster" {
		return Bounce
	}
	ct, params, _ := h.ContentType()
	if ct == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
		return Bounce
	}
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return AutoReply
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return AutoReply
	}
	if h.Has("X-Autoreply") || h.Has("X-Autorespond") || h.Has("X-Auto-Reply") {
		return AutoReply
	}
	return NotAuto
}

// cleanText makes s valid UTF-8 (bytes of an unknown charset are replaced).
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

func decodeWord(s string) string {
	d := mime.WordDecoder{CharsetReader: message.CharsetReader}
	if out, err := d.DecodeHeader(s); err == nil {
		return cleanText(out)
	}
	return cleanText(s)
}

// sanitizeName keeps a file name safe to show and to put in a header.
func sanitizeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == '"' {
			return '_'
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

var (
	strictPolicy = bluemonday.StrictPolicy()
	blockTags    = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/tr|/h[1-6]|li|/li|/blockquote|/table)\b[^>]*>`)
	styleScript  = regexp.MustCompile(`(?is)<(style|script|head)\b.*?</(style|script|head)\s*>`)
	blankLines   = regexp.MustCompile(`\n[ \t]*\n([ \t]*\n)+`)
)

func htmlToText(s string) string {
	s = styleScript.ReplaceAllString(s, "")
	s = blockTags.ReplaceAllString(s, "\n$0")
	s = html.UnescapeString(strictPolicy.Sanitize(s))
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

var htmlPolicy, htmlPolicyImages = newPolicy(false), newPolicy(true)

func newPolicy(remote bool) *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("mailto", "http", "https", "cid")
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	if !remote {
		p.RewriteSrc(func(u *url.URL) {
			if u.Scheme != "cid" {
				*u = url.URL{Scheme: "cid", Opaque: "blocked-remote-image"}
			}
		})
	}
	return p
}

func sanitize(s string, remote bool) string {
	if remote {
		return htmlPolicyImages.Sanitize(s)
	}
	return htmlPolicy.Sanitize(s)
}

// syntheticID gives a message without a Message-ID a stable one, so a
// redelivery of the same bytes is still recognised.
func syntheticID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16]) + "@contacthub.invalid"
}

func parseAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	return a.Address, nil
}
