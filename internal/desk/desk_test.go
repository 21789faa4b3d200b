package desk_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/desktest"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/routing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var (
	platinum = "+8613800138000" // demo.WangFang
	gold     = "+8613900139000" // demo.LiWei
	bronze   = "+8613700137000" // demo.ZhangMin
)

type rig struct {
	*desktest.Rig
	desk   *desk.Desk
	rec    *desktest.Recorder
	st     *store.Store
	agents []contact.AgentID
}

func newRig(t *testing.T, st *store.Store, nAgents int) *rig {
	t.Helper()
	r := desktest.NewOn(t, st, nAgents)
	return &rig{Rig: r, desk: r.Desk, rec: r.Rec, st: r.Store, agents: r.Agents}
}

func (r *rig) stop() { r.Stop() }

func (r *rig) available(t *testing.T, a contact.AgentID) { r.Available(t, a) }

type offerFrame struct {
	OfferID routing.OfferID `json:"offer_id"`
	Contact struct {
		ID    contact.ID `json:"id"`
		Tier  string     `json:"tier"`
		State string     `json:"state"`
		Queue string     `json:"queue"`
	} `json:"contact"`
	Profile map[string]any `json:"profile"`
}

func TestContactLifecycle(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	r := newRig(t, st, 2)
	ctx := context.Background()
	a1, a2 := r.agents[0], r.agents[1]
	r.available(t, a1)

	c, err := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Chat, From: contact.Identity{Kind: contact.Visitor, Value: "v-1"},
		ExternalID: "chat-1", Message: &contact.Message{Body: "hello <b>there</b>"}})
	if err != nil {
		t.Fatal(err)
	}
	var of offerFrame
	json.Unmarshal(r.rec.Next(t, a1, "offer"), &of)
	if of.Contact.ID != c.ID || of.OfferID == 0 {
		t.Fatalf("offer %+v for contact %d", of, c.ID)
	}
	// The same external id again is the same contact, not a second one.
	again, err := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Chat, From: contact.Identity{Kind: contact.Visitor, Value: "v-1"}, ExternalID: "chat-1"})
	if err != nil || again.ID != c.ID {
		t.Fatalf("redelivery: %+v %v", again, err)
	}
	// Another agent cannot accept someone else's offer.
	if _, err := r.desk.AcceptOffer(ctx, a2, of.OfferID); err == nil {
		t.Fatal("agent 2 accepted agent 1's offer")
	}
	got, err := r.desk.AcceptOffer(ctx, a1, of.OfferID)
	if err != nil || got.State != contact.Active || got.AgentID != a1 {
		t.Fatalf("accept: %+v %v", got, err)
	}
	rec, _ := st.ContactByID(ctx, c.ID)
	if rec.State != contact.Active || rec.AnsweredAt == nil {
		t.Fatalf("accept not persisted before returning: %+v", rec)
	}
	r.rec.Next(t, a1, "contact_assigned")
	if _, err := r.desk.Reply(ctx, a1, c.ID, "hi, how can I help?"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Reply(ctx, a2, c.ID, "not mine"); err == nil {
		t.Fatal("agent 2 replied on agent 1's contact")
	}
	if _, err := r.desk.AddInbound(ctx, c.ID, contact.Message{Body: "thanks", ExternalID: "m2"}); err != nil {
		t.Fatal(err)
	}
	r.rec.Next(t, a1, "message")
	if _, err := r.desk.WrapUp(ctx, a1, c.ID, "bogus", ""); err == nil {
		t.Fatal("bad disposition accepted")
	}
	closed, err := r.desk.WrapUp(ctx, a1, c.ID, "resolved", "customer happy")
	if err != nil || closed.State != contact.Closed {
		t.Fatalf("wrap-up: %+v %v", closed, err)
	}
	det, err := r.desk.Contact(ctx, a1, true, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if det.Contact.State != contact.Closed || det.Contact.Disposition != "resolved" || len(det.Messages) != 3 {
		t.Fatalf("detail: %+v, %d messages", det.Contact, len(det.Messages))
	}
	var kinds []string
	for _, e := range det.Events {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"created", "enqueued", "offered", "accepted", "completed", "closed", "wrapup_ended"}
	if len(kinds) != len(want) {
		t.Fatalf("history %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("history %v, want %v", kinds, want)
		}
	}
	select {
	case f := <-r.rec.Frames(a2):
		for ; ; f = <-r.rec.Frames(a2) {
			if f.Type == "offer" {
				t.Fatalf("agent 2 got an offer: %s", f.Data)
			}
			if len(r.rec.Frames(a2)) == 0 {
				break
			}
		}
	default:
	}
}

func TestHighTierServedFirst(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	r := newRig(t, st, 1)
	r.SeedDemoCustomers(t, 100)
	ctx := context.Background()
	a := r.agents[0]
	if _, err := r.desk.AgentConnected(ctx, a); err != nil {
		t.Fatal(err)
	}
	bronze, _ := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Voice, From: contact.Identity{Value: bronze}})
	gold, _ := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Voice, From: contact.Identity{Value: gold}})
	if gold.Queue != "priority" || bronze.Queue != "general" || gold.Priority <= bronze.Priority {
		t.Fatalf("policy: gold %s/%d bronze %s/%d", gold.Queue, gold.Priority, bronze.Queue, bronze.Priority)
	}
	r.available(t, a)
	var of offerFrame
	json.Unmarshal(r.rec.Next(t, a, "offer"), &of)
	if of.Contact.ID != gold.ID {
		t.Fatalf("first offer is contact %d (tier %s), want the gold caller %d", of.Contact.ID, of.Contact.Tier, gold.ID)
	}
}

func TestDeclineRequeuesAndAbandon(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	r := newRig(t, st, 1)
	ctx := context.Background()
	a := r.agents[0]
	r.available(t, a)
	c, _ := r.desk.Accept(ctx, contact.Arrival{Channel: contact.SMS, From: contact.Identity{Value: "+8613012345678"}})
	var of offerFrame
	json.Unmarshal(r.rec.Next(t, a, "offer"), &of)
	if err := r.desk.DeclineOffer(ctx, a, of.OfferID); err != nil {
		t.Fatal(err)
	}
	r.rec.Next(t, a, "offer_withdrawn")
	if _, err := r.desk.SetState(ctx, a, "away", "lunch"); err != nil {
		t.Fatal(err)
	}
	if err := r.desk.Abandon(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rec, _ := st.ContactByID(ctx, c.ID)
	if rec.State != contact.Abandoned {
		t.Fatalf("state %s, want abandoned", rec.State)
	}
	if err := r.desk.Abandon(ctx, c.ID); err == nil {
		t.Fatal("abandoning twice succeeded")
	}
}

// TestRestartRestoresWaiting: contacts waiting when the desk goes away are
// waiting again, in the same order and with their original enqueue times,
// in a new desk on the same database.
func TestRestartRestoresWaiting(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	r := newRig(t, st, 1)
	r.SeedDemoCustomers(t, 100)
	ctx := context.Background()
	var ids []contact.ID
	for _, from := range []string{bronze, "+8613012345678", gold} {
		c, err := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Voice, From: contact.Identity{Value: from}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
		time.Sleep(5 * time.Millisecond)
	}
	before := r.desk.Engine().Snapshot()
	r.stop()

	r2 := newRig(t, st, 1)
	after := r2.desk.Engine().Snapshot()
	if len(after.Contacts) != 3 || len(before.Contacts) != 3 {
		t.Fatalf("waiting before %d, after %d; want 3", len(before.Contacts), len(after.Contacts))
	}
	enq := map[contact.ID]time.Time{}
	for _, w := range before.Contacts {
		enq[w.Contact] = w.EnqueuedAt
	}
	for _, w := range after.Contacts {
		if !w.EnqueuedAt.Equal(enq[w.Contact]) {
			t.Errorf("contact %d enqueued %v after restart, %v before", w.Contact, w.EnqueuedAt, enq[w.Contact])
		}
	}
	// The gold caller (last in) is still first once an agent is free.
	r2.available(t, r2.agents[0])
	var of offerFrame
	json.Unmarshal(r2.rec.Next(t, r2.agents[0], "offer"), &of)
	if of.Contact.ID != ids[2] {
		t.Fatalf("first offer after restart: contact %d, want %d", of.Contact.ID, ids[2])
	}
}

// deadCalls is a voice channel whose calls died with the previous process.
type deadCalls struct{}

func (deadCalls) Deliver(context.Context, contact.Contact, contact.Message) error { return nil }
func (deadCalls) Connect(context.Context, contact.Contact, contact.AgentID, string) error {
	return nil
}
func (deadCalls) Hangup(context.Context, contact.Contact) error { return nil }
func (deadCalls) EndsWithProcess() bool                         { return true }

// TestRestartEndsDeadCalls: after a crash, calls that were waiting are
// abandoned (counted) once the voice channel registers, instead of
// waiting forever; contacts of other channels keep their place.
func TestRestartEndsDeadCalls(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	r := newRig(t, st, 1)
	ctx := context.Background()
	call, err := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Voice, From: contact.Identity{Value: bronze}, ExternalID: "dead-call"})
	if err != nil {
		t.Fatal(err)
	}
	chat, err := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Chat, From: contact.Identity{Kind: "chat", Value: "v1"}, ExternalID: "live-chat"})
	if err != nil {
		t.Fatal(err)
	}
	r.stop()

	r2 := newRig(t, st, 1)
	r2.desk.Register(contact.Voice, deadCalls{})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := st.ContactByID(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == contact.Abandoned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead call is %s after restart, want abandoned", c.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	snap := r2.desk.Engine().Snapshot()
	if len(snap.Contacts) != 1 || snap.Contacts[0].Contact != chat.ID {
		t.Fatalf("waiting after restart: %+v, want only the chat %d", snap.Contacts, chat.ID)
	}
}
