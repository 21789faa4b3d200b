package desktest_test

import (
	"context"
	"testing"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/demo"
	"github.com/contacthub/contacthub/internal/desktest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestKnownCustomerScreenPop: a demo customer writing in is recognised and
// the offer carries the profile with the tier.
func TestKnownCustomerScreenPop(t *testing.T) {
	r := desktest.New(t, 1)
	r.SeedDemoCustomers(t, 200)
	r.Available(t, r.Agents[0])
	_, err := r.Desk.Accept(context.Background(), contact.Arrival{Channel: contact.SMS,
		From: contact.Identity{Kind: contact.Phone, Value: "139 0013 9000"}, Message: &contact.Message{Body: "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	of := r.NextOffer(t, r.Agents[0])
	if of.Profile == nil || of.Profile.Tier != "gold" || of.Contact.Queue != "priority" {
		t.Fatalf("offer %+v profile %+v, want Li Wei (gold) in priority", of.Contact, of.Profile)
	}
	_ = demo.LiWei
	c := r.Accept(t, r.Agents[0], of)
	if c.State != contact.Active {
		t.Fatalf("state %s", c.State)
	}
}
