package email

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func encode(t *testing.T, enc encoding.Encoding, s string) string {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return string(b)
}

func TestParseCharsets(t *testing.T) {
	tests := []struct {
		charset string
		enc     encoding.Encoding
		text    string
	}{
		{"gb2312", simplifiedchinese.GBK, "您好，我的订单还没有到。"},
		{"GBK", simplifiedchinese.GBK, "退货申请：鞋子尺码不合适"},
		{"GB18030", simplifiedchinese.GB18030, "发票问题 𠀀"},
		{"Big5", traditionalchinese.Big5, "請問退款何時到帳？"},
		{"ISO-8859-1", charmap.ISO8859_1, "Grüße aus München, café"},
	}
	for _, tc := range tests {
		t.Run(tc.charset, func(t *testing.T) {
			raw := "From: =?" + tc.charset + "?B?" + b64(encode(t, tc.enc, name(tc.charset))) + "?= <wang.fang@example.com>\r\n" +
				"To: support@example.com\r\n" +
				"Subject: =?" + tc.charset + "?B?" + b64(encode(t, tc.enc, tc.text)) + "?=\r\n" +
				"Message-ID: <cs-" + tc.charset + "@example.com>\r\n" +
				"MIME-Version: 1.0\r\n" +
				"Content-Type: text/plain; charset=" + tc.charset + "\r\n" +
				"Content-Transfer-Encoding: 8bit\r\n\r\n" +
				encode(t, tc.enc, tc.text) + "\r\n"
			m, err := Parse(strings.NewReader(raw), ParseOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.text, m.Subject)
			require.Equal(t, tc.text, m.Text)
			require.Equal(t, name(tc.charset), m.FromName)
			require.Equal(t, "wang.fang@example.com", m.From)
			require.Equal(t, "cs-"+tc.charset+"@example.com", m.MessageID)
		})
	}
}

func name(charset string) string {
	if charset == "ISO-8859-1" {
		return "Jürgen"
	}
	return "王芳"
}

func TestParseAlternativeAndAttachment(t *testing.T) {
	raw := "From: Li Wei <li.wei@example.com>\r\nTo: support@example.com\r\nSubject: Order 42\r\n" +
		"Message-ID: <alt@example.com>\r\nIn-Reply-To: <ch.1.2.abc@example.com>\r\nReferences: <root@example.com> <ch.1.2.abc@example.com>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=OUTER\r\n\r\n" +
		"--OUTER\r\nContent-Type: multipart/alternative; boundary=INNER\r\n\r\n" +
		"--INNER\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Where is my order?=0D=0A\r\n\r\nOn Mon, 1 Jan 2024 at 10:00, Support <support@example.com> wrote:\r\n> We shipped it.\r\n> Regards\r\n" +
		"--INNER\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<p onclick=\"x()\">Where is my <b>order</b>?</p><img src=\"http://tracker.example/pixel.gif\"><img src=\"cid:logo\"><script>alert(1)</script>\r\n" +
		"--INNER--\r\n" +
		"--OUTER\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?5Y+R56WoLnBkZg==?=\"\r\nContent-Disposition: attachment; filename=\"=?UTF-8?B?5Y+R56WoLnBkZg==?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"JVBERi0xLjQK\r\n--OUTER--\r\n"
	m, err := Parse(strings.NewReader(raw), ParseOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"ch.1.2.abc@example.com"}, m.InReplyTo)
	require.Equal(t, []string{"root@example.com", "ch.1.2.abc@example.com"}, m.References)
	require.Equal(t, "Where is my order?", m.Display)
	require.Contains(t, m.Text, "> We shipped it.")
	require.Contains(t, m.HTML, "<b>order</b>")
	require.NotContains(t, m.HTML, "tracker.example")
	require.NotContains(t, m.HTML, "script")
	require.NotContains(t, m.HTML, "onclick")
	require.Contains(t, m.HTML, "cid:logo")
	require.Len(t, m.Attachments, 1)
	require.Equal(t, "发票.pdf", m.Attachments[0].Name)
	require.Equal(t, "application/pdf", m.Attachments[0].ContentType)
	require.Equal(t, "%PDF-1.4\n", string(m.Attachments[0].Data))

	m, err = Parse(strings.NewReader(raw), ParseOptions{RemoteImages: true})
	require.NoError(t, err)
	require.Contains(t, m.HTML, "tracker.example")
}

func TestParseHTMLOnly(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><p>Hello &amp; welcome</p><p>Line two<br>three</p></body></html>\r\n"
	m, err := Parse(strings.NewReader(raw), ParseOptions{})
	require.NoError(t, err)
	require.Equal(t, "Hello & welcome\nLine two\nthree", m.Text)
}

func TestParseAutomatic(t *testing.T) {
	base := "From: %s\r\nTo: support@example.com\r\nSubject: Out of office\r\n%s\r\nhello\r\n"
	tests := []struct {
		name, from, headers string
		want                AutoKind
	}{
		{"person", "li.wei@example.com", "", NotAuto},
		{"auto-submitted no", "li.wei@example.com", "Auto-Submitted: no\r\n", NotAuto},
		{"auto-submitted", "li.wei@example.com", "Auto-Submitted: auto-replied\r\n", AutoReply},
		{"precedence bulk", "li.wei@example.com", "Precedence: bulk\r\n", AutoReply},
		{"precedence list", "li.wei@example.com", "Precedence: list\r\n", AutoReply},
		{"precedence junk", "li.wei@example.com", "Precedence: junk\r\n", AutoReply},
		{"x-autoreply", "li.wei@example.com", "X-Autoreply: yes\r\n", AutoReply},
		{"mailer-daemon", "MAILER-DAEMON@mx.example.net", "", Bounce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := strings.Replace(strings.Replace(base, "%s", tc.from, 1), "%s", tc.headers, 1)
			m, err := Parse(strings.NewReader(raw), ParseOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.want, m.Auto)
		})
	}
}

func TestParseDSN(t *testing.T) {
	raw, err := os.ReadFile("testdata/dsn.eml")
	require.NoError(t, err)
	m, err := Parse(bytes.NewReader(raw), ParseOptions{})
	require.NoError(t, err)
	require.Equal(t, Bounce, m.Auto)
	require.Equal(t, []string{"ch.7.9.0011223344556677@example.com"}, m.BounceOf)
}

func TestParseMalformed(t *testing.T) {
	tests := map[string]string{
		"header line without colon":  "From: a@example.com\r\nthis is not a header\r\n\r\nbody\r\n",
		"multipart without boundary": "From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n",
		"unterminated multipart":     "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
		"bad base64":                 "From: a@example.com\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!****\r\n",
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(raw), ParseOptions{})
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestTrimQuoted(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"gmail", "Thanks!\n\nOn Tue, Mar 5, 2024 at 9:00 AM Support <s@example.com> wrote:\n> old\n> text", "Thanks!"},
		{"wrapped attribution", "Yes.\n\nOn Tue, Mar 5, 2024 at 9:00 AM Customer Service <support@example.com>\nwrote:\n> old", "Yes."},
		{"outlook", "Fine.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nold", "Fine."},
		{"outlook header block", "Ok\n\nFrom: Support <s@example.com>\nSent: Monday, 4 March\nTo: me\nold", "Ok"},
		{"chinese", "好的，谢谢\n\n在 2024年3月5日 09:00，客服 <s@example.com> 写道：\n> 旧内容", "好的，谢谢"},
		{"foxmail", "收到\n\n------------------ 原始邮件 ------------------\n发件人: 客服", "收到"},
		{"trailing quote", "See below\n> quoted\n> more", "See below"},
		{"interleaved kept", "> question?\nanswer\n> second?\nanswer two", "> question?\nanswer\n> second?\nanswer two"},
		{"only quote kept", "> all quoted", "> all quoted"},
		{"plain", "Hello\nthere", "Hello\nthere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, TrimQuoted(tc.in)) })
	}
}

func TestReplySubject(t *testing.T) {
	require.Equal(t, "Re: Order 42 [#CH-7]", replySubject("Order 42", 7))
	require.Equal(t, "Re: Order 42 [#CH-7]", replySubject("RE: Re: Order 42 [#CH-7]", 7))
	require.Equal(t, "Re: 订单 [#CH-7]", replySubject("回复：订单", 7))
}

func TestQueueFor(t *testing.T) {
	c := DefaultConfig()
	c.Recipients["help@acme.test"] = "general"
	for _, tc := range []struct {
		rcpt string
		want string
		ok   bool
	}{
		{"support@example.com", "general", true},
		{"<Support@LOCALHOST>", "general", true},
		{"support+orders@example.com", "general", true},
		{"vip@example.com", "priority", true},
		{"help@acme.test", "general", true},
		{"support@other.test", "", false},
		{"nobody@example.com", "", false},
	} {
		q, ok := c.queueFor(tc.rcpt)
		require.Equal(t, tc.ok, ok, tc.rcpt)
		require.Equal(t, tc.want, string(q), tc.rcpt)
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.eml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n--X--"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=\"\"\r\n\r\n"))
	f.Add([]byte("Subject: =?GB2312?B?xPO6wg==?=\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n\xc4\xfa\xba\xc3"))
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n"))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte(":\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(bytes.NewReader(raw), ParseOptions{})
		if err != nil {
			return
		}
		for _, s := range []string{m.Subject, m.Text, m.Display, m.HTML, m.FromName} {
			if !utf8Valid(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }
