package sms

import "strings"

// Encodings reported by Segments.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 basic character set (one septet each).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table (escape + char: two septets).
const gsmExtension = "\f^{}\\[~]|€"

var gsmWidth = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Segment capacities in units (septets for GSM-7, UTF-16 code units for UCS-2).
const (
	gsmSingle  = 160
	gsmMulti   = 153 // 7 septets go to the concatenation header
	ucs2Single = 70
	ucs2Multi  = 67
)

// Segments returns how many SMS segments body takes and the encoding a
// handset uses for it: GSM-7 (160 septets in one segment, 153 per segment
// when concatenated; characters of the extension table such as € [ ] { }
// take two) when every character is in the GSM 03.38 set, else UCS-2 (70
// UTF-16 code units, 67 when concatenated; emoji outside the BMP take two).
// A character never straddles two segments. An empty body is 0 segments.
// The console can call it to show "n segments" while the agent types.
func Segments(body string) (n int, encoding string) {
	enc, widths := encode(body)
	return countSegments(widths, enc), enc
}

// encode returns the encoding of body and the width of each of its runes.
func encode(body string) (string, []int) {
	widths := make([]int, 0, len(body))
	gsm := true
	for _, r := range body {
		w, ok := gsmWidth[r]
		if !ok {
			gsm = false
			break
		}
		widths = append(widths, w)
	}
	if gsm {
		return GSM7, widths
	}
	widths = widths[:0]
	for _, r := range body {
		w := 1
		if r > 0xFFFF {
			w = 2
		}
		widths = append(widths, w)
	}
	return UCS2, widths
}

func capacity(enc string, multi bool) int {
	switch {
	case enc == GSM7 && !multi:
		return gsmSingle
	case enc == GSM7:
		return gsmMulti
	case !multi:
		return ucs2Single
	}
	return ucs2Multi
}

func countSegments(widths []int, enc string) int {
	total := 0
	for _, w := range widths {
		total += w
	}
	if total == 0 {
		return 0
	}
	if total <= capacity(enc, false) {
		return 1
	}
	per := capacity(enc, true)
	n, used := 1, 0
	for _, w := range widths {
		if used+w > per {
			n++
			used = 0
		}
		used += w
	}
	return n
}

// split cuts body into parts of at most maxSegments segments each,
// preferring to cut after whitespace in the second half of a part.
func split(body string, maxSegments int) []string {
	if n, _ := Segments(body); n <= maxSegments {
		return []string{body}
	}
	enc, _ := encode(body)
	var parts []string
	runes := []rune(body)
	for len(runes) > 0 {
		cut := fit(runes, enc, maxSegments)
		if cut < len(runes) {
			for i := cut; i > cut/2; i-- {
				if runes[i-1] == ' ' || runes[i-1] == '\n' {
					cut = i
					break
				}
			}
		}
		if p := strings.TrimSpace(string(runes[:cut])); p != "" {
			parts = append(parts, p)
		}
		runes = runes[cut:]
	}
	return parts
}

// fit returns how many leading runes fit in maxSegments segments.
func fit(runes []rune, enc string, maxSegments int) int {
	width := func(r rune) int {
		if enc == GSM7 {
			return gsmWidth[r]
		}
		if r > 0xFFFF {
			return 2
		}
		return 1
	}
	// Greedy over concatenated segments; a part of one segment may use the
	// single-segment capacity.
	if maxSegments == 1 {
		used := 0
		for i, r := range runes {
			if used+width(r) > capacity(enc, false) {
				return max(i, 1)
			}
			used += width(r)
		}
		return len(runes)
	}
	per := capacity(enc, true)
	seg, used := 1, 0
	for i, r := range runes {
		w := width(r)
		if used+w > per {
			seg++
			used = 0
			if seg > maxSegments {
				return max(i, 1)
			}
		}
		used += w
	}
	return len(runes)
}
