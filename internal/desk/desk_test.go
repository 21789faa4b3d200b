package desk_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/routing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var testLogOut io.Writer = io.Discard

func init() {
	if os.Getenv("DESK_TEST_LOG") != "" {
		testLogOut = os.Stderr
	}
}

// fakeCustomers knows customers by identity value.
type fakeCustomers struct {
	byValue map[string]desk.Identified
}

func (f fakeCustomers) Identify(_ context.Context, id contact.Identity) (desk.Identified, error) {
	if c, ok := f.byValue[id.Value]; ok {
		return c, nil
	}
	return desk.Identified{Tier: "standard"}, nil
}

func (f fakeCustomers) Profile(_ context.Context, id contact.CustomerID) (any, error) {
	for _, c := range f.byValue {
		if c.CustomerID == id {
			return map[string]any{"id": id, "name": c.Name, "tier": c.Tier}, nil
		}
	}
	return nil, nil
}

type frame struct {
	typ  string
	data json.RawMessage
}

// recorder is a Notifier that keeps every frame per agent.
type recorder struct {
	mu     sync.Mutex
	frames map[contact.AgentID]chan frame
}

func newRecorder() *recorder { return &recorder{frames: map[contact.AgentID]chan frame{}} }

func (r *recorder) ch(a contact.AgentID) chan frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frames[a] == nil {
		r.frames[a] = make(chan frame, 1000)
	}
	return r.frames[a]
}

func (r *recorder) Send(a contact.AgentID, typ string, data any) error {
	b, _ := json.Marshal(data)
	r.ch(a) <- frame{typ, b}
	return nil
}

func (r *recorder) Broadcast(string, any) {}

// next waits for the agent's next frame of type typ, skipping others.
func (r *recorder) next(t *testing.T, a contact.AgentID, typ string) json.RawMessage {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-r.ch(a):
			if f.typ == typ {
				return f.data
			}
		case <-timeout:
			t.Fatalf("agent %d: no %q frame", a, typ)
		}
	}
}

// none checks the agent got no frame of type typ so far.
func (r *recorder) none(t *testing.T, a contact.AgentID, typ string) {
	t.Helper()
	for {
		select {
		case f := <-r.ch(a):
			if f.typ == typ {
				t.Fatalf("agent %d got unexpected %q: %s", a, typ, f.data)
			}
		default:
			return
		}
	}
}

type rig struct {
	st     *store.Store
	desk   *desk.Desk
	rec    *recorder
	cancel context.CancelFunc
	done   chan struct{}
	agents []contact.AgentID
}

var customers = fakeCustomers{byValue: map[string]desk.Identified{
	"+8613800138000": {CustomerID: 0, Name: "Wang Fang", Tier: "platinum", Normalized: "+8613800138000"},
	"+8613900139000": {CustomerID: 0, Name: "Li Wei", Tier: "gold", Normalized: "+8613900139000"},
	"+8613700137000": {CustomerID: 0, Name: "Zhang Min", Tier: "bronze", Normalized: "+8613700137000"},
}}

func newRig(t *testing.T, st *store.Store, nAgents int) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{st: st, rec: newRecorder(), done: make(chan struct{})}
	users, _ := st.ListUsers(ctx)
	for i, u := range users {
		if i < nAgents {
			r.agents = append(r.agents, contact.AgentID(u.ID))
		}
	}
	for i := len(users); i < nAgents; i++ {
		u, err := st.CreateUser(ctx, store.User{Name: "agent" + string(rune('a'+i)), Role: store.RoleAgent, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		r.agents = append(r.agents, contact.AgentID(u.ID))
	}
	r.desk = desk.New(st, customers, r.rec, slog.New(slog.NewTextHandler(testLogOut, nil)), desk.Options{Grace: time.Hour})
	if err := r.desk.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	go func() { r.desk.Run(rctx); close(r.done) }()
	t.Cleanup(r.stop)
	return r
}

func (r *rig) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

func (r *rig) available(t *testing.T, a contact.AgentID) {
	t.Helper()
	if _, err := r.desk.AgentConnected(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.SetState(context.Background(), a, "available", ""); err != nil {
		t.Fatal(err)
	}
}

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
	json.Unmarshal(r.rec.next(t, a1, "offer"), &of)
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
	r.rec.next(t, a1, "contact_assigned")
	if _, err := r.desk.Reply(ctx, a1, c.ID, "hi, how can I help?"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Reply(ctx, a2, c.ID, "not mine"); err == nil {
		t.Fatal("agent 2 replied on agent 1's contact")
	}
	if _, err := r.desk.AddInbound(ctx, c.ID, contact.Message{Body: "thanks", ExternalID: "m2"}); err != nil {
		t.Fatal(err)
	}
	r.rec.next(t, a1, "message")
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
	r.rec.none(t, a2, "offer")
}

func TestHighTierServedFirst(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	r := newRig(t, st, 1)
	ctx := context.Background()
	a := r.agents[0]
	if _, err := r.desk.AgentConnected(ctx, a); err != nil {
		t.Fatal(err)
	}
	bronze, _ := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Voice, From: contact.Identity{Value: "+8613700137000"}})
	gold, _ := r.desk.Accept(ctx, contact.Arrival{Channel: contact.Voice, From: contact.Identity{Value: "+8613900139000"}})
	if gold.Queue != "priority" || bronze.Queue != "general" || gold.Priority <= bronze.Priority {
		t.Fatalf("policy: gold %s/%d bronze %s/%d", gold.Queue, gold.Priority, bronze.Queue, bronze.Priority)
	}
	r.available(t, a)
	var of offerFrame
	json.Unmarshal(r.rec.next(t, a, "offer"), &of)
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
	json.Unmarshal(r.rec.next(t, a, "offer"), &of)
	if err := r.desk.DeclineOffer(ctx, a, of.OfferID); err != nil {
		t.Fatal(err)
	}
	r.rec.next(t, a, "offer_withdrawn")
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
	ctx := context.Background()
	var ids []contact.ID
	for _, from := range []string{"+8613700137000", "+8613012345678", "+8613900139000"} {
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
	json.Unmarshal(r2.rec.next(t, r2.agents[0], "offer"), &of)
	if of.Contact.ID != ids[2] {
		t.Fatalf("first offer after restart: contact %d, want %d", of.Contact.ID, ids[2])
	}
}
