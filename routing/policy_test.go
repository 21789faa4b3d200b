package routing

import (
	"errors"
	"strings"
	"testing"

	"github.com/contacthub/contacthub/contact"
)

func TestDefaultTierPolicy(t *testing.T) {
	p := DefaultTierPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		facts Facts
		queue contact.QueueName
		prio  int
	}{
		{"platinum", Facts{Tier: "platinum"}, "priority", 100},
		{"gold", Facts{Tier: "gold"}, "priority", 80},
		{"silver", Facts{Tier: "silver"}, "general", 40},
		{"bronze", Facts{Tier: "bronze"}, "general", 20},
		{"standard", Facts{Tier: "standard"}, "general", 10},
		{"unknown", Facts{}, "general", 10},
		{"open complaint", Facts{Tier: "bronze", Attributes: map[string]string{"open_complaint": "true"}}, "general", 50},
		{"hostage", Facts{Tier: "gold", Attributes: map[string]string{"quadrant": "hostage"}}, "priority", 100},
		{"at risk", Facts{Tier: "silver", Attributes: map[string]string{"lifecycle": "at_risk"}}, "general", 55},
		{"everything", Facts{Tier: "platinum", Attributes: map[string]string{"open_complaint": "true", "quadrant": "hostage", "lifecycle": "at_risk"}}, "priority", 165},
		{"complaint false", Facts{Tier: "silver", Attributes: map[string]string{"open_complaint": "false"}}, "general", 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Decide(c.facts)
			if d.Queue != c.queue || d.Priority != c.prio {
				t.Fatalf("got %s/%d, want %s/%d", d.Queue, d.Priority, c.queue, c.prio)
			}
		})
	}
}

func TestLoadTierPolicy(t *testing.T) {
	const js = `{"default_queue": "general",
	  "rules": [
	    {"name": "complaint first", "when": {"open_complaint": "true"}, "queue": "complaints", "priority": 90},
	    {"when": {"tier": "gold"}, "queue": "priority", "priority": 80},
	    {"when": {"account_manager": "*"}, "priority": 60},
	    {"priority": 10}],
	  "boosts": [{"name": "vip", "when": {"vip": "yes"}, "add": 5}]}`
	p, err := LoadTierPolicy(strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		facts Facts
		queue contact.QueueName
		prio  int
		rule  string
	}{
		{"first match wins", Facts{Tier: "gold", Attributes: map[string]string{"open_complaint": "true"}}, "complaints", 90, "complaint first"},
		{"tier rule", Facts{Tier: "gold"}, "priority", 80, "rule 1"},
		{"wildcard", Facts{Attributes: map[string]string{"account_manager": "ann"}}, "general", 60, "rule 2"},
		{"wildcard needs a value", Facts{Attributes: map[string]string{"account_manager": ""}}, "general", 10, "rule 3"},
		{"boost", Facts{Tier: "gold", Attributes: map[string]string{"vip": "yes"}}, "priority", 85, "rule 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Decide(c.facts)
			if d.Queue != c.queue || d.Priority != c.prio || d.Rule != c.rule {
				t.Fatalf("got %+v", d)
			}
		})
	}
	for _, bad := range []string{`{"rules":[{"priority":1}]}`, `{"default_queue":"g"}`, `{"default_queue":"g","rules":[{}],"extra":1}`, `{`} {
		if _, err := LoadTierPolicy(strings.NewReader(bad)); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: err %v", bad, err)
		}
	}
}
