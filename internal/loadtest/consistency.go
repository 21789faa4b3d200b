package loadtest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Expected is one contact a load client saw acknowledged: by its external
// id on a channel (SMS MessageSid, email Message-ID, SIP Call-ID) or, when
// the client knows it, by contact id (a chat session).
type Expected struct {
	Channel    string
	ExternalID string
	ContactID  int64
}

// CheckSpec says what a consistency check looks at.
type CheckSpec struct {
	Expect []Expected
	// Prefixes: channel → external id prefix; every contact of the channel
	// whose external id starts with it is checked too (sipp's Call-IDs,
	// which the client does not collect one by one).
	Prefixes map[string]string
	// Messages are ids of messages the server acknowledged (chat acks):
	// each must be stored.
	Messages []int64
	// Capacity per channel (default voice 1, chat 3, email 5, sms 5).
	Capacity map[string]int
	// Since bounds the agent-capacity reconstruction to events after it.
	Since time.Time
}

// CheckReport is what the check found. Problems lists every violation
// (the first 50); OK is true when there is none.
type CheckReport struct {
	Expected, Found, Lost, Duplicated int
	ByState                           map[string]int // final state of checked contacts
	Events                            int
	BadHistories                      int
	AnsweredWithoutAgent              int
	MessagesMissing                   int
	MaxConcurrent                     map[string]int // channel → max concurrent contacts of one agent
	OverCapacity                      int
	Problems                          []string
}

// OK reports whether the check found nothing wrong.
func (r CheckReport) OK() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.BadHistories == 0 && r.AnsweredWithoutAgent == 0 &&
		r.MessagesMissing == 0 && r.OverCapacity == 0
}

func (r CheckReport) String() string {
	states := make([]string, 0, len(r.ByState))
	for s, n := range r.ByState {
		states = append(states, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(states)
	caps := make([]string, 0, len(r.MaxConcurrent))
	for c, n := range r.MaxConcurrent {
		caps = append(caps, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(caps)
	verdict := "OK"
	if !r.OK() {
		verdict = "FAILED"
	}
	return fmt.Sprintf("consistency %s: expected %d found %d lost %d duplicated %d; states: %s; events %d, bad histories %d, "+
		"answered without agent %d, acked messages missing %d; max concurrent per agent: %s; over capacity %d",
		verdict, r.Expected, r.Found, r.Lost, r.Duplicated, strings.Join(states, ", "), r.Events, r.BadHistories,
		r.AnsweredWithoutAgent, r.MessagesMissing, strings.Join(caps, ", "), r.OverCapacity)
}

func (r *CheckReport) problem(format string, a ...any) {
	if len(r.Problems) < 50 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
	}
}

type checkedContact struct {
	id      int64
	channel string
	state   string
	agent   *int64
}

// Check verifies, from the database at dsn, what a load run promised:
// every acknowledged contact exists exactly once with a consistent state
// history (created → enqueued → (offered → accepted|declined|timed_out)* →
// completed → closed, or → abandoned; nothing after closed), every
// answered contact has an agent, every acknowledged message is stored, and
// no agent ever held more contacts of a channel than its capacity
// (reconstructed from accepted/completed events).
func Check(ctx context.Context, dsn string, spec CheckSpec) (CheckReport, error) {
	rep := CheckReport{ByState: map[string]int{}, MaxConcurrent: map[string]int{}}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return rep, fmt.Errorf("loadtest: check: connect: %w", err)
	}
	defer conn.Close(ctx)

	contacts := map[int64]*checkedContact{}
	scan := func(rows pgx.Rows) (int, error) {
		n := 0
		for rows.Next() {
			c := &checkedContact{}
			if err := rows.Scan(&c.id, &c.channel, &c.state, &c.agent); err != nil {
				return n, err
			}
			contacts[c.id] = c
			n++
		}
		return n, rows.Err()
	}
	// By external id, in batches.
	byChan := map[string][]string{}
	var ids []int64
	for _, e := range spec.Expect {
		rep.Expected++
		if e.ContactID != 0 {
			ids = append(ids, e.ContactID)
		} else {
			byChan[e.Channel] = append(byChan[e.Channel], e.ExternalID)
		}
	}
	for ch, exts := range byChan {
		found := map[string]int{}
		rows, err := conn.Query(ctx, `SELECT id, channel, state, agent_id, external_id FROM contacts WHERE channel = $1 AND external_id = ANY($2)`, ch, exts)
		if err != nil {
			return rep, fmt.Errorf("loadtest: check: contacts: %w", err)
		}
		for rows.Next() {
			c := &checkedContact{}
			var ext string
			if err := rows.Scan(&c.id, &c.channel, &c.state, &c.agent, &ext); err != nil {
				rows.Close()
				return rep, err
			}
			contacts[c.id] = c
			found[ext]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return rep, err
		}
		seen := map[string]bool{}
		for _, x := range exts {
			if seen[x] {
				continue // the client acknowledged a retry of the same message
			}
			seen[x] = true
			switch n := found[x]; {
			case n == 0:
				rep.Lost++
				rep.problem("%s %s acknowledged but not stored", ch, x)
			case n > 1:
				rep.Duplicated++
				rep.problem("%s %s stored %d times", ch, x, n)
			default:
				rep.Found++
			}
		}
		rep.Expected -= len(exts) - len(seen)
	}
	if len(ids) > 0 {
		rows, err := conn.Query(ctx, `SELECT id, channel, state, agent_id FROM contacts WHERE id = ANY($1)`, ids)
		if err != nil {
			return rep, fmt.Errorf("loadtest: check: contacts: %w", err)
		}
		if _, err := scan(rows); err != nil {
			return rep, err
		}
		for _, id := range ids {
			if contacts[id] == nil {
				rep.Lost++
				rep.problem("contact %d acknowledged but not stored", id)
			} else {
				rep.Found++
			}
		}
	}
	for ch, prefix := range spec.Prefixes {
		rows, err := conn.Query(ctx, `SELECT id, channel, state, agent_id FROM contacts WHERE channel = $1 AND external_id LIKE $2`, ch, prefix+"%")
		if err != nil {
			return rep, fmt.Errorf("loadtest: check: contacts: %w", err)
		}
		n, err := scan(rows)
		if err != nil {
			return rep, err
		}
		rep.Expected += n
		rep.Found += n
	}

	// State histories.
	all := make([]int64, 0, len(contacts))
	for id, c := range contacts {
		all = append(all, id)
		rep.ByState[c.state]++
	}
	type event struct {
		contact int64
		agent   *int64
		kind    string
	}
	hist := map[int64][]event{}
	for start := 0; start < len(all); start += 5000 {
		end := min(start+5000, len(all))
		rows, err := conn.Query(ctx, `SELECT contact_id, agent_id, kind FROM contact_events WHERE contact_id = ANY($1) ORDER BY id`, all[start:end])
		if err != nil {
			return rep, fmt.Errorf("loadtest: check: events: %w", err)
		}
		for rows.Next() {
			var e event
			if err := rows.Scan(&e.contact, &e.agent, &e.kind); err != nil {
				rows.Close()
				return rep, err
			}
			hist[e.contact] = append(hist[e.contact], e)
			rep.Events++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return rep, err
		}
	}
	for _, id := range all {
		c := contacts[id]
		kinds := make([]string, len(hist[id]))
		answered := false
		for i, e := range hist[id] {
			kinds[i] = e.kind
			if e.kind == "accepted" {
				answered = true
				if e.agent == nil {
					rep.AnsweredWithoutAgent++
					rep.problem("contact %d: accepted event without agent", id)
				}
			}
		}
		if bad := badHistory(kinds, c.state); bad != "" {
			rep.BadHistories++
			rep.problem("contact %d (%s, %s): %s: %s", id, c.channel, c.state, bad, strings.Join(kinds, " → "))
		}
		if answered && c.agent == nil && c.state != "abandoned" {
			rep.AnsweredWithoutAgent++
			rep.problem("contact %d answered but has no agent", id)
		}
	}

	// Acknowledged messages.
	if len(spec.Messages) > 0 {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(DISTINCT id) FROM messages WHERE id = ANY($1)`, spec.Messages).Scan(&n); err != nil {
			return rep, fmt.Errorf("loadtest: check: messages: %w", err)
		}
		uniq := map[int64]bool{}
		for _, m := range spec.Messages {
			uniq[m] = true
		}
		rep.MessagesMissing = len(uniq) - n
		if rep.MessagesMissing > 0 {
			rep.problem("%d acknowledged messages not stored", rep.MessagesMissing)
		}
	}

	// Agent capacity, from every agent's accepted/completed events since Since.
	capacity := map[string]int{"voice": 1, "chat": 3, "email": 5, "sms": 5}
	for k, v := range spec.Capacity {
		capacity[k] = v
	}
	rows, err := conn.Query(ctx, `SELECT e.agent_id, e.contact_id, e.kind, c.channel FROM contact_events e JOIN contacts c ON c.id = e.contact_id
		WHERE e.at >= $1 AND e.agent_id IS NOT NULL AND e.kind IN ('accepted', 'completed', 'transferred', 'abandoned') ORDER BY e.id`, spec.Since)
	if err != nil {
		return rep, fmt.Errorf("loadtest: check: capacity: %w", err)
	}
	defer rows.Close()
	type key struct {
		agent   int64
		channel string
	}
	held := map[key]map[int64]bool{}
	for rows.Next() {
		var agent, id int64
		var kind, ch string
		if err := rows.Scan(&agent, &id, &kind, &ch); err != nil {
			return rep, err
		}
		k := key{agent, ch}
		if held[k] == nil {
			held[k] = map[int64]bool{}
		}
		if kind == "accepted" {
			held[k][id] = true
			n := len(held[k])
			if n > rep.MaxConcurrent[ch] {
				rep.MaxConcurrent[ch] = n
			}
			if n > capacity[ch] {
				rep.OverCapacity++
				rep.problem("agent %d held %d %s contacts at once (capacity %d) when accepting %d", agent, n, ch, capacity[ch], id)
			}
		} else {
			delete(held[k], id)
		}
	}
	return rep, rows.Err()
}

// badHistory checks one contact's event kinds against the lifecycle; it
// returns what is wrong, or "".
func badHistory(kinds []string, state string) string {
	if len(kinds) == 0 {
		return "no events"
	}
	if kinds[0] != "created" {
		return "does not start with created"
	}
	st := "created"
	for i, k := range kinds[1:] {
		if k == "wrapup_ended" {
			// The agent's wrap-up timer: an agent event that names the
			// contact, written after closed; not a contact state.
			continue
		}
		next := ""
		switch st {
		case "created":
			switch k {
			case "enqueued":
				next = "queued"
			case "abandoned":
				next = "abandoned"
			}
		case "queued":
			switch k {
			case "offered":
				next = "offered"
			case "abandoned":
				next = "abandoned"
			case "enqueued", "overflowed", "transferred", "callback_requested":
				next = "queued"
			}
		case "offered":
			switch k {
			case "accepted":
				next = "active"
			case "declined", "timed_out", "withdrawn", "enqueued", "overflowed", "callback_requested":
				next = "queued"
			case "offered": // ring-all: several offers at once
				next = "offered"
			case "abandoned":
				next = "abandoned"
			}
		case "active":
			switch k {
			case "completed":
				next = "completed"
			case "transferred", "enqueued":
				next = "queued"
			}
		case "completed":
			switch k {
			case "closed":
				next = "closed"
			case "wrapup_ended":
				next = "completed"
			}
		case "closed", "abandoned":
			return fmt.Sprintf("event %q after %s (event %d)", k, st, i+2)
		}
		if next == "" {
			return fmt.Sprintf("%q not allowed after %s (event %d)", k, st, i+2)
		}
		st = next
	}
	want := map[string]string{"queued": "queued", "offered": "offered", "active": "active", "completed": "wrapup", "closed": "closed", "abandoned": "abandoned"}[st]
	if want != state && !(st == "active" && state == "wrapup") {
		return fmt.Sprintf("history ends %s but the contact is %s", st, state)
	}
	return ""
}
