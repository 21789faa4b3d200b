package desk

import (
	"context"
	"errors"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
)

// customerModel is the production Customers.
type customerModel struct{ svc *customer.Service }

// CustomerModel adapts the customer model to what the desk needs: identity
// resolution with the facts the tier policy uses, and the screen-pop profile.
func CustomerModel(svc *customer.Service) Customers { return customerModel{svc} }

func (c customerModel) Identify(ctx context.Context, id contact.Identity) (Identified, error) {
	m, err := c.svc.Resolve(ctx, id.Kind, id.Value)
	switch {
	case errors.Is(err, customer.ErrUnknown):
		return Identified{Normalized: m.Normalized, Tier: "standard"}, nil
	case errors.Is(err, customer.ErrInvalidIdentity):
		return Identified{Tier: "standard"}, nil // routed as an unknown sender
	case err != nil:
		return Identified{}, err
	}
	out := Identified{CustomerID: m.CustomerID, Normalized: m.Normalized, Tier: m.Tier, Attributes: map[string]string{}}
	p, err := c.svc.Profile(ctx, m.CustomerID)
	if err != nil {
		return out, nil // route on the tier alone
	}
	out.Name, out.Profile = p.Name, p
	if p.Lifecycle != "" {
		out.Attributes["lifecycle"] = p.Lifecycle
	}
	if p.Quadrant != "" {
		out.Attributes["quadrant"] = p.Quadrant
	}
	if len(p.OpenComplaints) > 0 {
		out.Attributes["open_complaint"] = "true"
	}
	return out, nil
}

func (c customerModel) Profile(ctx context.Context, id contact.CustomerID) (any, error) {
	return c.svc.Profile(ctx, id)
}
