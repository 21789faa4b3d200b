package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ValueParams are the weights and cut-offs of the value model, as plain
// numbers. internal/customer owns the documented configuration
// (customer.ValueConfig) and turns it into these.
type ValueParams struct {
	WindowDays    int        // RFM window for F and M
	DefaultMargin float64    // margin ratio used when an order has no margin
	Retention     [5]float64 // yearly retention probability by F score 1..5
	DiscountRate  float64    // r in CLV
	Years         int        // n in CLV
	// Weights of the composite: current, future (CLV), credit, loyalty, growth.
	Weights       [5]float64
	UnknownCredit float64 // on-time ratio assumed for customers with no payment record
	MinTenureDays float64 // tenure floor for loyalty = orders per year of tenure

	ABCShareA, ABCShareB float64 // cumulative money shares closing class A and B (0.80, 0.95)
	KeyShare             float64 // share of customers with orders that are key accounts (0.05)
	// Cumulative shares of customers with orders closing each tier (0.05, 0.20, 0.50).
	PlatinumShare, GoldShare, SilverShare float64

	NewDays             int     // first order younger than this: new
	LapsedDays          int     // last order older than this: lapsed
	AtRiskFactor        float64 // no order for this × the usual interval: at risk
	DefaultIntervalDays float64 // usual interval of a customer with one order
	MinIntervalDays     float64 // floor of the usual interval

	SatisfactionDays int     // feedback younger than this counts
	HighCSAT         float64 // average CSAT from which satisfaction is high
	NoFeedbackCSAT   float64 // CSAT assumed for the quadrant when there is no feedback
	LoyalF           int     // F score from which a customer is loyal
}

// ValueCutoffs are the edges the last batch found; AddOrder rescoring uses them.
type ValueCutoffs struct {
	REdges, FEdges, MEdges           []float64 // lowest value of quintile buckets 2..5 (R on -days)
	ABCAMin, ABCBMin, KeyMin         *float64
	PctCurrent, PctFuture, PctCredit []float64 // 1st..99th percentiles
	PctLoyalty, PctGrowth            []float64
	PlatinumMin, GoldMin, SilverMin  *float64
	Customers, WithOrders            int64
	ComputedAt                       time.Time
}

// ValueStats summarises a batch.
type ValueStats struct {
	Customers  int64
	WithOrders int64
	Updated    int64
	Tiers      map[string]int64
	Elapsed    time.Duration
}

// CustomerValue is a customer's computed figures.
type CustomerValue struct {
	CustomerID   contact.CustomerID
	R, F, M      int
	Segment      string
	ABC          string
	KeyAccount   bool
	CLV          float64
	Scores       [5]float64 // current, future, credit, loyalty, growth (percentiles 0–100)
	ValueScore   float64
	Tier         string
	Lifecycle    string
	Satisfaction *float64
	Quadrant     string
	Frequency    int
	Monetary     float64
	LastOrderAt  *time.Time
	ComputedAt   time.Time
}

// cfgCTE binds the parameters to names; $1 is the reference time.
const cfgCTE = `cfg AS (SELECT
	$1::timestamptz AS now, $2::int AS window_days, $3::float8 AS default_margin,
	$4::float8[] AS retention, $5::float8 AS rate, $6::int AS years, $7::float8[] AS w,
	$8::float8 AS unknown_credit, $9::float8 AS min_tenure, $10::int AS new_days,
	$11::int AS lapsed_days, $12::float8 AS at_risk_factor, $13::float8 AS default_interval,
	$14::float8 AS min_interval, $15::int AS sat_days, $16::float8 AS high_csat,
	$17::float8 AS no_feedback_csat, $18::int AS loyal_f)`

const nCfgArgs = 18

func (p ValueParams) args(now time.Time) []any {
	return []any{now, p.WindowDays, p.DefaultMargin, p.Retention[:], p.DiscountRate, p.Years, p.Weights[:],
		p.UnknownCredit, p.MinTenureDays, p.NewDays, p.LapsedDays, p.AtRiskFactor, p.DefaultIntervalDays,
		p.MinIntervalDays, p.SatisfactionDays, p.HighCSAT, p.NoFeedbackCSAT, p.LoyalF}
}

// featuresSQL returns a SELECT (with the cfg CTE) of each customer's raw
// features; one pass over orders and one over feedback. filter restricts
// customers (e.g. "= $19"); empty: all.
func featuresSQL(filter string) string {
	oWhere, fWhere, cWhere := "", "", ""
	if filter != "" {
		oWhere = " AND customer_id " + filter
		fWhere = " AND customer_id " + filter
		cWhere = " WHERE c.id " + filter
	}
	return `WITH ` + cfgCTE + `,
o AS (
	SELECT customer_id, count(*) AS n_all, min(ordered_at) AS first_at, max(ordered_at) AS last_at,
		count(*) FILTER (WHERE ordered_at > cfg.now - make_interval(days => cfg.window_days)) AS f,
		coalesce(sum(amount) FILTER (WHERE ordered_at > cfg.now - make_interval(days => cfg.window_days)), 0)::float8 AS m,
		coalesce(sum(coalesce(margin, amount * cfg.default_margin::numeric)) FILTER (WHERE ordered_at > cfg.now - interval '365 days'), 0)::float8 AS margin12,
		avg(paid_on_time::int)::float8 AS credit,
		coalesce(sum(amount) FILTER (WHERE ordered_at > cfg.now - interval '182 days'), 0)::float8 AS s6,
		coalesce(sum(amount) FILTER (WHERE ordered_at <= cfg.now - interval '182 days' AND ordered_at > cfg.now - interval '365 days'), 0)::float8 AS p6
	FROM orders, cfg WHERE true` + oWhere + `
	GROUP BY customer_id
),
fb AS (
	SELECT customer_id, avg(csat)::float8 AS sat
	FROM feedback, cfg
	WHERE csat IS NOT NULL AND created_at > cfg.now - make_interval(days => cfg.sat_days)` + fWhere + `
	GROUP BY customer_id
)
SELECT c.id AS customer_id, c.pinned_tier, coalesce(o.n_all, 0) AS n_all, o.first_at, o.last_at,
	coalesce(o.f, 0) AS f_raw, coalesce(o.m, 0) AS m_raw, coalesce(o.margin12, 0) AS margin12,
	coalesce(o.credit, cfg.unknown_credit) AS credit_raw, fb.sat,
	-extract(epoch FROM cfg.now - o.last_at)::float8 / 86400 AS vr,
	CASE WHEN o.n_all > 1 THEN extract(epoch FROM o.last_at - o.first_at)::float8 / 86400 / (o.n_all - 1) END AS interval_days,
	coalesce(o.n_all, 0) * 365.0 / greatest(extract(epoch FROM cfg.now - o.first_at)::float8 / 86400, cfg.min_tenure) AS loyalty_raw,
	coalesce(ln((o.s6 + 1) / (o.p6 + 1)), 0) AS growth_raw
FROM customers c CROSS JOIN cfg
LEFT JOIN o ON o.customer_id = c.id
LEFT JOIN fb ON fb.customer_id = c.id` + cWhere
}

// cutCTE binds the cut-offs, after the cfg parameters.
const cutCTE = `cut AS (SELECT
	$19::float8[] AS r_edges, $20::float8[] AS f_edges, $21::float8[] AS m_edges,
	$22::float8 AS abc_a_min, $23::float8 AS abc_b_min, $24::float8 AS key_min,
	$25::float8[] AS pct_current, $26::float8[] AS pct_future, $27::float8[] AS pct_credit,
	$28::float8[] AS pct_loyalty, $29::float8[] AS pct_growth,
	$30::float8 AS platinum_min, $31::float8 AS gold_min, $32::float8 AS silver_min)`

func (c ValueCutoffs) args() []any {
	arr := func(a []float64) []float64 {
		if a == nil {
			return []float64{}
		}
		return a
	}
	return []any{arr(c.REdges), arr(c.FEdges), arr(c.MEdges), c.ABCAMin, c.ABCBMin, c.KeyMin,
		arr(c.PctCurrent), arr(c.PctFuture), arr(c.PctCredit), arr(c.PctLoyalty), arr(c.PctGrowth),
		c.PlatinumMin, c.GoldMin, c.SilverMin}
}

// scoreSQL scores the rows of relation feat (the columns of featuresSQL)
// with the cut-offs. s1: RFM and CLV; s2: percentile scores and composite;
// s3: every output column. The statement using it selects from whichever it needs.
func scoreSQL(feat string) string {
	return `WITH ` + cfgCTE + `, ` + cutCTE + `,
s1 AS (
	SELECT x.*,
		CASE WHEN x.n_all = 0 THEN 0 ELSE 1 + width_bucket(x.vr, cut.r_edges) END AS r,
		CASE WHEN x.n_all = 0 THEN 0 ELSE 1 + width_bucket(x.f_raw::float8, cut.f_edges) END AS f,
		CASE WHEN x.n_all = 0 THEN 0 ELSE 1 + width_bucket(x.m_raw, cut.m_edges) END AS m
	FROM ` + feat + ` x, cut
),
s1b AS (
	SELECT s1.*,
		CASE WHEN s1.f = 0 THEN 0::float8 ELSE
			s1.margin12 * q * (1 - power(q, cfg.years)) / (1 - q) END AS clv
	FROM s1, cfg, LATERAL (SELECT CASE WHEN s1.f = 0 THEN 0::float8 ELSE cfg.retention[s1.f] / (1 + cfg.rate) END AS q) qq
),
s2 AS (
	SELECT s1b.*,
		width_bucket(s1b.margin12, cut.pct_current) * 100.0 / 99 AS sc_current,
		width_bucket(s1b.clv, cut.pct_future) * 100.0 / 99 AS sc_future,
		width_bucket(s1b.credit_raw, cut.pct_credit) * 100.0 / 99 AS sc_credit,
		width_bucket(s1b.loyalty_raw, cut.pct_loyalty) * 100.0 / 99 AS sc_loyalty,
		width_bucket(s1b.growth_raw, cut.pct_growth) * 100.0 / 99 AS sc_growth
	FROM s1b, cut
),
s2b AS (
	SELECT s2.*,
		CASE WHEN s2.n_all = 0 THEN 0::float8 ELSE
			(cfg.w[1] * sc_current + cfg.w[2] * sc_future + cfg.w[3] * sc_credit + cfg.w[4] * sc_loyalty + cfg.w[5] * sc_growth)
			/ (cfg.w[1] + cfg.w[2] + cfg.w[3] + cfg.w[4] + cfg.w[5]) END AS composite
	FROM s2, cfg
),
s3 AS (
	SELECT customer_id, r, f, m,
		CASE WHEN n_all = 0 THEN 'none'
			WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'high_value'
			WHEN r <= 2 AND f >= 4 THEN 'retain'
			WHEN r >= 4 AND f <= 2 THEN 'new'
			WHEN r <= 2 AND f <= 2 AND m <= 2 THEN 'low_value'
			ELSE 'regular' END AS segment,
		CASE WHEN m_raw > 0 AND m_raw >= cut.abc_a_min THEN 'A'
			WHEN m_raw > 0 AND m_raw >= cut.abc_b_min THEN 'B' ELSE 'C' END AS abc,
		coalesce(m_raw > 0 AND m_raw >= cut.key_min, false) AS key_account,
		clv, sc_current, sc_future, sc_credit, sc_loyalty, sc_growth, composite,
		coalesce(pinned_tier, CASE WHEN n_all = 0 THEN 'bronze'
			WHEN composite >= cut.platinum_min THEN 'platinum'
			WHEN composite >= cut.gold_min THEN 'gold'
			WHEN composite >= cut.silver_min THEN 'silver' ELSE 'bronze' END) AS tier,
		CASE WHEN n_all = 0 THEN 'prospect'
			WHEN -vr > cfg.lapsed_days THEN 'lapsed'
			WHEN first_at > cfg.now - make_interval(days => cfg.new_days) THEN 'new'
			WHEN -vr > cfg.at_risk_factor * greatest(coalesce(interval_days, cfg.default_interval), cfg.min_interval) THEN 'at_risk'
			ELSE 'active' END AS lifecycle,
		sat,
		CASE WHEN f >= cfg.loyal_f THEN
				CASE WHEN coalesce(sat, cfg.no_feedback_csat) >= cfg.high_csat THEN 'loyal' ELSE 'hostage' END
			ELSE CASE WHEN coalesce(sat, cfg.no_feedback_csat) >= cfg.high_csat THEN 'mercenary' ELSE 'defecting' END
		END AS quadrant,
		f_raw, m_raw, last_at
	FROM s2b, cfg, cut
)`
}

const upsertValues = `
INSERT INTO customer_values AS cv (customer_id, r, f, m, segment, abc, key_account, clv,
	score_current, score_future, score_credit, score_loyalty, score_growth, value_score,
	tier, lifecycle, satisfaction, quadrant, frequency, monetary, last_order_at, computed_at)
SELECT customer_id, r, f, m, segment, abc, key_account, clv,
	sc_current, sc_future, sc_credit, sc_loyalty, sc_growth, composite,
	tier, lifecycle, sat, quadrant, f_raw, m_raw, last_at, (SELECT now FROM cfg)
FROM s3
ON CONFLICT (customer_id) DO UPDATE SET
	r = excluded.r, f = excluded.f, m = excluded.m, segment = excluded.segment, abc = excluded.abc,
	key_account = excluded.key_account, clv = excluded.clv, score_current = excluded.score_current,
	score_future = excluded.score_future, score_credit = excluded.score_credit,
	score_loyalty = excluded.score_loyalty, score_growth = excluded.score_growth,
	value_score = excluded.value_score, tier = excluded.tier, lifecycle = excluded.lifecycle,
	satisfaction = excluded.satisfaction, quadrant = excluded.quadrant, frequency = excluded.frequency,
	monetary = excluded.monetary, last_order_at = excluded.last_order_at, computed_at = excluded.computed_at`

// RecomputeValues recomputes every customer's figures as of now, set-based,
// in one transaction: features (one pass over orders and feedback), RFM
// quintile edges (ntile), ABC and key-account thresholds, component
// percentiles, tier thresholds, then one upsert. The cut-offs are saved for
// RescoreCustomer. phase, if not nil, is called after each phase.
func (s *Store) RecomputeValues(ctx context.Context, p ValueParams, now time.Time, phase func(name string, took time.Duration)) (ValueStats, error) {
	start := time.Now()
	mark := start
	step := func(name string) {
		if phase != nil {
			phase(name, time.Since(mark))
		}
		mark = time.Now()
	}
	fail := func(what string, err error) (ValueStats, error) {
		return ValueStats{}, fmt.Errorf("store: recompute values: %s: %w", what, err)
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return fail("settings", err)
	}
	cfgArgs := p.args(now)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE cv_feat ON COMMIT DROP AS `+featuresSQL(""), cfgArgs...); err != nil {
		return fail("features", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE cv_feat`); err != nil {
		return fail("analyze", err)
	}
	step("features")

	var c ValueCutoffs
	err = tx.QueryRow(ctx, `
		WITH t AS (
			SELECT vr, f_raw::float8 AS f, m_raw AS m,
				ntile(5) OVER (ORDER BY vr) AS nr, ntile(5) OVER (ORDER BY f_raw) AS nf, ntile(5) OVER (ORDER BY m_raw) AS nm
			FROM cv_feat WHERE n_all > 0
		)
		SELECT
			ARRAY[coalesce(min(vr) FILTER (WHERE nr = 2), 'Infinity'), coalesce(min(vr) FILTER (WHERE nr = 3), 'Infinity'),
			      coalesce(min(vr) FILTER (WHERE nr = 4), 'Infinity'), coalesce(min(vr) FILTER (WHERE nr = 5), 'Infinity')],
			ARRAY[coalesce(min(f) FILTER (WHERE nf = 2), 'Infinity'), coalesce(min(f) FILTER (WHERE nf = 3), 'Infinity'),
			      coalesce(min(f) FILTER (WHERE nf = 4), 'Infinity'), coalesce(min(f) FILTER (WHERE nf = 5), 'Infinity')],
			ARRAY[coalesce(min(m) FILTER (WHERE nm = 2), 'Infinity'), coalesce(min(m) FILTER (WHERE nm = 3), 'Infinity'),
			      coalesce(min(m) FILTER (WHERE nm = 4), 'Infinity'), coalesce(min(m) FILTER (WHERE nm = 5), 'Infinity')]
		FROM t`).Scan(&c.REdges, &c.FEdges, &c.MEdges)
	if err != nil {
		return fail("rfm quintiles", err)
	}
	err = tx.QueryRow(ctx, `
		WITH tot AS (SELECT coalesce(sum(m_raw), 0) AS total, count(*) AS n FROM cv_feat WHERE n_all > 0),
		t AS (
			SELECT m_raw AS m,
				coalesce(sum(m_raw) OVER (ORDER BY m_raw DESC, customer_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
				row_number() OVER (ORDER BY m_raw DESC, customer_id) AS rn
			FROM cv_feat WHERE n_all > 0
		)
		SELECT min(m) FILTER (WHERE m > 0 AND before < $1::float8 * total),
			min(m) FILTER (WHERE m > 0 AND before < $2::float8 * total),
			min(m) FILTER (WHERE m > 0 AND rn <= ceil($3::float8 * n)),
			(SELECT count(*) FROM cv_feat), (SELECT n FROM tot)
		FROM t, tot`, p.ABCShareA, p.ABCShareB, p.KeyShare).Scan(&c.ABCAMin, &c.ABCBMin, &c.KeyMin, &c.Customers, &c.WithOrders)
	if err != nil {
		return fail("abc", err)
	}
	step("rfm+abc cut-offs")

	args := append(append([]any{}, cfgArgs...), c.args()...)
	err = tx.QueryRow(ctx, scoreSQL("cv_feat")+`,
		pct AS (SELECT ARRAY(SELECT g / 100.0 FROM generate_series(1, 99) g)::float8[] AS fr)
		SELECT
			coalesce(percentile_disc((SELECT fr FROM pct)) WITHIN GROUP (ORDER BY margin12), '{}'),
			coalesce(percentile_disc((SELECT fr FROM pct)) WITHIN GROUP (ORDER BY clv), '{}'),
			coalesce(percentile_disc((SELECT fr FROM pct)) WITHIN GROUP (ORDER BY credit_raw), '{}'),
			coalesce(percentile_disc((SELECT fr FROM pct)) WITHIN GROUP (ORDER BY loyalty_raw), '{}'),
			coalesce(percentile_disc((SELECT fr FROM pct)) WITHIN GROUP (ORDER BY growth_raw), '{}')
		FROM s1b WHERE n_all > 0`, args...).Scan(&c.PctCurrent, &c.PctFuture, &c.PctCredit, &c.PctLoyalty, &c.PctGrowth)
	if err != nil {
		return fail("component percentiles", err)
	}
	step("component percentiles")

	args = append(append([]any{}, cfgArgs...), c.args()...)
	err = tx.QueryRow(ctx, scoreSQL("cv_feat")+`,
		t AS (SELECT composite, row_number() OVER (ORDER BY composite DESC, customer_id) AS rn, count(*) OVER () AS n FROM s2b WHERE n_all > 0)
		SELECT min(composite) FILTER (WHERE rn <= ceil($33::float8 * n)), min(composite) FILTER (WHERE rn <= ceil($34::float8 * n)),
			min(composite) FILTER (WHERE rn <= ceil($35::float8 * n))
		FROM t`, append(args, p.PlatinumShare, p.GoldShare, p.SilverShare)...).Scan(&c.PlatinumMin, &c.GoldMin, &c.SilverMin)
	if err != nil {
		return fail("tier cut-offs", err)
	}
	step("tier cut-offs")

	args = append(append([]any{}, cfgArgs...), c.args()...)
	tag, err := tx.Exec(ctx, scoreSQL("cv_feat")+upsertValues, args...)
	if err != nil {
		return fail("write values", err)
	}
	step("write values")

	c.ComputedAt = now
	if err := saveCutoffs(ctx, tx, c); err != nil {
		return fail("save cut-offs", err)
	}
	st := ValueStats{Customers: c.Customers, WithOrders: c.WithOrders, Updated: tag.RowsAffected(), Tiers: map[string]int64{}}
	rows, err := tx.Query(ctx, `SELECT tier, count(*) FROM customer_values GROUP BY tier`)
	if err != nil {
		return fail("count tiers", err)
	}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			rows.Close()
			return fail("count tiers", err)
		}
		st.Tiers[t] = n
	}
	rows.Close()
	if err := tx.Commit(ctx); err != nil {
		return fail("commit", err)
	}
	step("commit")
	st.Elapsed = time.Since(start)
	return st, nil
}

func saveCutoffs(ctx context.Context, tx pgx.Tx, c ValueCutoffs) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO value_cutoffs (id, r_edges, f_edges, m_edges, abc_a_min, abc_b_min, key_min,
			pct_current, pct_future, pct_credit, pct_loyalty, pct_growth, platinum_min, gold_min, silver_min,
			customers, with_orders, computed_at)
		VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (id) DO UPDATE SET r_edges = excluded.r_edges, f_edges = excluded.f_edges,
			m_edges = excluded.m_edges, abc_a_min = excluded.abc_a_min, abc_b_min = excluded.abc_b_min,
			key_min = excluded.key_min, pct_current = excluded.pct_current, pct_future = excluded.pct_future,
			pct_credit = excluded.pct_credit, pct_loyalty = excluded.pct_loyalty, pct_growth = excluded.pct_growth,
			platinum_min = excluded.platinum_min, gold_min = excluded.gold_min, silver_min = excluded.silver_min,
			customers = excluded.customers, with_orders = excluded.with_orders, computed_at = excluded.computed_at`,
		append(c.args(), c.Customers, c.WithOrders, c.ComputedAt)...)
	return err
}

// Cutoffs returns the cut-offs saved by the last batch, or ErrNotFound
// before the first one.
func (s *Store) Cutoffs(ctx context.Context) (ValueCutoffs, error) {
	var c ValueCutoffs
	err := s.Pool.QueryRow(ctx, `
		SELECT r_edges, f_edges, m_edges, abc_a_min, abc_b_min, key_min, pct_current, pct_future,
			pct_credit, pct_loyalty, pct_growth, platinum_min, gold_min, silver_min, customers, with_orders, computed_at
		FROM value_cutoffs WHERE id = 1`).Scan(&c.REdges, &c.FEdges, &c.MEdges, &c.ABCAMin, &c.ABCBMin, &c.KeyMin,
		&c.PctCurrent, &c.PctFuture, &c.PctCredit, &c.PctLoyalty, &c.PctGrowth, &c.PlatinumMin, &c.GoldMin, &c.SilverMin,
		&c.Customers, &c.WithOrders, &c.ComputedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return ValueCutoffs{}, fmt.Errorf("store: value cut-offs: %w", ErrNotFound)
	}
	if err != nil {
		return ValueCutoffs{}, fmt.Errorf("store: value cut-offs: %w", err)
	}
	return c, nil
}

// RescoreCustomer recomputes one customer's figures with the cut-offs of
// the last batch (the same formulas as RecomputeValues). Before the first
// batch there are no cut-offs: it returns ErrNotFound and changes nothing.
func (s *Store) RescoreCustomer(ctx context.Context, id contact.CustomerID, p ValueParams, now time.Time) error {
	c, err := s.Cutoffs(ctx)
	if err != nil {
		return fmt.Errorf("store: rescore customer %d: %w", id, err)
	}
	return rescore(ctx, s.Pool, id, p, c, now)
}

// querier is what rescore needs of a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func rescore(ctx context.Context, db querier, id contact.CustomerID, p ValueParams, c ValueCutoffs, now time.Time) error {
	// The features subquery shares the statement's cfg CTE.
	feat := "(" + strings.Replace(featuresSQL("= $33"), "WITH "+cfgCTE+",", "WITH", 1) + ")"
	args := append(append(p.args(now), c.args()...), int64(id))
	if _, err := db.Exec(ctx, scoreSQL(feat)+upsertValues, args...); err != nil {
		return fmt.Errorf("store: rescore customer %d: %w", id, err)
	}
	return nil
}

// CustomerValue returns a customer's computed figures, or ErrNotFound if
// they were never computed.
func (s *Store) CustomerValue(ctx context.Context, id contact.CustomerID) (CustomerValue, error) {
	var v CustomerValue
	var mon float64
	err := s.Pool.QueryRow(ctx, `
		SELECT customer_id, r, f, m, segment, abc, key_account, clv, score_current, score_future,
			score_credit, score_loyalty, score_growth, value_score, tier, lifecycle, satisfaction,
			quadrant, frequency, monetary::float8, last_order_at, computed_at
		FROM customer_values WHERE customer_id = $1`, id).Scan(&v.CustomerID, &v.R, &v.F, &v.M, &v.Segment, &v.ABC,
		&v.KeyAccount, &v.CLV, &v.Scores[0], &v.Scores[1], &v.Scores[2], &v.Scores[3], &v.Scores[4], &v.ValueScore,
		&v.Tier, &v.Lifecycle, &v.Satisfaction, &v.Quadrant, &v.Frequency, &mon, &v.LastOrderAt, &v.ComputedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return CustomerValue{}, fmt.Errorf("store: customer value %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return CustomerValue{}, fmt.Errorf("store: customer value %d: %w", id, err)
	}
	v.Monetary = mon
	if math.IsNaN(v.CLV) {
		v.CLV = 0
	}
	return v, nil
}
