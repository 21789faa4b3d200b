package store_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type ord struct {
	daysAgo float64
	amount  float64
	margin  *float64
	onTime  *bool
}

func ptr[T any](v T) *T { return &v }

// seed creates one customer per entry with its orders and returns the ids.
func seed(t *testing.T, st *store.Store, custs [][]ord) []contact.CustomerID {
	t.Helper()
	ctx := context.Background()
	var ids []contact.CustomerID
	for i, os := range custs {
		c, err := st.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("C%d", i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range os {
			if _, err := st.AddOrder(ctx, store.Order{CustomerID: c.ID, Amount: o.amount, Margin: o.margin, PaidOnTime: o.onTime,
				OrderedAt: now.Add(-time.Duration(o.daysAgo * float64(24*time.Hour)))}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, c.ID)
	}
	return ids
}

func recompute(t *testing.T, st *store.Store, p store.ValueParams) []store.CustomerValue {
	t.Helper()
	ctx := context.Background()
	if _, err := st.RecomputeValues(ctx, p, now, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Pool.Query(ctx, `SELECT customer_id FROM customer_values ORDER BY customer_id`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []contact.CustomerID
	for rows.Next() {
		var id contact.CustomerID
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var out []store.CustomerValue
	for _, id := range ids {
		v, err := st.CustomerValue(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func params() store.ValueParams { return customer.DefaultValueConfig().Params() }

func TestRFMQuintiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		custs   [][]ord
		r, f, m []int
	}{
		{
			// customer i orders i+1 times, last i+1 days ago, 100 each: F and M rise, R falls.
			name: "ten distinct",
			custs: func() [][]ord {
				var cs [][]ord
				for i := 0; i < 10; i++ {
					var os []ord
					for k := 0; k <= i; k++ {
						os = append(os, ord{daysAgo: float64(i + 1 + k), amount: 100})
					}
					cs = append(cs, os)
				}
				return cs
			}(),
			r: []int{5, 5, 4, 4, 3, 3, 2, 2, 1, 1},
			f: []int{1, 1, 2, 2, 3, 3, 4, 4, 5, 5},
			m: []int{1, 1, 2, 2, 3, 3, 4, 4, 5, 5},
		},
		{
			// All equal: ties are never split and share the highest score ntile gave any of them.
			name:  "all tied",
			custs: [][]ord{{{10, 50, nil, nil}}, {{10, 50, nil, nil}}, {{10, 50, nil, nil}}, {{10, 50, nil, nil}}, {{10, 50, nil, nil}}},
			r:     []int{5, 5, 5, 5, 5}, f: []int{5, 5, 5, 5, 5}, m: []int{5, 5, 5, 5, 5},
		},
		{
			// Ties across a quintile edge: ntile puts 1,1 | 1,2 | ...; both 1s groups become bucket 2.
			name:  "tie across edge",
			custs: [][]ord{{{1, 10, nil, nil}}, {{1, 10, nil, nil}}, {{1, 10, nil, nil}}, {{1, 20, nil, nil}}, {{1, 30, nil, nil}}, {{1, 40, nil, nil}}, {{1, 50, nil, nil}}, {{1, 60, nil, nil}}, {{1, 70, nil, nil}}, {{1, 80, nil, nil}}},
			r:     []int{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, f: []int{5, 5, 5, 5, 5, 5, 5, 5, 5, 5},
			m: []int{2, 2, 2, 2, 3, 3, 4, 4, 5, 5},
		},
		{
			name:  "single customer",
			custs: [][]ord{{{5, 100, nil, nil}}},
			r:     []int{1}, f: []int{1}, m: []int{1},
		},
		{
			name:  "no orders scores zero",
			custs: [][]ord{{}, {{5, 100, nil, nil}}},
			r:     []int{0, 1}, f: []int{0, 1}, m: []int{0, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := dbtest.New(t)
			seed(t, st, tc.custs)
			vs := recompute(t, st, params())
			for i, v := range vs {
				if v.R != tc.r[i] || v.F != tc.f[i] || v.M != tc.m[i] {
					t.Errorf("customer %d: RFM %d-%d-%d, want %d-%d-%d", i, v.R, v.F, v.M, tc.r[i], tc.f[i], tc.m[i])
				}
			}
		})
	}
}

func TestABCAndKeyAccounts(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	// Total 1000. Cumulative before each: 0, 500, 800, 900, 950, 980, ...
	amounts := []float64{500, 300, 100, 50, 30, 10, 5, 3, 1, 1}
	var custs [][]ord
	for _, a := range amounts {
		custs = append(custs, []ord{{10, a, nil, nil}})
	}
	custs = append(custs, nil) // a prospect
	seed(t, st, custs)
	vs := recompute(t, st, params())
	want := "AABBCCCCCCC"
	for i, v := range vs {
		if v.ABC != want[i:i+1] {
			t.Errorf("customer %d (money %v): class %s, want %c", i, v.Monetary, v.ABC, want[i])
		}
		if v.KeyAccount != (i == 0) { // top 5% of 10 with orders = 1
			t.Errorf("customer %d: key account %v", i, v.KeyAccount)
		}
	}
}

func TestCLV(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	// One customer, F score 1 → retention 0.30; margin 400 given, plus an
	// order with no margin: 200 × 0.25 = 50; an order 400 days ago does not count.
	seed(t, st, [][]ord{{{10, 1000, ptr(400.0), nil}, {20, 200, nil, nil}, {400, 9999, nil, nil}}})
	vs := recompute(t, st, params())
	cf := 450.0
	want := 0.0
	for i := 1; i <= 5; i++ {
		want += cf * math.Pow(0.30, float64(i)) / math.Pow(1.10, float64(i))
	}
	if math.Abs(vs[0].CLV-want) > 1e-6 {
		t.Fatalf("CLV = %v, want %v", vs[0].CLV, want)
	}
}

func TestTiersLifecycleQuadrant(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	// 20 customers with rising spend and frequency: composite rises with i.
	var custs [][]ord
	for i := 0; i < 20; i++ {
		var os []ord
		for k := 0; k <= i; k++ {
			os = append(os, ord{daysAgo: float64(5 + 15*k), amount: float64(10 * (i + 1)), onTime: ptr(true)})
		}
		custs = append(custs, os)
	}
	custs = append(custs,
		[]ord{{400, 100, nil, nil}},                       // 20: lapsed
		[]ord{{30, 100, nil, nil}},                        // 21: new
		[]ord{{200, 100, nil, nil}, {210, 100, nil, nil}}, // 22: at risk (silent 200 d, usual interval 10 d → floor 7 → 20 d)
		nil, // 23: prospect
	)
	ids := seed(t, st, custs)
	if err := st.SetPinnedTier(ctx, ids[0], "platinum"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO feedback (customer_id, csat, created_at) VALUES ($1, 2, $2), ($3, 5, $2)`,
		ids[19], now.Add(-48*time.Hour), ids[18]); err != nil {
		t.Fatal(err)
	}
	vs := recompute(t, st, params())
	count := map[string]int{}
	for i, v := range vs[1:20] {
		count[v.Tier]++
		_ = i
	}
	// 23 customers with orders: platinum ceil(5%)=2 (one of them customer 19), gold up to ceil(20%)=5, silver up to ceil(50%)=12.
	if vs[0].Tier != "platinum" {
		t.Errorf("pinned tier lost: %s", vs[0].Tier)
	}
	if vs[19].Tier != "platinum" || vs[17].Tier != "gold" {
		t.Errorf("top customers: 19 %s, 17 %s", vs[19].Tier, vs[17].Tier)
	}
	if vs[23].Tier != "bronze" || vs[23].Lifecycle != "prospect" || vs[23].Segment != "none" {
		t.Errorf("prospect: %+v", vs[23])
	}
	for i, want := range map[int]string{20: "lapsed", 21: "new", 22: "at_risk", 19: "active"} {
		if vs[i].Lifecycle != want {
			t.Errorf("customer %d lifecycle %s, want %s", i, vs[i].Lifecycle, want)
		}
	}
	if vs[19].Quadrant != "hostage" || vs[18].Quadrant != "loyal" || vs[21].Quadrant != "mercenary" {
		t.Errorf("quadrants: 19 %s, 18 %s, 21 %s", vs[19].Quadrant, vs[18].Quadrant, vs[21].Quadrant)
	}
	if vs[19].Satisfaction == nil || *vs[19].Satisfaction != 2 || vs[21].Satisfaction != nil {
		t.Errorf("satisfaction: %v %v", vs[19].Satisfaction, vs[21].Satisfaction)
	}
	if vs[19].ValueScore <= vs[5].ValueScore || vs[19].ValueScore > 100 {
		t.Errorf("composite: 19 %v, 5 %v", vs[19].ValueScore, vs[5].ValueScore)
	}

	// A new order rescores at once with the saved cut-offs.
	if _, err := st.AddOrder(ctx, store.Order{CustomerID: ids[23], Amount: 5000, OrderedAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.RescoreCustomer(ctx, ids[23], params(), now); err != nil {
		t.Fatal(err)
	}
	v, err := st.CustomerValue(ctx, ids[23])
	if err != nil {
		t.Fatal(err)
	}
	if v.Lifecycle != "new" || v.R != 5 || v.M != 5 || v.ABC != "A" {
		t.Errorf("after order: %+v", v)
	}
}

func TestTierShares(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	var custs [][]ord
	for i := 0; i < 40; i++ {
		var os []ord
		for k := 0; k <= i; k++ {
			os = append(os, ord{daysAgo: float64(200 - 4*i + k), amount: float64(10 * (i + 1))})
		}
		custs = append(custs, os)
	}
	seed(t, st, custs)
	vs := recompute(t, st, params())
	count := map[string]int{}
	for _, v := range vs {
		count[v.Tier]++
	}
	want := map[string]int{"platinum": 2, "gold": 6, "silver": 12, "bronze": 20}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d customers, want %d (all: %v)", k, count[k], n, count)
		}
	}
}
