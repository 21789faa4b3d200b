package importer

import (
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/contacthub/contacthub/internal/customer"
)

// FuzzParseRow feeds arbitrary CSV lines to both row parsers: they must
// never panic, and what they accept must be well-formed.
//
//	go test -fuzz FuzzParseRow ./internal/importer
func FuzzParseRow(f *testing.F) {
	for _, s := range []string{
		"C1,王芳,138 0013 8000,wang@example.com,ACME,zh",
		"C2,Li,+86 10 6552 9988,\"Li\" <LI@x.com>,,en",
		"C3,x,12,bad,,",
		"O1,C1,100.50,2025-01-02",
		"O2,C1,-1,2025-13-01",
		"O3,C1,1e9,2025-01-02T10:00:00+08:00",
		"\"a\"\"b\",,,,,",
		"\xff,\xfe,,",
		",,,,,,,,,,",
	} {
		f.Add(s)
	}
	ch, _ := ParseHeader(strings.Split("external_id,name,phone,email,company,language", ","), CustomerColumns...)
	oh, _ := ParseHeader(strings.Split("external_id,customer_external_id,amount,ordered_at", ","), OrderColumns...)
	norm := customer.Normalizer{Region: "CN"}
	f.Fuzz(func(t *testing.T, line string) {
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		rec, err := r.Read()
		if err != nil {
			return
		}
		if c, err := ParseCustomer(ch, rec, norm); err == nil {
			if c.ExternalID == "" || !utf8.ValidString(c.Name) {
				t.Fatalf("accepted bad customer %+v", c)
			}
			if c.Phone != "" && c.Phone[0] != '+' {
				t.Fatalf("phone not E.164: %q", c.Phone)
			}
		}
		if o, err := ParseOrder(oh, rec); err == nil {
			if strings.HasPrefix(o.Amount, "-") || o.OrderedAt.IsZero() {
				t.Fatalf("accepted bad order %+v", o)
			}
		}
	})
}
