package loadtest

import (
	"strings"
	"testing"
)

func TestBadHistory(t *testing.T) {
	tests := []struct {
		events, state string
		bad           bool
	}{
		{"created enqueued offered accepted completed closed", "closed", false},
		{"created enqueued offered accepted completed closed wrapup_ended", "closed", false},
		{"created enqueued offered declined offered timed_out offered accepted completed closed", "closed", false},
		{"created enqueued abandoned", "abandoned", false},
		{"created enqueued offered withdrawn abandoned", "abandoned", false},
		{"created enqueued", "queued", false},
		{"created enqueued offered accepted", "active", false},
		{"enqueued offered", "offered", true},
		{"created enqueued offered accepted completed closed offered", "closed", true},
		{"created enqueued abandoned enqueued", "queued", true},
		{"created enqueued accepted", "active", true},
		{"created enqueued offered accepted completed closed", "active", true},
		{"", "queued", true},
	}
	for _, tc := range tests {
		t.Run(tc.events, func(t *testing.T) {
			got := badHistory(strings.Fields(tc.events), tc.state)
			if (got != "") != tc.bad {
				t.Fatalf("badHistory = %q, want bad=%v", got, tc.bad)
			}
		})
	}
}
