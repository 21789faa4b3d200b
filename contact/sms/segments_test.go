package sms

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		n    int
		enc  string
	}{
		{"empty", "", 0, GSM7},
		{"short", "Hello", 1, GSM7},
		{"160 GSM", strings.Repeat("a", 160), 1, GSM7},
		{"161 GSM", strings.Repeat("a", 161), 2, GSM7},
		{"306 GSM", strings.Repeat("a", 306), 2, GSM7},
		{"307 GSM", strings.Repeat("a", 307), 3, GSM7},
		{"extension chars take two", strings.Repeat("€", 80), 1, GSM7},
		{"81 euros = 162 septets", strings.Repeat("€", 81), 2, GSM7},
		{"escape pair not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), 2, GSM7},
		{"GSM accents", "Ça va? ñ ü é", 1, GSM7},
		{"70 Chinese", strings.Repeat("退", 70), 1, UCS2},
		{"71 Chinese", strings.Repeat("退", 71), 2, UCS2},
		{"134 Chinese", strings.Repeat("退", 134), 2, UCS2},
		{"135 Chinese", strings.Repeat("退", 135), 3, UCS2},
		{"one non-GSM char makes all UCS-2", strings.Repeat("a", 70) + "ä" + "—", 2, UCS2},
		{"emoji take two units", strings.Repeat("😀", 35), 1, UCS2},
		{"36 emoji", strings.Repeat("😀", 36), 2, UCS2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, enc := Segments(tc.body)
			if n != tc.n || enc != tc.enc {
				t.Fatalf("Segments = %d %s, want %d %s", n, enc, tc.n, tc.enc)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		max  int
	}{
		{"words GSM", strings.Repeat("lorem ipsum ", 100), 2},
		{"no spaces", strings.Repeat("x", 1000), 3},
		{"Chinese", strings.Repeat("您好，请问有什么可以帮您", 40), 1},
		{"emoji", strings.Repeat("😀", 100), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := split(tc.body, tc.max)
			if len(parts) < 2 {
				t.Fatalf("%d parts", len(parts))
			}
			for i, p := range parts {
				if n, _ := Segments(p); n > tc.max || n == 0 {
					t.Fatalf("part %d: %d segments, max %d", i, n, tc.max)
				}
			}
			if strip(strings.Join(parts, "")) != strip(tc.body) {
				t.Fatal("parts do not add up to the body")
			}
		})
	}
}

func strip(s string) string { return strings.Join(strings.Fields(s), "") }
