package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/store"
)

// Known demo customers, with fixed identities, for tests and demos.
type KnownCustomer struct {
	ExternalID string
	Name       string
	Phone      string // E.164
	Email      string
	Tier       string // pinned
}

// The well-known demo customers.
var (
	WangFang  = KnownCustomer{"demo-wang-fang", "王芳 Wang Fang", "+8613800138000", "wang.fang@example.com", customer.TierPlatinum}
	LiWei     = KnownCustomer{"demo-li-wei", "Li Wei", "+8613900139000", "li.wei@example.com", customer.TierGold}
	ZhangMin  = KnownCustomer{"demo-zhang-min", "Zhang Min", "+8613700137000", "zhang.min@example.com", customer.TierBronze}
	Known     = []KnownCustomer{WangFang, LiWei, ZhangMin}
	seedOrder = map[string]int{WangFang.ExternalID: 60, LiWei.ExternalID: 25, ZhangMin.ExternalID: 2}
)

// Population describes generated customers.
type Population struct {
	Prefix    string // external_id prefix, e.g. "demo-" or "bench-"
	Customers int
	Orders    int // approximate total
	Feedback  bool
}

// SeedCustomers creates n demo customers (about 20 orders each over two
// years, heavy-tailed spend, Chinese and English names, CN mobile, CN
// landline and international phones, emails, some feedback) plus the Known
// customers, then computes their values. It does nothing if demo customers
// exist. n <= 0 means 10,000.
func SeedCustomers(ctx context.Context, st *store.Store, n int, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if n <= 0 {
		n = 10000
	}
	var exists bool
	if err := st.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE external_id = $1)`, WangFang.ExternalID).Scan(&exists); err != nil {
		return fmt.Errorf("demo: customers: %w", err)
	}
	if exists {
		return nil
	}
	start := time.Now()
	if err := Generate(ctx, st, Population{Prefix: "demo-", Customers: n, Orders: 20 * n, Feedback: true}); err != nil {
		return err
	}
	if err := seedKnown(ctx, st); err != nil {
		return err
	}
	stats, err := st.RecomputeValues(ctx, customer.DefaultValueConfig().Params(), time.Now(), nil)
	if err != nil {
		return fmt.Errorf("demo: customers: %w", err)
	}
	log.Info("demo customers seeded", "customers", stats.Customers, "with_orders", stats.WithOrders,
		"tiers", fmt.Sprint(stats.Tiers), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

func seedKnown(ctx context.Context, st *store.Store) error {
	for _, k := range Known {
		c, err := st.CreateCustomer(ctx, store.Customer{ExternalID: k.ExternalID, Name: k.Name, Language: "zh", PinnedTier: k.Tier},
			[]store.Identity{{Kind: contact.Phone, Value: k.Phone, Verified: true}, {Kind: contact.EmailAddr, Value: k.Email, Verified: true}})
		if err != nil {
			return fmt.Errorf("demo: %s: %w", k.Name, err)
		}
		_, err = st.Pool.Exec(ctx, `
			INSERT INTO orders (customer_id, external_id, amount, currency, ordered_at, paid_on_time)
			SELECT $1, $2 || '-o' || g, round((200 + random() * $4)::numeric, 2), 'CNY',
				now() - (g * 700.0 / $3) * interval '1 day', true
			FROM generate_series(1, $3) g`, c.ID, k.ExternalID, seedOrder[k.ExternalID], 5000/seedOrder[k.ExternalID]*10)
		if err != nil {
			return fmt.Errorf("demo: %s orders: %w", k.Name, err)
		}
	}
	return nil
}

// Generate inserts a synthetic population set-based (generate_series), so
// a million customers take a minute rather than hours. Orders per customer
// follow a Pareto distribution (α = 1.5) and order amounts a lognormal one,
// so money concentrates 80/20; customers start over the last two years and
// about 15 % stop ordering early (lapsed / at risk); 3 % have no orders.
// Phones: 70 % CN mobile, 15 % Shanghai landline, 15 % London, all valid
// and unique; 80 % have an email.
func Generate(ctx context.Context, st *store.Store, p Population) error {
	tx, err := st.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("demo: generate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return fmt.Errorf("demo: generate: %w", err)
	}
	var first int64
	err = tx.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO customers (external_id, name, company, language, created_at)
			SELECT $1 || g,
				CASE WHEN g % 3 = 0
					THEN (ARRAY['James','Mary','John','Linda','Robert','Emma','David','Sarah','Michael','Olivia','Tom','Anna'])[1 + g % 12]
						|| ' ' || (ARRAY['Smith','Brown','Taylor','Wilson','Johnson','Lee','Walker','Clark','Hall','Young'])[1 + (g / 12) % 10]
					ELSE (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙','马','朱','胡','郭'])[1 + g % 16]
						|| (ARRAY['伟','芳','娜','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明','超','秀英','桂英','建华'])[1 + (g / 16) % 20]
				END,
				CASE WHEN g % 10 = 0 THEN (ARRAY['华联贸易','Acme Ltd','东方科技','Globex','长城电子'])[1 + g % 5] ELSE '' END,
				CASE WHEN g % 3 = 0 THEN 'en' ELSE 'zh' END,
				now() - random() * interval '800 days'
			FROM generate_series(1, $2::int) g
			RETURNING id
		) SELECT min(id) FROM ins`, p.Prefix, p.Customers).Scan(&first)
	if err != nil {
		return fmt.Errorf("demo: generate customers: %w", err)
	}
	// g = id - first + 1 maps each customer to its series number, which
	// makes phone numbers unique (7919 is coprime with 10^k).
	if _, err := tx.Exec(ctx, `
		INSERT INTO identities (customer_id, kind, value)
		SELECT id, 'phone', CASE
			WHEN g % 20 < 14 THEN '+86158' || lpad(((g * 7919) % 100000000)::text, 8, '0')
			WHEN g % 20 < 17 THEN '+86216' || lpad(((g * 7919) % 10000000)::text, 7, '0')
			ELSE '+44207' || lpad(((g * 7919) % 10000000)::text, 7, '0') END
		FROM (SELECT id, id - $1 + 1 AS g FROM customers WHERE id >= $1 AND external_id LIKE $2 || '%') c
		UNION ALL
		SELECT id, 'email', 'c' || g || '.' || lower(substr(md5(g::text), 1, 6)) || '@' ||
			(ARRAY['example.com','example.net','example.cn','mail.example.org'])[1 + g % 4]
		FROM (SELECT id, id - $1 + 1 AS g FROM customers WHERE id >= $1 AND external_id LIKE $2 || '%') c
		WHERE g % 5 <> 0
		ON CONFLICT (kind, value) DO NOTHING`, first, p.Prefix); err != nil {
		return fmt.Errorf("demo: generate identities: %w", err)
	}
	// Per customer: k orders (Pareto, mean ≈ Orders/Customers), a basket
	// size (lognormal), an active span inside the last two years.
	mean := float64(p.Orders) / float64(p.Customers)
	if _, err := tx.Exec(ctx, `
		WITH c AS (
			SELECT id,
				CASE WHEN random() < 0.03 THEN 0
					ELSE least(2000, greatest(1, floor(($3::float8 / 3) * power(1 - random(), -1 / 1.5))))::int END AS k,
				exp(4.5 + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS basket,
				random() * 730 AS start_days,
				CASE WHEN random() < 0.15 THEN 0.2 + random() * 0.6 ELSE 1 END AS span
			FROM customers WHERE id >= $1 AND external_id LIKE $2 || '%'
		)
		INSERT INTO orders (customer_id, external_id, amount, margin, currency, ordered_at, paid_on_time)
		SELECT c.id, $2 || 'o' || c.id || '-' || s,
			round((c.basket * exp(0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::numeric, 2),
			CASE WHEN s % 4 = 0 THEN NULL ELSE round((c.basket * (0.15 + random() * 0.2))::numeric, 2) END,
			'CNY',
			now() - (c.start_days * (1 - c.span * random())) * interval '1 day',
			CASE WHEN s % 7 = 0 THEN NULL ELSE random() > 0.08 END
		FROM c, generate_series(1, c.k) s`, first, p.Prefix, mean); err != nil {
		return fmt.Errorf("demo: generate orders: %w", err)
	}
	if p.Feedback {
		if _, err := tx.Exec(ctx, `
			INSERT INTO feedback (customer_id, csat, nps, channel, created_at)
			SELECT id, 1 + floor(power(random(), 0.5) * 5)::int % 5 + (CASE WHEN random() < 0.6 THEN 0 ELSE 0 END),
				floor(random() * 11)::int, (ARRAY['voice','chat','email','sms'])[1 + floor(random() * 4)::int],
				now() - random() * interval '300 days'
			FROM customers WHERE id >= $1 AND external_id LIKE $2 || '%' AND random() < 0.3`, first, p.Prefix); err != nil {
			return fmt.Errorf("demo: generate feedback: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("demo: generate: %w", err)
	}
	if _, err := st.Pool.Exec(ctx, `ANALYZE customers, identities, orders, feedback`); err != nil {
		return fmt.Errorf("demo: analyze: %w", err)
	}
	return nil
}
