package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestUsers(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.User{Name: "alice", DisplayName: "Alice 王", Role: store.RoleAgent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Fatalf("created user lacks id/created_at: %+v", u)
	}
	if _, err := st.CreateUser(ctx, store.User{Name: "alice", Role: store.RoleAgent, PasswordHash: "y"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: got %v, want ErrConflict", err)
	}
	if _, err := st.UserByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing user: got %v, want ErrNotFound", err)
	}
	got, err := st.UserByID(ctx, u.ID)
	if err != nil || got.DisplayName != "Alice 王" {
		t.Fatalf("UserByID = %+v, %v", got, err)
	}
	if _, err := st.CreateUser(ctx, store.User{Name: "bad name!", Role: store.RoleAgent, PasswordHash: "y"}); err == nil {
		t.Fatal("invalid name accepted")
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.User{Name: "bob", Role: store.RoleSupervisor, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		name    string
		hash    []byte
		expires time.Time
		found   bool
	}{
		{"valid", []byte("h1"), now.Add(time.Hour), true},
		{"expired", []byte("h2"), now.Add(-time.Second), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := st.CreateSession(ctx, tc.hash, u.ID, tc.expires); err != nil {
				t.Fatal(err)
			}
			_, err := st.SessionUser(ctx, tc.hash, now)
			if tc.found != (err == nil) {
				t.Fatalf("SessionUser err=%v, want found=%v", err, tc.found)
			}
		})
	}
	if err := st.DeleteSession(ctx, []byte("h1")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionUser(ctx, []byte("h1"), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session still valid: %v", err)
	}
	n, err := st.DeleteExpiredSessions(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		r, min store.Role
		want   bool
	}{
		{store.RoleAgent, store.RoleAgent, true},
		{store.RoleAgent, store.RoleSupervisor, false},
		{store.RoleSupervisor, store.RoleAgent, true},
		{store.RoleAdmin, store.RoleSupervisor, true},
		{store.RoleSupervisor, store.RoleAdmin, false},
		{"bogus", store.RoleAgent, false},
	}
	for _, tc := range tests {
		if got := tc.r.AtLeast(tc.min); got != tc.want {
			t.Errorf("%s.AtLeast(%s) = %v, want %v", tc.r, tc.min, got, tc.want)
		}
	}
}

func TestSecretIsStable(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	a, err := st.Secret(ctx, "chat_token", 32)
	if err != nil || len(a) != 32 {
		t.Fatalf("first: %x %v", a, err)
	}
	b, err := st.Secret(ctx, "chat_token", 32)
	if err != nil || string(a) != string(b) {
		t.Fatalf("second call gave another secret: %x vs %x (%v)", a, b, err)
	}
	c, _ := st.Secret(ctx, "other", 32)
	if string(c) == string(a) {
		t.Fatal("two names share a secret")
	}
}
