package main

import (
	"context"
	"errors"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/desk"
)

// deskCustomers adapts the customer model to what the desk needs.
type deskCustomers struct{ svc *customer.Service }

func (c deskCustomers) Identify(ctx context.Context, id contact.Identity) (desk.Identified, error) {
	m, err := c.svc.Resolve(ctx, id.Kind, id.Value)
	switch {
	case errors.Is(err, customer.ErrUnknown):
		return desk.Identified{Normalized: m.Normalized, Tier: "standard"}, nil
	case errors.Is(err, customer.ErrInvalidIdentity):
		return desk.Identified{Tier: "standard"}, nil // routed as an unknown sender
	case err != nil:
		return desk.Identified{}, err
	}
	out := desk.Identified{CustomerID: m.CustomerID, Normalized: m.Normalized, Tier: m.Tier, Attributes: map[string]string{}}
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

func (c deskCustomers) Profile(ctx context.Context, id contact.CustomerID) (any, error) {
	return c.svc.Profile(ctx, id)
}
