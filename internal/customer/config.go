package customer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/contacthub/contacthub/internal/store"
)

// ValueConfig holds every weight and cut-off of the value model (DESIGN.md
// "The value model"). DefaultValueConfig gives the documented defaults; a
// JSON file may override any subset of fields (LoadValueConfig).
type ValueConfig struct {
	// RFM
	WindowDays int `json:"window_days"` // F and M count orders of the last WindowDays (365)

	// CLV = Σ_{i=1..Years} CF·p^i / (1+DiscountRate)^i, CF = last 12 months' margin.
	DefaultMarginRatio float64    `json:"default_margin_ratio"` // margin = amount × this when an order has none (0.25)
	DiscountRate       float64    `json:"discount_rate"`        // r (0.10)
	Years              int        `json:"years"`                // n (5)
	RetentionByF       [5]float64 `json:"retention_by_f"`       // p for F score 1..5 (0.30 .. 0.90)

	// Composite = weighted mean of percentile scores (0–100) of: current
	// contribution (12-month margin), future (CLV), credit (share of orders
	// paid on time), loyalty (orders per year of tenure) and growth potential
	// (ln of last-6-month over prior-6-month spend).
	Weights       Weights `json:"weights"`
	UnknownCredit float64 `json:"unknown_credit"`  // on-time share assumed with no payment record (1.0)
	MinTenureDays float64 `json:"min_tenure_days"` // tenure floor for loyalty (30)

	// ABC by money in the window; key accounts by the same ranking.
	ABCShareA float64 `json:"abc_share_a"` // cumulative money share closing class A (0.80)
	ABCShareB float64 `json:"abc_share_b"` // ... class B (0.95)
	KeyShare  float64 `json:"key_share"`   // top share of customers with orders (0.05)

	// Tiers: top shares of customers with orders by composite.
	PlatinumShare float64 `json:"platinum_share"` // 0.05
	GoldShare     float64 `json:"gold_share"`     // next 0.15
	SilverShare   float64 `json:"silver_share"`   // next 0.30; the rest bronze

	// Lifecycle.
	NewDays             int     `json:"new_days"`              // first order younger: new (90)
	LapsedDays          int     `json:"lapsed_days"`           // last order older: lapsed (365)
	AtRiskFactor        float64 `json:"at_risk_factor"`        // silent for this × usual interval: at risk (2)
	DefaultIntervalDays float64 `json:"default_interval_days"` // usual interval with one order (90)
	MinIntervalDays     float64 `json:"min_interval_days"`     // floor of the usual interval (7)

	// Satisfaction × loyalty.
	SatisfactionDays int     `json:"satisfaction_days"` // feedback of the last N days (365)
	HighCSAT         float64 `json:"high_csat"`         // average CSAT ≥ this is satisfied (4)
	// NoFeedbackCSAT is the CSAT assumed for the quadrant when a customer
	// gave no feedback. Default 4: no feedback counts as satisfied, because
	// hostage/defecting must point at evidence of a problem. The profile's
	// satisfaction stays null.
	NoFeedbackCSAT float64 `json:"no_feedback_csat"`
	LoyalF         int     `json:"loyal_f"` // F score ≥ this is loyal (4)
}

// Weights of the composite value.
type Weights struct {
	Current float64 `json:"current"`
	Future  float64 `json:"future"`
	Credit  float64 `json:"credit"`
	Loyalty float64 `json:"loyalty"`
	Growth  float64 `json:"growth"`
}

// DefaultValueConfig returns the documented defaults.
func DefaultValueConfig() ValueConfig {
	return ValueConfig{
		WindowDays:          365,
		DefaultMarginRatio:  0.25,
		DiscountRate:        0.10,
		Years:               5,
		RetentionByF:        [5]float64{0.30, 0.50, 0.65, 0.80, 0.90},
		Weights:             Weights{Current: 0.30, Future: 0.25, Credit: 0.10, Loyalty: 0.20, Growth: 0.15},
		UnknownCredit:       1.0,
		MinTenureDays:       30,
		ABCShareA:           0.80,
		ABCShareB:           0.95,
		KeyShare:            0.05,
		PlatinumShare:       0.05,
		GoldShare:           0.15,
		SilverShare:         0.30,
		NewDays:             90,
		LapsedDays:          365,
		AtRiskFactor:        2,
		DefaultIntervalDays: 90,
		MinIntervalDays:     7,
		SatisfactionDays:    365,
		HighCSAT:            4,
		NoFeedbackCSAT:      4,
		LoyalF:              4,
	}
}

// LoadValueConfig reads a JSON file over the defaults and validates it.
func LoadValueConfig(path string) (ValueConfig, error) {
	c := DefaultValueConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("customer: value config: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("customer: value config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("customer: value config %s: %w", path, err)
	}
	return c, nil
}

// Validate reports every problem at once.
func (c ValueConfig) Validate() error {
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	share := func(v float64) bool { return v >= 0 && v <= 1 && !math.IsNaN(v) }
	check(c.WindowDays > 0, "window_days must be positive")
	check(share(c.DefaultMarginRatio), "default_margin_ratio must be in [0,1]")
	check(c.DiscountRate > 0, "discount_rate must be positive")
	check(c.Years > 0 && c.Years <= 50, "years must be 1..50")
	for i, p := range c.RetentionByF {
		check(share(p), "retention_by_f[%d] must be in [0,1]", i)
	}
	w := c.Weights
	for _, v := range []float64{w.Current, w.Future, w.Credit, w.Loyalty, w.Growth} {
		check(v >= 0, "weights must not be negative")
	}
	check(w.Current+w.Future+w.Credit+w.Loyalty+w.Growth > 0, "weights must not all be zero")
	check(share(c.UnknownCredit), "unknown_credit must be in [0,1]")
	check(c.MinTenureDays > 0, "min_tenure_days must be positive")
	check(share(c.ABCShareA) && share(c.ABCShareB) && c.ABCShareA <= c.ABCShareB, "abc shares must satisfy 0 ≤ a ≤ b ≤ 1")
	check(share(c.KeyShare), "key_share must be in [0,1]")
	check(share(c.PlatinumShare) && share(c.GoldShare) && share(c.SilverShare) &&
		c.PlatinumShare+c.GoldShare+c.SilverShare <= 1, "tier shares must be in [0,1] and add up to at most 1")
	check(c.NewDays >= 0 && c.LapsedDays > 0, "new_days and lapsed_days must be positive")
	check(c.AtRiskFactor > 0 && c.DefaultIntervalDays > 0 && c.MinIntervalDays >= 0, "at-risk settings must be positive")
	check(c.SatisfactionDays > 0, "satisfaction_days must be positive")
	check(c.LoyalF >= 1 && c.LoyalF <= 5, "loyal_f must be 1..5")
	return errors.Join(errs...)
}

// Params converts the configuration for the store.
func (c ValueConfig) Params() store.ValueParams {
	w := c.Weights
	return store.ValueParams{
		WindowDays:          c.WindowDays,
		DefaultMargin:       c.DefaultMarginRatio,
		Retention:           c.RetentionByF,
		DiscountRate:        c.DiscountRate,
		Years:               c.Years,
		Weights:             [5]float64{w.Current, w.Future, w.Credit, w.Loyalty, w.Growth},
		UnknownCredit:       c.UnknownCredit,
		MinTenureDays:       c.MinTenureDays,
		ABCShareA:           c.ABCShareA,
		ABCShareB:           c.ABCShareB,
		KeyShare:            c.KeyShare,
		PlatinumShare:       c.PlatinumShare,
		GoldShare:           c.PlatinumShare + c.GoldShare,
		SilverShare:         c.PlatinumShare + c.GoldShare + c.SilverShare,
		NewDays:             c.NewDays,
		LapsedDays:          c.LapsedDays,
		AtRiskFactor:        c.AtRiskFactor,
		DefaultIntervalDays: c.DefaultIntervalDays,
		MinIntervalDays:     c.MinIntervalDays,
		SatisfactionDays:    c.SatisfactionDays,
		HighCSAT:            c.HighCSAT,
		NoFeedbackCSAT:      c.NoFeedbackCSAT,
		LoyalF:              c.LoyalF,
	}
}
