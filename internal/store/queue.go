package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// QueueConfigs returns each queue's stored configuration (routing.Queue JSON) by name.
func (s *Store) QueueConfigs(ctx context.Context) (map[string]json.RawMessage, error) {
	rows, err := s.Pool.Query(ctx, `SELECT name, config FROM queues ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: queues: %w", err)
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var name string
		var cfg []byte
		if err := rows.Scan(&name, &cfg); err != nil {
			return nil, fmt.Errorf("store: queues: %w", err)
		}
		out[name] = cfg
	}
	return out, rows.Err()
}

// PutQueueConfig creates or replaces a queue's configuration.
func (s *Store) PutQueueConfig(ctx context.Context, name string, cfg json.RawMessage) error {
	if _, err := s.Pool.Exec(ctx, `INSERT INTO queues (name, config) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config`, name, cfg); err != nil {
		return fmt.Errorf("store: put queue %s: %w", name, err)
	}
	return nil
}

// AgentRecord is a user who can take contacts, with their routing profile
// (routing.Agent JSON, possibly empty) and last presence.
type AgentRecord struct {
	User    User
	Routing json.RawMessage
	State   string
	Reason  string
	Since   time.Time
}

// Agents returns every enabled agent and supervisor with profile and presence.
func (s *Store) Agents(ctx context.Context) ([]AgentRecord, error) { return s.agents(ctx, 0) }

// Agent returns one enabled agent or supervisor, or ErrNotFound.
func (s *Store) Agent(ctx context.Context, id int64) (AgentRecord, error) {
	recs, err := s.agents(ctx, id)
	if err != nil {
		return AgentRecord{}, err
	}
	if len(recs) == 0 {
		return AgentRecord{}, fmt.Errorf("store: agent %d: %w", id, ErrNotFound)
	}
	return recs[0], nil
}

func (s *Store) agents(ctx context.Context, id int64) ([]AgentRecord, error) {
	rows, err := s.Pool.Query(ctx, `SELECT u.id, u.name, u.display_name, u.role, u.password_hash, u.disabled, u.created_at,
			COALESCE(p.routing, '{}'), COALESCE(st.state, 'offline'), COALESCE(st.reason, ''), COALESCE(st.since, u.created_at)
		FROM users u LEFT JOIN agent_profiles p ON p.user_id = u.id LEFT JOIN agent_states st ON st.user_id = u.id
		WHERE NOT u.disabled AND u.role IN ('agent', 'supervisor') AND ($1 = 0 OR u.id = $1) ORDER BY u.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: agents: %w", err)
	}
	defer rows.Close()
	var out []AgentRecord
	for rows.Next() {
		var a AgentRecord
		u := &a.User
		if err := rows.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt,
			&a.Routing, &a.State, &a.Reason, &a.Since); err != nil {
			return nil, fmt.Errorf("store: agents: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutAgentProfile stores a user's routing profile.
func (s *Store) PutAgentProfile(ctx context.Context, userID int64, routing json.RawMessage) error {
	if _, err := s.Pool.Exec(ctx, `INSERT INTO agent_profiles (user_id, routing) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET routing = EXCLUDED.routing, updated_at = now()`, userID, routing); err != nil {
		return fmt.Errorf("store: put agent profile %d: %w", userID, err)
	}
	return nil
}

// CannedResponse is a reusable reply.
type CannedResponse struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// CannedResponses returns every canned response by title.
func (s *Store) CannedResponses(ctx context.Context) ([]CannedResponse, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, title, body FROM canned_responses ORDER BY title`)
	if err != nil {
		return nil, fmt.Errorf("store: canned responses: %w", err)
	}
	defer rows.Close()
	out := []CannedResponse{}
	for rows.Next() {
		var c CannedResponse
		if err := rows.Scan(&c.ID, &c.Title, &c.Body); err != nil {
			return nil, fmt.Errorf("store: canned responses: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddCannedResponse stores a canned response.
func (s *Store) AddCannedResponse(ctx context.Context, c CannedResponse, by int64) (CannedResponse, error) {
	if err := s.Pool.QueryRow(ctx, `INSERT INTO canned_responses (title, body, created_by) VALUES ($1, $2, $3) RETURNING id`,
		c.Title, c.Body, by).Scan(&c.ID); err != nil {
		return CannedResponse{}, fmt.Errorf("store: add canned response: %w", err)
	}
	return c, nil
}
