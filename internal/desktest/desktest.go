// Package desktest runs a real desk for end-to-end tests of channel
// adapters: a fresh database (dbtest), the real customer model, the desk's
// pipeline running, and a recorder in place of the agent hub, so a test can
// play an agent without a browser.
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		r := desktest.New(t, 1)           // one agent
//		r.Available(t, r.Agents[0])
//		... the channel delivers a contact through r.Desk (a contact.Desk) ...
//		of := r.NextOffer(t, r.Agents[0])
//		c := r.Accept(t, r.Agents[0], of)
package desktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/routing"
)

// Frame is one envelope pushed to an agent.
type Frame struct {
	Type string
	Data json.RawMessage
}

// Recorder is a desk.Notifier that keeps every frame per agent.
type Recorder struct {
	mu     sync.Mutex
	frames map[contact.AgentID]chan Frame
}

func (r *Recorder) ch(a contact.AgentID) chan Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frames == nil {
		r.frames = map[contact.AgentID]chan Frame{}
	}
	if r.frames[a] == nil {
		r.frames[a] = make(chan Frame, 10000)
	}
	return r.frames[a]
}

// Frames is the agent's channel of frames not yet consumed.
func (r *Recorder) Frames(a contact.AgentID) chan Frame { return r.ch(a) }

// Send records a frame.
func (r *Recorder) Send(a contact.AgentID, typ string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	r.ch(a) <- Frame{typ, b}
	return nil
}

// Broadcast is ignored.
func (r *Recorder) Broadcast(string, any) {}

// Next waits up to 10 s for the agent's next frame of type typ, skipping others.
func (r *Recorder) Next(t testing.TB, a contact.AgentID, typ string) json.RawMessage {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-r.ch(a):
			if f.Type == typ {
				return f.Data
			}
		case <-timeout:
			t.Fatalf("desktest: agent %d got no %q frame within 10s", a, typ)
		}
	}
}

// Rig is a running desk on a fresh database.
type Rig struct {
	Store     *store.Store
	Customers *customer.Service
	Desk      *desk.Desk
	Rec       *Recorder
	Agents    []contact.AgentID
	cancel    context.CancelFunc
	done      chan struct{}
}

// New starts a desk with n agents (users agent1..agentN) on a fresh database.
func New(t testing.TB, n int) *Rig {
	t.Helper()
	return NewOn(t, dbtest.New(t), n)
}

// NewOn starts a desk on st, creating agents that do not exist yet.
func NewOn(t testing.TB, st *store.Store, n int) *Rig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("CONTACTHUB_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r := &Rig{Store: st, Rec: &Recorder{}, done: make(chan struct{})}
	r.Customers = customer.New(st, "CN", customer.DefaultValueConfig(), log)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("agent%d", i)
		u, err := st.UserByName(ctx, name)
		if err != nil {
			u, err = st.CreateUser(ctx, store.User{Name: name, DisplayName: fmt.Sprintf("Agent %d", i), Role: store.RoleAgent, PasswordHash: "x"})
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Agents = append(r.Agents, contact.AgentID(u.ID))
	}
	r.Desk = desk.New(st, desk.CustomerModel(r.Customers), r.Rec, log, desk.Options{Grace: time.Hour})
	if err := r.Desk.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	go func() { r.Desk.Run(rctx); close(r.done) }()
	t.Cleanup(r.Stop)
	return r
}

// Stop stops the desk's pipeline (idempotent).
func (r *Rig) Stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// Available connects the agent and makes them available.
func (r *Rig) Available(t testing.TB, a contact.AgentID) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.Desk.AgentConnected(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Desk.SetState(ctx, a, "available", ""); err != nil {
		t.Fatal(err)
	}
}

// Offer is the part of an offer frame tests look at.
type Offer struct {
	OfferID routing.OfferID `json:"offer_id"`
	Contact store.Contact   `json:"contact"`
	Profile *struct {
		ID   contact.CustomerID `json:"id"`
		Name string             `json:"name"`
		Tier string             `json:"tier"`
	} `json:"profile"`
}

// NextOffer waits for the agent's next offer.
func (r *Rig) NextOffer(t testing.TB, a contact.AgentID) Offer {
	t.Helper()
	var o Offer
	if err := json.Unmarshal(r.Rec.Next(t, a, "offer"), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// Accept accepts an offer as the agent.
func (r *Rig) Accept(t testing.TB, a contact.AgentID, o Offer) store.Contact {
	t.Helper()
	c, err := r.Desk.AcceptOffer(context.Background(), a, o.OfferID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// SeedDemoCustomers loads the demo population (small) so demo.WangFang & co exist.
func (r *Rig) SeedDemoCustomers(t testing.TB, n int) {
	t.Helper()
	if err := seed(context.Background(), r.Store, n); err != nil {
		t.Fatal(err)
	}
}
