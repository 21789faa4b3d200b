// Package demo seeds a database with demo data: known users to log in with
// and (in customers.go) a realistic customer population.
package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/store"
)

// Credential is a demo login.
type Credential struct {
	Name     string
	Password string
	Role     store.Role
}

// Users are the demo logins. The passwords are public: never run -demo on
// a server reachable by others.
var Users = []Credential{
	{"admin", "admin-demo-pw", store.RoleAdmin},
	{"supervisor", "supervisor-demo-pw", store.RoleSupervisor},
	{"alice", "agent-demo-pw", store.RoleAgent},
	{"bob", "agent-demo-pw", store.RoleAgent},
	{"carol", "agent-demo-pw", store.RoleAgent},
}

var displayNames = map[string]string{
	"admin": "Admin", "supervisor": "Sam Supervisor", "alice": "Alice 李", "bob": "Bob 王", "carol": "Carol 陈",
}

// SeedUsers creates the demo users that do not exist yet.
func SeedUsers(ctx context.Context, a *auth.Service) error {
	for _, u := range Users {
		_, _, err := a.CreateUser(ctx, u.Name, displayNames[u.Name], u.Role, u.Password)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("demo: user %s: %w", u.Name, err)
		}
	}
	return nil
}
