package routing

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/contacthub/contacthub/contact"
)

// Facts are what the desk knows about a contact's customer when it
// enqueues: the value tier and attributes such as "open_complaint": "true",
// "quadrant": "hostage", "lifecycle": "at_risk".
type Facts struct {
	Tier       string
	Attributes map[string]string
}

// Condition matches facts: every key must equal (the key "tier" is the
// tier, any other key an attribute). The value "*" means present and
// non-empty. An empty condition matches everything.
type Condition map[string]string

func (c Condition) matches(f Facts) bool {
	for k, want := range c {
		var got string
		if k == "tier" {
			got = f.Tier
		} else {
			got = f.Attributes[k]
		}
		if want == "*" {
			if got == "" {
				return false
			}
		} else if got != want {
			return false
		}
	}
	return true
}

// Rule places a contact: the first rule whose condition matches gives the
// queue and base priority.
type Rule struct {
	Name     string            `json:"name,omitempty"`
	When     Condition         `json:"when,omitempty"`
	Queue    contact.QueueName `json:"queue,omitempty"` // empty: the policy's DefaultQueue
	Priority int               `json:"priority"`
}

// Boost adjusts the priority: every boost whose condition matches adds Add.
type Boost struct {
	Name string    `json:"name,omitempty"`
	When Condition `json:"when"`
	Add  int       `json:"add"`
}

// TierPolicy maps a customer's tier and circumstances to a queue and a
// priority. Rules are evaluated in order and the first match wins; then
// every matching boost is added. It is plain data, loadable from JSON:
//
//	{"default_queue": "general",
//	 "rules":  [{"when": {"tier": "platinum"}, "queue": "priority", "priority": 100}, ...,
//	            {"priority": 10}],
//	 "boosts": [{"when": {"open_complaint": "true"}, "add": 30}]}
type TierPolicy struct {
	DefaultQueue contact.QueueName `json:"default_queue"`
	Rules        []Rule            `json:"rules"`
	Boosts       []Boost           `json:"boosts,omitempty"`
}

// Decision is where and how urgently a contact waits.
type Decision struct {
	Queue    contact.QueueName `json:"queue"`
	Priority int               `json:"priority"`
	Rule     string            `json:"rule,omitempty"`   // name (or index) of the rule that matched
	Boosts   []string          `json:"boosts,omitempty"` // names of the boosts added
}

// Queue names used by DefaultTierPolicy.
const (
	QueuePriority contact.QueueName = "priority"
	QueueGeneral  contact.QueueName = "general"
)

// DefaultTierPolicy: platinum → "priority" 100, gold → "priority" 80,
// silver → general 40, bronze → general 20, standard or unknown → general
// 10; an open complaint adds 30, a hostage customer (low satisfaction,
// high loyalty) 20, a customer at risk of lapsing 15.
func DefaultTierPolicy() TierPolicy {
	return TierPolicy{
		DefaultQueue: QueueGeneral,
		Rules: []Rule{
			{Name: "platinum", When: Condition{"tier": "platinum"}, Queue: QueuePriority, Priority: 100},
			{Name: "gold", When: Condition{"tier": "gold"}, Queue: QueuePriority, Priority: 80},
			{Name: "silver", When: Condition{"tier": "silver"}, Priority: 40},
			{Name: "bronze", When: Condition{"tier": "bronze"}, Priority: 20},
			{Name: "standard", Priority: 10},
		},
		Boosts: []Boost{
			{Name: "open_complaint", When: Condition{"open_complaint": "true"}, Add: 30},
			{Name: "hostage", When: Condition{"quadrant": "hostage"}, Add: 20},
			{Name: "at_risk", When: Condition{"lifecycle": "at_risk"}, Add: 15},
		},
	}
}

// Validate checks the policy: a default queue, at least one rule, and a
// last resort (some rule must match anything, or Decide falls back to the
// default queue with priority 0).
func (p TierPolicy) Validate() error {
	if p.DefaultQueue == "" {
		return fmt.Errorf("%w: no default_queue", ErrInvalidPolicy)
	}
	if len(p.Rules) == 0 {
		return fmt.Errorf("%w: no rules", ErrInvalidPolicy)
	}
	for i, r := range p.Rules {
		if r.Priority > MaxPriority || r.Priority < -MaxPriority {
			return fmt.Errorf("%w: rule %d: priority %d", ErrInvalidPolicy, i, r.Priority)
		}
	}
	for i, b := range p.Boosts {
		if len(b.When) == 0 {
			return fmt.Errorf("%w: boost %d: empty condition", ErrInvalidPolicy, i)
		}
	}
	return nil
}

// Decide applies the policy.
func (p TierPolicy) Decide(f Facts) Decision {
	d := Decision{Queue: p.DefaultQueue}
	for i, r := range p.Rules {
		if r.When.matches(f) {
			if r.Queue != "" {
				d.Queue = r.Queue
			}
			d.Priority = r.Priority
			d.Rule = r.Name
			if d.Rule == "" {
				d.Rule = fmt.Sprintf("rule %d", i)
			}
			break
		}
	}
	for i, b := range p.Boosts {
		if b.When.matches(f) {
			d.Priority += b.Add
			n := b.Name
			if n == "" {
				n = fmt.Sprintf("boost %d", i)
			}
			d.Boosts = append(d.Boosts, n)
		}
	}
	return d
}

// LoadTierPolicy reads and validates a JSON policy; unknown fields are errors.
func LoadTierPolicy(r io.Reader) (TierPolicy, error) {
	var p TierPolicy
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return TierPolicy{}, fmt.Errorf("routing: load tier policy: %w: %w", ErrInvalidPolicy, err)
	}
	if err := p.Validate(); err != nil {
		return TierPolicy{}, fmt.Errorf("routing: load tier policy: %w", err)
	}
	return p, nil
}
