package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Role of a user.
type Role string

// Roles, from least to most privileged.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin }

// AtLeast reports whether r has at least the privileges of min.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

func (r Role) rank() int {
	switch r {
	case RoleAgent:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// User is an agent, supervisor or admin.
type User struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	DisplayName  string    `json:"display_name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
}

const userColumns = `id, name, display_name, role, password_hash, disabled, created_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt)
	return u, err
}

// CreateUser inserts u and returns it with its ID. ErrConflict if the name is taken.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	row := s.Pool.QueryRow(ctx, `
		INSERT INTO users (name, display_name, role, password_hash)
		VALUES ($1, $2, $3, $4)
		RETURNING `+userColumns, u.Name, u.DisplayName, u.Role, u.PasswordHash)
	out, err := scanUser(row)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return User{}, fmt.Errorf("store: create user %q: %w", u.Name, ErrConflict)
		}
		return User{}, fmt.Errorf("store: create user %q: %w", u.Name, err)
	}
	return out, nil
}

// UserByName returns the user called name, or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("store: user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", name, err)
	}
	return u, nil
}

// UserByID returns the user with id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("store: user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}

// ListUsers returns every user, ordered by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// SetPassword replaces a user's password hash and ends their sessions.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) error {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: set password %d: %w", id, err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)
	if err != nil {
		return fmt.Errorf("store: set password %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: set password %d: %w", id, ErrNotFound)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("store: set password %d: %w", id, err)
	}
	return tx.Commit(ctx)
}

// CreateUsersBulk creates count users named prefix1..prefixN sharing one
// password hash, skipping names that exist; it returns how many it created.
// For provisioning load-test agents.
func (s *Store) CreateUsersBulk(ctx context.Context, prefix string, count int, role Role, hash string) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `INSERT INTO users (name, display_name, role, password_hash)
		SELECT $1 || g, $1 || ' ' || g, $3, $4 FROM generate_series(1, $2) g
		ON CONFLICT (name) DO NOTHING`, prefix, count, role, hash)
	if err != nil {
		return 0, fmt.Errorf("store: bulk users: %w", err)
	}
	return tag.RowsAffected(), nil
}
