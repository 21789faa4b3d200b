package customer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestNormalize(t *testing.T) {
	t.Parallel()
	n := customer.Normalizer{Region: "CN"}
	tests := []struct {
		kind contact.IdentityKind
		in   string
		want string // "" = invalid
	}{
		{contact.Phone, "138 0013 8000", "+8613800138000"},
		{contact.Phone, "13800138000", "+8613800138000"},
		{contact.Phone, "+86 138-0013-8000", "+8613800138000"},
		{contact.Phone, "0086 138 0013 8000", "+8613800138000"},
		{contact.Phone, "+86 10 6552 9988", "+861065529988"},
		{contact.Phone, "(010) 6552-9988", "+861065529988"},
		{contact.Phone, "010 6552 9988", "+861065529988"},
		{contact.Phone, "tel:+8613800138000", "+8613800138000"},
		{contact.Phone, "sip:+8613800138000@pbx.example.com", "+8613800138000"},
		{contact.Phone, "+44 20 7946 0958", "+442079460958"},
		{contact.Phone, "+1 415 555 2671", "+14155552671"},
		{contact.Phone, "12", ""},
		{contact.Phone, "abc", ""},
		{contact.Phone, "", ""},
		{contact.Phone, "+86 999", ""},
		{contact.EmailAddr, "  LI.Wei@Example.COM ", "li.wei@example.com"},
		{contact.EmailAddr, `"Li" <LI@x.com>`, "li@x.com"},
		{contact.EmailAddr, "李 <li@example.cn>", "li@example.cn"},
		{contact.EmailAddr, "not an email", ""},
		{contact.EmailAddr, "a@", ""},
		{contact.Visitor, " v-123:abc ", "v-123:abc"},
		{contact.Visitor, "bad visitor!", ""},
		{"fax", "123", ""},
	}
	for _, tc := range tests {
		got, err := n.Normalize(tc.kind, tc.in)
		if tc.want == "" {
			if !errors.Is(err, customer.ErrInvalidIdentity) {
				t.Errorf("%s %q: got %q, %v; want ErrInvalidIdentity", tc.kind, tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %q = %q, %v; want %q", tc.kind, tc.in, got, err, tc.want)
		}
	}
}

func TestResolveLinkMerge(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	svc := customer.New(st, "CN", customer.DefaultValueConfig(), nil)

	m, err := svc.Resolve(ctx, contact.Phone, "138 0013 8000")
	if !errors.Is(err, customer.ErrUnknown) || m.CustomerID != 0 || m.Tier != customer.TierStandard || m.Normalized != "+8613800138000" {
		t.Fatalf("unknown caller: %+v, %v", m, err)
	}
	a, err := svc.CreateFromIdentity(ctx, contact.Phone, "138 0013 8000", "Caller")
	if err != nil {
		t.Fatal(err)
	}
	m, err = svc.Resolve(ctx, contact.Phone, "+86 138 0013 8000")
	if err != nil || m.CustomerID != a.ID || m.Tier != customer.TierBronze {
		t.Fatalf("resolve: %+v, %v", m, err)
	}
	b, err := svc.Create(ctx, customer.NewCustomer{ExternalID: "B", Name: "B", Company: "Acme",
		Identities: []contact.Identity{{Kind: contact.EmailAddr, Value: "B@Example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Link(ctx, a.ID, contact.EmailAddr, "b@example.com", false); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("link someone else's email: %v", err)
	}
	if _, err := svc.AddOrder(ctx, b.ID, customer.NewOrder{Amount: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddOrder(ctx, b.ID, customer.NewOrder{Amount: -1}); !errors.Is(err, customer.ErrInvalid) {
		t.Fatalf("negative amount: %v", err)
	}
	// A table from a later migration (contacts) referring to customers.
	if _, err := st.Pool.Exec(ctx, `CREATE TABLE contacts_x (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers(id));
		INSERT INTO contacts_x (customer_id) VALUES (`+itoa(int64(b.ID))+`)`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO feedback (customer_id, csat) VALUES ($1, 5)`, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Merge(ctx, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Profile(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("merged-away customer still there: %v", err)
	}
	p, err := svc.Profile(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Identities) != 2 || p.Orders.Count != 1 || p.Company != "Acme" || p.LastCSAT == nil || *p.LastCSAT != 5 {
		t.Fatalf("after merge: %+v", p)
	}
	var n int
	st.Pool.QueryRow(ctx, `SELECT count(*) FROM contacts_x WHERE customer_id = $1`, a.ID).Scan(&n)
	if n != 1 {
		t.Fatal("contacts not moved")
	}
	if m, err := svc.Resolve(ctx, contact.EmailAddr, `"B" <b@EXAMPLE.com>`); err != nil || m.CustomerID != a.ID {
		t.Fatalf("email after merge: %+v %v", m, err)
	}
}

func TestProfileAndPin(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	svc := customer.New(st, "CN", customer.DefaultValueConfig(), nil)
	now := time.Now()
	var ids []contact.CustomerID
	for i := 0; i < 20; i++ {
		c, err := svc.Create(ctx, customer.NewCustomer{Name: "c" + itoa(int64(i))})
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k <= i; k++ {
			if _, err := svc.AddOrder(ctx, c.ID, customer.NewOrder{Amount: float64(10 * (i + 1)), OrderedAt: now.AddDate(0, 0, -5-10*k)}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, c.ID)
	}
	if _, err := svc.Recompute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	p, err := svc.Profile(ctx, ids[19])
	if err != nil {
		t.Fatal(err)
	}
	if !p.KeyAccount || p.ABC != "A" || p.RFM.Cell != "5-5-5" || p.RFM.Segment != "high_value" || p.Hint != "key account — premium service" {
		t.Fatalf("top customer: %+v", p)
	}
	before := p.Tier
	best, bestScore := contact.CustomerID(0), -1.0
	for _, id := range ids {
		q, _ := svc.Profile(ctx, id)
		if q.ValueScore > bestScore {
			best, bestScore = id, q.ValueScore
		}
	}
	if tier, _ := svc.Tier(ctx, best); tier != customer.TierPlatinum {
		t.Fatalf("highest composite %v is %s", bestScore, tier)
	}
	if err := svc.Pin(ctx, ids[19], "bronze"); err != nil {
		t.Fatal(err)
	}
	if tier, _ := svc.Tier(ctx, ids[19]); tier != customer.TierBronze {
		t.Fatalf("pinned tier: %s", tier)
	}
	if err := svc.Pin(ctx, ids[19], ""); err != nil {
		t.Fatal(err)
	}
	if tier, _ := svc.Tier(ctx, ids[19]); tier != before {
		t.Fatalf("unpinned tier: %s, want %s", tier, before)
	}
	if err := svc.Pin(ctx, ids[0], "diamond"); !errors.Is(err, customer.ErrInvalid) {
		t.Fatalf("bad tier: %v", err)
	}
}

func TestValueConfig(t *testing.T) {
	c := customer.DefaultValueConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Weights = customer.Weights{}
	c.RetentionByF[0] = 2
	if err := c.Validate(); err == nil {
		t.Fatal("bad config accepted")
	}
}

func itoa(n int64) string {
	const d = "0123456789"
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(d[n%10]) + s
	}
	return s
}
