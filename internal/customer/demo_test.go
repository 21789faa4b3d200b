package customer_test

import (
	"context"
	"testing"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/demo"
)

func TestDemoSeed(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	if err := demo.SeedCustomers(ctx, st, 3000, nil); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedCustomers(ctx, st, 3000, nil); err != nil { // idempotent
		t.Fatal(err)
	}
	var n int
	var topShare float64
	st.Pool.QueryRow(ctx, `SELECT count(*) FROM customers`).Scan(&n)
	// Share of window money made by class A customers, and their share of customers.
	var aShare float64
	st.Pool.QueryRow(ctx, `SELECT sum(monetary) FILTER (WHERE abc = 'A') / sum(monetary),
		count(*) FILTER (WHERE abc = 'A')::float8 / count(*) FILTER (WHERE frequency > 0) FROM customer_values`).Scan(&topShare, &aShare)
	if n != 3003 || topShare < 0.79 || aShare > 0.45 {
		t.Fatalf("customers %d, class A has %.2f of money with %.2f of customers", n, topShare, aShare)
	}
	var tiers int
	st.Pool.QueryRow(ctx, `SELECT count(DISTINCT tier) FROM customer_values`).Scan(&tiers)
	if tiers != 4 {
		t.Fatalf("%d tiers", tiers)
	}
	svc := customer.New(st, "CN", customer.DefaultValueConfig(), nil)
	for _, k := range demo.Known {
		m, err := svc.Resolve(ctx, contact.Phone, k.Phone)
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		p, err := svc.Profile(ctx, m.CustomerID)
		if err != nil || p.Tier != k.Tier || !p.TierPinned || p.Orders.Count == 0 {
			t.Fatalf("%s: %+v %v", k.Name, p, err)
		}
	}
	m, err := svc.Resolve(ctx, contact.EmailAddr, "Wang.Fang@Example.com")
	if err != nil || m.Tier != customer.TierPlatinum {
		t.Fatalf("wang fang by email: %+v %v", m, err)
	}
}
