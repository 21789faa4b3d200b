package smsstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/sms"
	"github.com/contacthub/contacthub/contact/sms/smsstore"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestStatusBeforeSend(t *testing.T) {
	ctx := context.Background()
	st := dbtest.New(t)
	s := smsstore.New(st.Pool)
	c, _, err := st.InsertContact(ctx, store.Contact{Contact: contact.Contact{Channel: contact.SMS,
		From: contact.Identity{Kind: contact.Phone, Value: "+8613800138000"}, Queue: "general", CreatedAt: time.Now()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.AddMessage(ctx, contact.Message{ContactID: c.ID, Direction: contact.Outbound, Body: "hi", Status: "sending"})
	if err != nil {
		t.Fatal(err)
	}
	// The callback comes first: remembered, no message yet.
	if ok, err := s.UpdateStatus(ctx, "SM1", "sent", 3, "", "sent"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.SaveOutbound(ctx, sms.Outbound{SID: "SM1", MessageID: m.ID, ContactID: c.ID, To: "+8613800138000", Status: "queued", Rank: 1}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.UpdateStatus(ctx, "SM1", "sent", 3, "", "sent"); ok {
		t.Fatal("same rank applied twice")
	}
	if ok, err := s.UpdateStatus(ctx, "SM1", "delivered", 5, "", "delivered"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, _ := s.UpdateStatus(ctx, "SM1", "sending", 2, "", "sending"); ok {
		t.Fatal("status went back")
	}
	msgs, _ := st.Messages(ctx, c.ID, 0)
	if msgs[0].Status != "delivered" {
		t.Fatalf("status %q", msgs[0].Status)
	}

	// Opt-out and survey bookkeeping.
	if ch, _ := s.OptOut(ctx, "+1", "STOP"); !ch {
		t.Fatal("first opt-out unchanged")
	}
	if ch, _ := s.OptOut(ctx, "+1", "STOP"); ch {
		t.Fatal("second opt-out changed")
	}
	if out, _ := s.OptedOut(ctx, "+1"); !out {
		t.Fatal("not opted out")
	}
	if ch, _ := s.OptIn(ctx, "+1"); !ch {
		t.Fatal("opt-in unchanged")
	}
	now := time.Now()
	if _, err := s.PendingSurvey(ctx, "+8613800138000", "+1", now.Add(-time.Hour)); !errors.Is(err, sms.ErrNoSurvey) {
		t.Fatal(err)
	}
	if err := s.SaveSurvey(ctx, sms.Survey{ContactID: c.ID, Phone: "+8613800138000", Number: "+1", SentAt: now}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AnswerSurvey(ctx, c.ID, "SM9"); !ok {
		t.Fatal("not claimed")
	}
	if ok, _ := s.AnswerSurvey(ctx, c.ID, "SM10"); ok {
		t.Fatal("claimed twice")
	}
	v, err := s.PendingSurvey(ctx, "+8613800138000", "+1", now.Add(-time.Hour))
	if err != nil || !v.Answered || v.AnswerSID != "SM9" {
		t.Fatal(v, err)
	}
	if last, err := s.LastActivity(ctx, c.ID); err != nil || last.Before(m.CreatedAt.Add(-time.Second)) {
		t.Fatal(last, err)
	}
}
