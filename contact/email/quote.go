package email

import (
	"regexp"
	"strings"
)

// Attribution lines clients put above the quoted conversation.
var quoteHeaders = []*regexp.Regexp{
	regexp.MustCompile(`^On\b.{0,200}\bwrote:\s*$`),                         // Gmail, Apple Mail, Thunderbird
	regexp.MustCompile(`^Am\b.{0,200}\bschrieb.{0,80}:\s*$`),                // German
	regexp.MustCompile(`^Le\b.{0,200}\ba écrit\s*:\s*$`),                    // French
	regexp.MustCompile(`^在.{0,200}(写道|寫道)[:：]?\s*$`),                        // Chinese clients
	regexp.MustCompile(`^-{2,}\s*(Original Message|原始邮件|原始郵件)\s*-{2,}\s*$`), // Outlook, Foxmail
	regexp.MustCompile(`^_{10,}\s*$`),                                       // Outlook web separator
	regexp.MustCompile(`^(From|发件人|寄件者):\s.+`),                              // Outlook header block
}

// TrimQuoted returns the new part of a reply: the text above the quoted
// earlier conversation ("On … wrote:" and the "> " lines after it, an
// Outlook "-----Original Message-----" block, trailing "> " lines). The
// whole text is returned when nothing would be left.
func TrimQuoted(text string) string {
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, ">") && restQuoted(lines[i:]) {
			cut = i
			break
		}
		if isQuoteHeader(lines, i) {
			cut = i
			break
		}
	}
	out := strings.TrimSpace(strings.Join(lines[:cut], "\n"))
	if out == "" {
		return strings.TrimSpace(text)
	}
	return out
}

func isQuoteHeader(lines []string, i int) bool {
	t := strings.TrimSpace(lines[i])
	// Attribution lines wrapped over two lines ("On Mon, … <a@b>\nwrote:").
	joined := t
	if i+1 < len(lines) {
		joined = t + " " + strings.TrimSpace(lines[i+1])
	}
	for k, re := range quoteHeaders {
		if !re.MatchString(t) && !(k == 0 && re.MatchString(joined)) {
			continue
		}
		if k == len(quoteHeaders)-1 { // From: needs a Sent:/Date: below it
			for _, n := range lines[i+1 : min(len(lines), i+5)] {
				n = strings.TrimSpace(n)
				if strings.HasPrefix(n, "Sent:") || strings.HasPrefix(n, "Date:") || strings.HasPrefix(n, "发送时间") || strings.HasPrefix(n, "日期") {
					return true
				}
			}
			return false
		}
		return true
	}
	return false
}

// restQuoted: every remaining non-blank line is quoted (or a signature).
func restQuoted(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, ">") {
			continue
		}
		return false
	}
	return true
}
