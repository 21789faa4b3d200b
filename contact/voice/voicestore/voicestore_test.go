package voicestore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/contacthub/contacthub/contact/voice"
	"github.com/contacthub/contacthub/contact/voice/voicestore"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestSetPasswordLookup(t *testing.T) {
	ctx := context.Background()
	st := dbtest.New(t)
	u, err := st.CreateUser(ctx, store.User{Name: "alice", Role: store.RoleAgent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	vs := voicestore.New(st.Pool)
	if err := vs.SetPassword(ctx, "alice", "short", ""); err == nil {
		t.Fatal("short password accepted")
	}
	if err := vs.SetPassword(ctx, "bob", "long-enough", ""); !errors.Is(err, voicestore.ErrNoUser) {
		t.Fatalf("unknown user: %v", err)
	}
	for _, pw := range []string{"first-password", "second-password"} {
		if err := vs.SetPassword(ctx, "alice", pw, "contacthub"); err != nil {
			t.Fatal(err)
		}
		agent, ha1, err := vs.Lookup(ctx, "alice")
		if err != nil || int64(agent) != u.ID || ha1 != voice.HA1("alice", "contacthub", pw) {
			t.Fatalf("lookup: %v %q %v", agent, ha1, err)
		}
	}
	if _, _, err := vs.Lookup(ctx, "nobody"); !errors.Is(err, voice.ErrUnknownUser) {
		t.Fatalf("unknown: %v", err)
	}
}
