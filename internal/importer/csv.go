// Package importer reads customers and orders from CSV files and hands
// them to the store in COPY-sized batches, reporting rejected rows without
// aborting the good ones.
//
// Files are UTF-8 with a header row; columns are found by name (any order,
// case-insensitive, surrounding spaces ignored).
//
// customers: external_id, name, phone, email (required columns; phone and
// email may be empty), company, language (optional columns).
//
// orders: external_id, customer_external_id, amount, ordered_at (required),
// margin, currency, paid_on_time (optional). ordered_at is YYYY-MM-DD (UTC
// midnight) or RFC 3339; amount and margin are decimals with at most two
// decimal places (amount ≥ 0); paid_on_time is true/false/yes/no/1/0 or empty.
package importer

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/store"
)

// ErrHeader means the header row lacks a required column.
var ErrHeader = errors.New("importer: bad header")

// Header maps column names to positions.
type Header struct {
	idx map[string]int
	n   int
}

// ParseHeader reads a header row and checks the required columns.
func ParseHeader(rec []string, required ...string) (Header, error) {
	h := Header{idx: map[string]int{}, n: len(rec)}
	for i, name := range rec {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		if _, dup := h.idx[name]; dup && name != "" {
			return h, fmt.Errorf("%w: column %q twice", ErrHeader, name)
		}
		h.idx[name] = i
	}
	var missing []string
	for _, r := range required {
		if _, ok := h.idx[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return h, fmt.Errorf("%w: missing column(s) %s", ErrHeader, strings.Join(missing, ", "))
	}
	return h, nil
}

// CustomerColumns and OrderColumns are the required columns.
var (
	CustomerColumns = []string{"external_id", "name", "phone", "email"}
	OrderColumns    = []string{"external_id", "customer_external_id", "amount", "ordered_at"}
)

func (h Header) get(rec []string, name string) (string, bool) {
	i, ok := h.idx[name]
	if !ok {
		return "", false
	}
	return strings.TrimSpace(rec[i]), true
}

func (h Header) check(rec []string) error {
	if len(rec) != h.n {
		return fmt.Errorf("wrong column count: %d, header has %d", len(rec), h.n)
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return fmt.Errorf("column %d is not valid UTF-8", i+1)
		}
	}
	return nil
}

// ParseCustomer validates and normalises one customer row.
func ParseCustomer(h Header, rec []string, norm customer.Normalizer) (store.CustomerImport, error) {
	var c store.CustomerImport
	if err := h.check(rec); err != nil {
		return c, err
	}
	c.ExternalID, _ = h.get(rec, "external_id")
	c.Name, _ = h.get(rec, "name")
	if c.ExternalID == "" {
		return c, errors.New("external_id is empty")
	}
	if len(c.ExternalID) > 200 || len(c.Name) > 500 {
		return c, errors.New("external_id or name too long")
	}
	if v, ok := h.get(rec, "company"); ok {
		c.Company = &v
	}
	if v, ok := h.get(rec, "language"); ok {
		c.Language = &v
	}
	if p, _ := h.get(rec, "phone"); p != "" {
		v, err := norm.Normalize(contact.Phone, p)
		if err != nil {
			return c, fmt.Errorf("malformed phone %q", p)
		}
		c.Phone = v
	}
	if e, _ := h.get(rec, "email"); e != "" {
		v, err := norm.Normalize(contact.EmailAddr, e)
		if err != nil {
			return c, fmt.Errorf("malformed email %q", e)
		}
		c.Email = v
	}
	return c, nil
}

var decimalRE = regexp.MustCompile(`^-?[0-9]{1,12}(\.[0-9]{1,2})?$`)

// ParseOrder validates one order row.
func ParseOrder(h Header, rec []string) (store.OrderImport, error) {
	var o store.OrderImport
	if err := h.check(rec); err != nil {
		return o, err
	}
	o.ExternalID, _ = h.get(rec, "external_id")
	o.CustomerExternalID, _ = h.get(rec, "customer_external_id")
	if o.ExternalID == "" || o.CustomerExternalID == "" {
		return o, errors.New("external_id and customer_external_id are required")
	}
	amt, _ := h.get(rec, "amount")
	if !decimalRE.MatchString(amt) {
		return o, fmt.Errorf("bad amount %q", amt)
	}
	if strings.HasPrefix(amt, "-") {
		return o, fmt.Errorf("negative amount %s", amt)
	}
	o.Amount = amt
	if m, _ := h.get(rec, "margin"); m != "" {
		if !decimalRE.MatchString(m) {
			return o, fmt.Errorf("bad margin %q", m)
		}
		o.Margin = &m
	}
	if cur, _ := h.get(rec, "currency"); cur != "" {
		cur = strings.ToUpper(cur)
		if len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return o, fmt.Errorf("bad currency %q (want ISO 4217, e.g. CNY)", cur)
		}
		o.Currency = cur
	}
	d, _ := h.get(rec, "ordered_at")
	t, err := ParseDate(d)
	if err != nil {
		return o, err
	}
	o.OrderedAt = t
	if p, _ := h.get(rec, "paid_on_time"); p != "" {
		b, err := parseBool(p)
		if err != nil {
			return o, err
		}
		o.PaidOnTime = &b
	}
	return o, nil
}

// ParseDate reads YYYY-MM-DD (UTC) or RFC 3339, years 1900..2999.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err != nil || t.Year() < 1900 || t.Year() > 2999 {
		return time.Time{}, fmt.Errorf("bad date %q (want YYYY-MM-DD or RFC 3339)", s)
	}
	return t, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "y", "t":
		return true, nil
	case "0", "false", "no", "n", "f":
		return false, nil
	}
	return false, fmt.Errorf("bad paid_on_time %q", s)
}

// itoa is for messages.
func itoa(n int) string { return strconv.Itoa(n) }
