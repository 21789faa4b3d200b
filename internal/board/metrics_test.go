package board_test

import (
	"math"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/board"
	"github.com/contacthub/contacthub/internal/store"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// at is t0 plus "m:ss" or "m:ss.mmm".
func at(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return t0.Add(d)
}

type timeline struct {
	t   *testing.T
	evs []store.EventRow
}

func (tl *timeline) add(kind string, c contact.ID, q contact.QueueName, when string, d store.EventData, agent contact.AgentID) {
	tl.evs = append(tl.evs, store.EventRow{ID: int64(len(tl.evs) + 1), ContactID: c, AgentID: agent, Kind: kind, Queue: q, At: at(tl.t, when), Data: d})
}

// The hand-computed timeline (queue general, T = 20 s, short abandons < 5 s):
//
//	C1 arrives 0s, answered 10s (in SL), talks 180s, wrap-up 30s
//	C2 arrives 5s, abandons 8s (3 s: short, left out of SL)
//	C3 arrives 1m, abandons 1m30s (30 s > T: abandoned after T)
//	C4 arrives 2m, answered 2m20s (exactly T: in SL)
//	C5 arrives 3m, answered 3m20.001s (just over T: not in SL)
//	C7 arrives 5m, abandons 5m10s (10 s: neither short nor after T)
//	C6 arrives 14m50s, answered 15m05s: offered in the 10:00 interval, answered in 10:15
//	C8 arrives 20m in priority (gold), overflows to general 20m30s, answered 20m40s:
//	   queue wait 10 s (in SL for general), tier wait 40 s (not in SL for gold)
//	agent 1: available 0s, busy 10s, wrap-up 3m10s, available 3m40s
func hand(t *testing.T) *board.Metrics {
	tl := &timeline{t: t}
	g := contact.QueueName("general")
	tier := store.EventData{Tier: "silver", Channel: "voice"}
	tl.add("agent_state_changed", 0, "", "0s", store.EventData{State: "available", From: "offline"}, 1)
	tl.add("enqueued", 1, g, "0s", tier, 0)
	tl.add("enqueued", 2, g, "5s", tier, 0)
	tl.add("abandoned", 2, g, "8s", store.EventData{WaitMS: 3000}, 0)
	tl.add("accepted", 1, g, "10s", store.EventData{WaitMS: 10000}, 1)
	tl.add("agent_state_changed", 0, "", "10s", store.EventData{State: "busy", From: "available"}, 1)
	tl.add("enqueued", 3, g, "1m", tier, 0)
	tl.add("abandoned", 3, g, "1m30s", store.EventData{WaitMS: 30000}, 0)
	tl.add("enqueued", 4, g, "2m", tier, 0)
	tl.add("accepted", 4, g, "2m20s", store.EventData{WaitMS: 20000}, 2)
	tl.add("enqueued", 5, g, "3m", tier, 0)
	tl.add("completed", 1, g, "3m10s", store.EventData{TalkMS: 180000}, 1)
	tl.add("agent_state_changed", 0, "", "3m10s", store.EventData{State: "wrapup", From: "busy"}, 1)
	tl.add("accepted", 5, g, "3m20.001s", store.EventData{WaitMS: 20001}, 3)
	tl.add("wrapup_ended", 1, g, "3m40s", store.EventData{WrapUpMS: 30000}, 1)
	tl.add("agent_state_changed", 0, "", "3m40s", store.EventData{State: "available", From: "wrapup"}, 1)
	tl.add("enqueued", 7, g, "5m", tier, 0)
	tl.add("abandoned", 7, g, "5m10s", store.EventData{WaitMS: 10000}, 0)
	tl.add("enqueued", 6, g, "14m50s", tier, 0)
	tl.add("accepted", 6, g, "15m5s", store.EventData{WaitMS: 15000}, 2)
	tl.add("enqueued", 8, "priority", "20m", store.EventData{Tier: "gold", Channel: "chat"}, 0)
	tl.add("overflowed", 8, "priority", "20m30s", store.EventData{ToQueue: "general", WaitMS: 30000}, 0)
	tl.add("accepted", 8, g, "20m40s", store.EventData{WaitMS: 40000}, 3)
	m := board.NewMetrics(board.MetricsConfig{})
	m.SetQueue(g, 20*time.Second, 0.8)
	for _, e := range tl.evs {
		m.Apply(e)
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMetricsHandTimeline(t *testing.T) {
	m := hand(t)
	members := map[contact.QueueName][]contact.AgentID{"general": {1}}
	first := m.Window(t0, t0.Add(15*time.Minute), members)
	g := first.Queues["general"]
	if g.Offered != 7 || g.Answered != 3 || g.AnsweredInSL != 2 || g.Abandoned != 3 || g.ShortAbandons != 1 || g.AbandonedAfterSL != 1 {
		t.Fatalf("counts %+v", g)
	}
	// SL = 2 ÷ (3 + 1): the short abandon and the 10 s abandon are left out.
	if !near(g.ServiceLevel, 0.5) {
		t.Errorf("service level %v, want 0.5", g.ServiceLevel)
	}
	if g.ASAMS != 16667 { // (10 + 20 + 20.001) / 3 s
		t.Errorf("ASA %d ms, want 16667", g.ASAMS)
	}
	if g.Handled != 1 || g.AHTMS != 210000 { // 180 s talk + 30 s wrap-up
		t.Errorf("handled %d AHT %d, want 1 and 210000", g.Handled, g.AHTMS)
	}
	if !near(g.AbandonRate, 3.0/7) {
		t.Errorf("abandon rate %v, want 3/7", g.AbandonRate)
	}
	// agent 1 in [10:00, 10:15): busy 180 s + wrap-up 30 s; available 10 s + 680 s.
	if !near(g.Occupancy, 210.0/900) {
		t.Errorf("occupancy %v, want 210/900", g.Occupancy)
	}
	if got := first.Tiers["silver"]; got.Answered != 3 || got.Offered != 7 || !near(got.ServiceLevel, 0.5) {
		t.Errorf("tier silver %+v", got)
	}
	if got := first.Channels["voice"]; got.Offered != 7 {
		t.Errorf("channel voice %+v", got)
	}

	second := m.Window(t0.Add(15*time.Minute), t0.Add(30*time.Minute), members)
	g = second.Queues["general"]
	// C6 arrived in the first interval and is answered in the second; C8
	// overflowed in: offered 1 (overflow), answered 2, both in SL by queue wait.
	if g.Offered != 1 || g.Answered != 2 || g.AnsweredInSL != 2 || !near(g.ServiceLevel, 1) || g.ASAMS != 12500 {
		t.Errorf("second interval %+v", g)
	}
	if p := second.Queues["priority"]; p.Offered != 1 || p.Answered != 0 {
		t.Errorf("priority %+v", p)
	}
	if gold := second.Tiers["gold"]; gold.Answered != 1 || gold.AnsweredInSL != 0 || gold.ASAMS != 40000 {
		t.Errorf("gold tier uses the wait since arrival: %+v", gold)
	}
	// agent 1 available through the second interval: occupancy 0.
	if g.Occupancy != 0 {
		t.Errorf("occupancy %v", g.Occupancy)
	}
}

func TestMetricsIntervalsAndThresholdEdges(t *testing.T) {
	m := hand(t)
	ivs := m.Intervals(t0, t0.Add(30*time.Minute), 15*time.Minute, nil)
	var all []board.Interval
	for _, iv := range ivs {
		if iv.Queue == "" {
			all = append(all, iv)
		}
	}
	if len(all) != 2 || !all[0].Start.Equal(t0) || !all[1].Start.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("intervals %+v", all)
	}
	if all[0].Offered != 7 || all[1].Offered != 2 { // 2nd: C8 into priority and its overflow into general
		t.Errorf("offered per interval %d, %d", all[0].Offered, all[1].Offered)
	}
	if all[0].Answered != 3 || all[1].Answered != 2 {
		t.Errorf("answered total %d", all[0].Answered+all[1].Answered)
	}
	// A window starting mid-interval counts only what happens inside it.
	w := m.Window(at(t, "2m20s"), at(t, "3m20.001s"), nil)
	if w.Total.Answered != 1 || w.Total.AnsweredInSL != 1 {
		t.Errorf("[2m20s, 3m20.001s) %+v", w.Total)
	}
	// With T = 10 s, C4 (20 s) is out of SL and C3 (30 s) and C7 (10 s…) edges move.
	m2 := board.NewMetrics(board.MetricsConfig{})
	m2.SetQueue("general", 10*time.Second, 0.8)
	tl := &timeline{t: t}
	tl.add("enqueued", 1, "general", "0s", store.EventData{}, 0)
	tl.add("accepted", 1, "general", "10s", store.EventData{WaitMS: 10000}, 1)
	tl.add("enqueued", 2, "general", "0s", store.EventData{}, 0)
	tl.add("abandoned", 2, "general", "10s", store.EventData{WaitMS: 10000}, 0)
	tl.add("enqueued", 3, "general", "0s", store.EventData{}, 0)
	tl.add("abandoned", 3, "general", "10.001s", store.EventData{WaitMS: 10001}, 0)
	tl.add("enqueued", 4, "general", "0s", store.EventData{}, 0)
	tl.add("abandoned", 4, "general", "4.999s", store.EventData{WaitMS: 4999}, 0)
	for _, e := range tl.evs {
		m2.Apply(e)
	}
	f := m2.Window(t0, t0.Add(time.Minute), nil).Queues["general"]
	// answered at exactly T is in; abandoned at exactly T is not "after T";
	// 1 ms over is; 4.999 s is short.
	if f.AnsweredInSL != 1 || f.AbandonedAfterSL != 1 || f.ShortAbandons != 1 || !near(f.ServiceLevel, 0.5) {
		t.Errorf("edges %+v", f)
	}
}

func TestScoreWeights(t *testing.T) {
	avg, sup := 4.0, 80.0
	s := board.Score(store.AgentFacts{Closed: 10, FirstTime: 5, Ratings: 4, Positive: 3, CSATAvg: &avg, SupEval: &sup, Evaluations: 1},
		board.StateTime{"available": 3 * time.Hour, "busy": 4 * time.Hour, "away": time.Hour})
	// attendance 7/8 = 87.5; customer (4-1)/4 = 75; supervisor 80;
	// problem solving 0.4×50 + 0.6×75 = 65; total 0.1×87.5 + 0.2×75 + 0.3×80 + 0.4×65 = 73.75
	if *s.Attendance != 87.5 || *s.Customer != 75 || *s.SupervisorSc != 80 || *s.ProblemSolved != 65 || math.Abs(*s.Score-73.8) > 0.051 {
		t.Fatalf("score %+v att %v cust %v sup %v ps %v total %v", s, *s.Attendance, *s.Customer, *s.SupervisorSc, *s.ProblemSolved, *s.Score)
	}
	// Without supervisor evaluation and feedback the rest is re-weighted.
	s = board.Score(store.AgentFacts{Closed: 4, FirstTime: 4}, board.StateTime{"available": time.Hour})
	// attendance 100, problem solving = FCR 100: total 100.
	if s.Customer != nil || s.SupervisorSc != nil || *s.Score != 100 {
		t.Fatalf("partial %+v", s)
	}
}
