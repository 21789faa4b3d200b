// Package customer knows who customers are and what they are worth:
// identity resolution across channels (phone, email, chat visitor), merging,
// and the value model of DESIGN.md (RFM, ABC, CLV, composite score, tier,
// lifecycle, satisfaction × loyalty), computed set-based by the store with
// the weights and cut-offs of a ValueConfig.
package customer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
)

// Tiers.
const (
	TierPlatinum = "platinum"
	TierGold     = "gold"
	TierSilver   = "silver"
	TierBronze   = "bronze"
	// TierStandard is the tier of unknown callers.
	TierStandard = "standard"
)

// ValidPinTier reports whether t can be pinned.
func ValidPinTier(t string) bool {
	return t == TierPlatinum || t == TierGold || t == TierSilver || t == TierBronze
}

// Service resolves identities and keeps customer values.
type Service struct {
	st   *store.Store
	norm Normalizer
	cfg  ValueConfig
	log  *slog.Logger
	now  func() time.Time
}

// New returns a Service. region is the default phone region ("" = CN);
// log may be nil.
func New(st *store.Store, region string, cfg ValueConfig, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, norm: Normalizer{Region: region}, cfg: cfg, log: log, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Config is the value configuration in use.
func (s *Service) Config() ValueConfig { return s.cfg }

// Normalize returns the stored form of an address, or ErrInvalidIdentity.
func (s *Service) Normalize(kind contact.IdentityKind, value string) (string, error) {
	return s.norm.Normalize(kind, value)
}

// Match is the result of Resolve.
type Match struct {
	CustomerID contact.CustomerID // zero when unknown
	Normalized string             // the address as stored
	Tier       string             // effective tier; TierStandard when unknown
}

// Resolve finds the customer an address belongs to. For an address nobody
// has it returns a Match with a zero CustomerID and TierStandard, and an
// error wrapping ErrUnknown (check with errors.Is; the Match is still
// usable). A malformed address is ErrInvalidIdentity.
func (s *Service) Resolve(ctx context.Context, kind contact.IdentityKind, value string) (Match, error) {
	norm, err := s.norm.Normalize(kind, value)
	if err != nil {
		return Match{Tier: TierStandard}, err
	}
	m := Match{Normalized: norm, Tier: TierStandard}
	id, err := s.st.CustomerIDByIdentity(ctx, kind, norm)
	if errors.Is(err, store.ErrNotFound) {
		return m, fmt.Errorf("customer: resolve %s %s: %w", kind, norm, ErrUnknown)
	}
	if err != nil {
		return m, fmt.Errorf("customer: resolve: %w", err)
	}
	m.CustomerID = id
	m.Tier, err = s.Tier(ctx, id)
	return m, err
}

// Tier is a customer's effective tier (pinned, else computed, else bronze);
// TierStandard for id 0.
func (s *Service) Tier(ctx context.Context, id contact.CustomerID) (string, error) {
	if id == 0 {
		return TierStandard, nil
	}
	v, err := s.st.CustomerValue(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		c, err := s.st.CustomerByID(ctx, id)
		if err != nil {
			return TierStandard, fmt.Errorf("customer: tier: %w", err)
		}
		if c.PinnedTier != "" {
			return c.PinnedTier, nil
		}
		return TierBronze, nil
	}
	if err != nil {
		return TierStandard, fmt.Errorf("customer: tier: %w", err)
	}
	return v.Tier, nil
}

// NewCustomer is what Create needs.
type NewCustomer struct {
	ExternalID string             `json:"external_id"`
	Name       string             `json:"name"`
	Company    string             `json:"company"`
	Language   string             `json:"language"`
	Notes      string             `json:"notes"`
	Identities []contact.Identity `json:"identities"`
}

// Create adds a customer with its addresses (normalised here).
// ErrInvalidIdentity for a bad address; store.ErrConflict if the external id
// or an address is taken.
func (s *Service) Create(ctx context.Context, n NewCustomer) (store.Customer, error) {
	var ids []store.Identity
	for _, id := range n.Identities {
		v, err := s.norm.Normalize(id.Kind, id.Value)
		if err != nil {
			return store.Customer{}, err
		}
		ids = append(ids, store.Identity{Kind: id.Kind, Value: v})
	}
	c, err := s.st.CreateCustomer(ctx, store.Customer{ExternalID: n.ExternalID, Name: n.Name, Company: n.Company,
		Language: n.Language, Notes: n.Notes}, ids)
	if err != nil {
		return c, fmt.Errorf("customer: create: %w", err)
	}
	s.rescore(ctx, c.ID)
	return c, nil
}

// CreateFromIdentity creates a customer known only by an address (an
// unknown caller the agent decides to keep), named name.
func (s *Service) CreateFromIdentity(ctx context.Context, kind contact.IdentityKind, value, name string) (store.Customer, error) {
	return s.Create(ctx, NewCustomer{Name: name, Identities: []contact.Identity{{Kind: kind, Value: value}}})
}

// Link adds an address to a customer. store.ErrConflict if another customer
// has it, store.ErrNotFound if the customer does not exist.
func (s *Service) Link(ctx context.Context, id contact.CustomerID, kind contact.IdentityKind, value string, verified bool) (store.Identity, error) {
	v, err := s.norm.Normalize(kind, value)
	if err != nil {
		return store.Identity{}, err
	}
	out, err := s.st.AddIdentity(ctx, id, kind, v, verified)
	if err != nil {
		return out, fmt.Errorf("customer: link: %w", err)
	}
	return out, nil
}

// Merge moves everything of customer from onto into (identities, orders,
// feedback, contacts, complaints: every table referring to customers) and
// deletes from; see store.MergeCustomers.
func (s *Service) Merge(ctx context.Context, into, from contact.CustomerID) error {
	if err := s.st.MergeCustomers(ctx, into, from); err != nil {
		return fmt.Errorf("customer: merge: %w", err)
	}
	s.rescore(ctx, into)
	return nil
}

// NewOrder is what AddOrder needs.
type NewOrder struct {
	ExternalID string    `json:"external_id"`
	Amount     float64   `json:"amount"`
	Margin     *float64  `json:"margin"`
	Currency   string    `json:"currency"`
	OrderedAt  time.Time `json:"ordered_at"` // zero: now
	PaidOnTime *bool     `json:"paid_on_time"`
}

// AddOrder records an order and rescores the customer at once with the
// cut-offs of the last batch (before any batch, values wait for it).
func (s *Service) AddOrder(ctx context.Context, id contact.CustomerID, o NewOrder) (store.Order, error) {
	if o.Amount < 0 || math.IsNaN(o.Amount) || math.IsInf(o.Amount, 0) || o.Amount >= 1e12 {
		return store.Order{}, fmt.Errorf("customer: amount %v: %w", o.Amount, ErrInvalid)
	}
	if o.Margin != nil && (math.IsNaN(*o.Margin) || math.Abs(*o.Margin) >= 1e12) {
		return store.Order{}, fmt.Errorf("customer: margin: %w", ErrInvalid)
	}
	if o.OrderedAt.IsZero() {
		o.OrderedAt = s.now()
	}
	out, err := s.st.AddOrder(ctx, store.Order{CustomerID: id, ExternalID: o.ExternalID, Amount: o.Amount,
		Margin: o.Margin, Currency: o.Currency, OrderedAt: o.OrderedAt, PaidOnTime: o.PaidOnTime})
	if err != nil {
		return out, fmt.Errorf("customer: add order: %w", err)
	}
	s.rescore(ctx, id)
	return out, nil
}

// Pin pins a customer's tier ("" unpins). ErrInvalid for an unknown tier.
func (s *Service) Pin(ctx context.Context, id contact.CustomerID, tier string) error {
	if tier != "" && !ValidPinTier(tier) {
		return fmt.Errorf("customer: tier %q (want platinum, gold, silver or bronze): %w", tier, ErrInvalid)
	}
	if err := s.st.SetPinnedTier(ctx, id, tier); err != nil {
		return fmt.Errorf("customer: pin: %w", err)
	}
	s.rescore(ctx, id)
	return nil
}

// rescore updates one customer's figures; failures are logged, not
// returned: the next batch repairs them.
func (s *Service) rescore(ctx context.Context, id contact.CustomerID) {
	err := s.st.RescoreCustomer(ctx, id, s.cfg.Params(), s.now())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("rescore customer", "customer_id", id, "err", err)
	}
}

// Recompute recomputes every customer's figures (the batch). phase, if not
// nil, is told each phase and how long it took.
func (s *Service) Recompute(ctx context.Context, phase func(name string, took time.Duration)) (store.ValueStats, error) {
	st, err := s.st.RecomputeValues(ctx, s.cfg.Params(), s.now(), phase)
	if err != nil {
		return st, fmt.Errorf("customer: recompute: %w", err)
	}
	return st, nil
}

// RunPeriodic recomputes now and then every interval until ctx ends; errors
// are logged and retried at the next tick. It returns nil when ctx ends.
func (s *Service) RunPeriodic(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = time.Hour
	}
	run := func() {
		st, err := s.Recompute(ctx, nil)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("customer value recomputation failed", "err", err)
			}
			return
		}
		s.log.Info("customer values recomputed", "customers", st.Customers, "with_orders", st.WithOrders,
			"duration", st.Elapsed.Round(time.Millisecond))
	}
	run()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			run()
		}
	}
}

// List returns customers matching f.
func (s *Service) List(ctx context.Context, f store.CustomerFilter) ([]store.CustomerSummary, error) {
	return s.st.ListCustomers(ctx, f)
}
