package customer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
)

// Profile is the screen-pop payload: who the customer is and what they are
// worth, in one JSON object.
type Profile struct {
	ID             contact.CustomerID       `json:"id"`
	ExternalID     string                   `json:"external_id"`
	Name           string                   `json:"name"`
	Company        string                   `json:"company"`
	Language       string                   `json:"language"`
	Notes          string                   `json:"notes"`
	Identities     []store.Identity         `json:"identities"`
	Tier           string                   `json:"tier"`
	TierPinned     bool                     `json:"tier_pinned"`
	ValueScore     float64                  `json:"value_score"`
	CLV            float64                  `json:"clv"`
	RFM            RFM                      `json:"rfm"`
	ABC            string                   `json:"abc"`
	KeyAccount     bool                     `json:"key_account"`
	Lifecycle      string                   `json:"lifecycle"`
	Quadrant       string                   `json:"quadrant"`
	Satisfaction   *float64                 `json:"satisfaction"`
	LastCSAT       *int                     `json:"last_csat"`
	Orders         store.OrderSummary       `json:"orders"`
	RecentContacts []store.RecentContact    `json:"recent_contacts"`
	OpenComplaints []store.ComplaintSummary `json:"open_complaints"`
	Hint           string                   `json:"hint"`
	ComputedAt     *time.Time               `json:"computed_at"`
}

// RFM scores; 0 and an empty cell for customers without orders.
type RFM struct {
	R       int    `json:"r"`
	F       int    `json:"f"`
	M       int    `json:"m"`
	Cell    string `json:"cell"`
	Segment string `json:"segment"`
}

// Profile returns the screen-pop payload of a customer; store.ErrNotFound
// if there is none. Two queries: the customer with values and order
// figures, then its identities.
func (s *Service) Profile(ctx context.Context, id contact.CustomerID) (Profile, error) {
	row, err := s.st.CustomerProfile(ctx, id)
	if err != nil {
		return Profile{}, fmt.Errorf("customer: profile: %w", err)
	}
	ids, err := s.st.Identities(ctx, id)
	if err != nil {
		return Profile{}, fmt.Errorf("customer: profile: %w", err)
	}
	recent, err := s.st.RecentContacts(ctx, id, 10)
	if err != nil {
		return Profile{}, fmt.Errorf("customer: profile: %w", err)
	}
	complaints, err := s.st.OpenComplaints(ctx, id)
	if err != nil {
		return Profile{}, fmt.Errorf("customer: profile: %w", err)
	}
	c := row.Customer
	p := Profile{
		ID: c.ID, ExternalID: c.ExternalID, Name: c.Name, Company: c.Company, Language: c.Language, Notes: c.Notes,
		Identities: ids, TierPinned: c.PinnedTier != "", Orders: row.Orders, LastCSAT: row.LastCSAT,
		RecentContacts: recent, OpenComplaints: complaints,
		Tier: TierBronze, ABC: "C", Lifecycle: "prospect", RFM: RFM{Segment: "none"},
	}
	if v := row.Value; v != nil {
		p.Tier, p.ValueScore, p.CLV = v.Tier, v.ValueScore, v.CLV
		p.RFM = RFM{R: v.R, F: v.F, M: v.M, Segment: v.Segment}
		if v.R > 0 {
			p.RFM.Cell = fmt.Sprintf("%d-%d-%d", v.R, v.F, v.M)
		}
		p.ABC, p.KeyAccount, p.Lifecycle, p.Quadrant, p.Satisfaction = v.ABC, v.KeyAccount, v.Lifecycle, v.Quadrant, v.Satisfaction
		t := v.ComputedAt
		p.ComputedAt = &t
	} else if row.Orders.Count > 0 {
		p.Lifecycle = "" // not computed yet
	}
	if c.PinnedTier != "" {
		p.Tier = c.PinnedTier
	}
	p.Hint = Hint(p)
	return p, nil
}

// Hint is the one line an agent reads first, from the most urgent signal.
func Hint(p Profile) string {
	switch {
	case p.Quadrant == "hostage":
		return "hostage — unhappy but loyal: fix the problem"
	case p.KeyAccount:
		return "key account — premium service"
	case p.Lifecycle == "at_risk":
		return "at risk — offer retention"
	case p.Quadrant == "defecting" && p.Satisfaction != nil:
		return "defecting — unhappy and drifting: recover the relationship"
	case p.Lifecycle == "lapsed":
		return "lapsed — no order for a year: win back"
	case p.Lifecycle == "new":
		return "new customer — make a good first impression"
	case p.RFM.Segment == "high_value":
		return "high value — recent, frequent, big spender"
	case p.Lifecycle == "prospect":
		return "prospect — no orders yet"
	case p.Tier == TierPlatinum || p.Tier == TierGold:
		return p.Tier + " customer — priority service"
	}
	return "regular customer"
}

// IsUnknown reports whether err means an unknown customer or address.
func IsUnknown(err error) bool {
	return errors.Is(err, ErrUnknown) || errors.Is(err, store.ErrNotFound)
}
