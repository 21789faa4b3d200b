package board_test

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/board"
	"github.com/contacthub/contacthub/internal/store"
)

// synthDay generates about n events of a busy day from day: contacts
// answered, abandoned (short, at and past the threshold), overflowed,
// transferred by agents, restored, and agent state changes, in time
// order with increasing ids.
func synthDay(n int, day time.Time, seed uint64) []store.EventRow {
	r := rand.New(rand.NewPCG(seed, 1))
	queues := []contact.QueueName{"general", "billing", "priority"}
	tiers := []string{"platinum", "gold", "silver", "bronze", "standard"}
	chans := []string{"voice", "chat", "email"}
	const agents = 25
	var evs []store.EventRow
	add := func(kind string, c contact.ID, a contact.AgentID, q contact.QueueName, at time.Time, d store.EventData) {
		evs = append(evs, store.EventRow{ContactID: c, AgentID: a, Kind: kind, Queue: q, At: at, Data: d})
	}
	sec := func(lo, hi int) time.Duration {
		// whole seconds often (threshold edges), milliseconds otherwise
		if r.IntN(3) == 0 {
			return time.Duration(lo+r.IntN(hi-lo+1)) * time.Second
		}
		return time.Duration(lo*1000+r.IntN((hi-lo)*1000+1)) * time.Millisecond
	}
	at := day.Add(7 * time.Hour)
	var c contact.ID
	for len(evs) < n {
		at = at.Add(time.Duration(r.IntN(1200)) * time.Millisecond)
		c++
		q := queues[r.IntN(len(queues))]
		tier, ch := tiers[r.IntN(len(tiers))], chans[r.IntN(len(chans))]
		agent := contact.AgentID(1 + r.IntN(agents))
		t := at
		if r.IntN(40) == 0 { // restored after a restart, waiting since earlier
			w := sec(1, 30)
			add("enqueued", c, 0, q, t, store.EventData{Tier: tier, Channel: ch, Reason: "restored", WaitMS: w.Milliseconds()})
		} else {
			add("enqueued", c, 0, q, t, store.EventData{Tier: tier, Channel: ch})
		}
		waited := time.Duration(0)
		if q == "priority" && r.IntN(3) == 0 {
			w := sec(1, 40)
			t, waited, q = t.Add(w), waited+w, "general"
			add("overflowed", c, 0, "priority", t, store.EventData{ToQueue: "general", WaitMS: waited.Milliseconds()})
		}
		switch k := r.IntN(10); {
		case k < 3:
			w := sec(0, 45)
			if r.IntN(4) == 0 {
				w = sec(0, 6)
			}
			w = max(w, time.Millisecond)
			add("abandoned", c, 0, q, t.Add(w), store.EventData{WaitMS: (waited + w).Milliseconds()})
			continue
		case k < 4 && r.IntN(10) == 0: // still in flight at the end of the day
			continue
		}
		w := max(sec(0, 40), time.Millisecond)
		t, waited = t.Add(w), waited+w
		add("accepted", c, agent, q, t, store.EventData{WaitMS: waited.Milliseconds()})
		if r.IntN(8) == 0 { // handed on by the agent to another queue
			talk := sec(10, 200)
			t = t.Add(talk)
			to := queues[r.IntN(2)]
			add("transferred", c, agent, q, t, store.EventData{ToQueue: string(to), TalkMS: talk.Milliseconds()})
			q = to
			w := max(sec(0, 30), time.Millisecond)
			t, waited = t.Add(w), waited+w
			agent = contact.AgentID(1 + r.IntN(agents))
			add("accepted", c, agent, q, t, store.EventData{WaitMS: waited.Milliseconds()})
		}
		talk := sec(10, 600)
		t = t.Add(talk)
		add("completed", c, agent, q, t, store.EventData{TalkMS: talk.Milliseconds()})
		wrap := sec(0, 60)
		t = t.Add(wrap)
		add("wrapup_ended", c, agent, q, t, store.EventData{WrapUpMS: wrap.Milliseconds()})
		add("closed", c, agent, q, t, store.EventData{})
		if r.IntN(3) == 0 { // agent state changes
			st := []string{"available", "reserved", "busy", "wrapup", "away", "offline"}[r.IntN(6)]
			add("agent_state_changed", 0, agent, "", at.Add(sec(0, 5)), store.EventData{State: st})
		}
	}
	// one agent's state change before the day (the store gives it)
	add("agent_state_changed", 0, 1, "", day.Add(-time.Hour), store.EventData{State: "available"})
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	for i := range evs {
		evs[i].ID = int64(i + 1)
	}
	return evs
}

func TestTodayIncrementalEqualsBatch(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const keep = 15 * time.Minute
	evs := synthDay(200_000, day, 7)
	members := map[contact.QueueName][]contact.AgentID{"general": {1, 2, 3, 4, 5, 6, 7, 8}, "billing": {9, 10, 11, 12}, "empty": {30}}
	cfg := board.MetricsConfig{}
	live := board.NewToday(cfg, day, keep)
	batch := board.NewMetrics(cfg)
	for _, m := range []interface {
		SetQueue(contact.QueueName, time.Duration, float64)
	}{live, batch} {
		m.SetQueue("general", 20*time.Second, 0.8)
		m.SetQueue("billing", 30*time.Second, 0.9)
	}
	end := evs[len(evs)-1].At.Add(time.Minute).Truncate(time.Second)
	checks := 0
	maxFacts, maxSegs := 0, 0
	i, lo := 0, 0
	for now := evs[0].At.Truncate(time.Second); !now.After(end); now = now.Add(time.Second) {
		for ; i < len(evs) && !evs[i].At.After(now); i++ {
			live.Apply(evs[i])
			batch.Apply(evs[i])
		}
		live.Advance(now)
		f, s := live.Retained()
		maxFacts, maxSegs = max(maxFacts, f), max(maxSegs, s)
		// the facts kept are those of the rolling window
		for lo < i && evs[lo].At.Before(now.Add(-keep-time.Second)) {
			lo++
		}
		if f > 2*(i-lo)+2 {
			t.Fatalf("%s: %d facts kept for %d events in the window", now, f, i-lo)
		}
		if !(now.Second() == 0 && now.Minute()%37 == 0) && !now.Equal(end) {
			continue
		}
		checks++
		to := now.Add(time.Millisecond)
		if got, want := live.Today(now, members), batch.Window(day, to, members); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s today:\n got %+v\nwant %+v", now, got, want)
		}
		if got, want := live.Window(now.Add(-keep), to, members), batch.Window(now.Add(-keep), to, members); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s recent:\n got %+v\nwant %+v", now, got, want)
		}
		var want []board.Interval
		for _, iv := range batch.Intervals(day, to, 15*time.Minute, nil) {
			if iv.Queue == "" {
				want = append(want, iv)
			}
		}
		if got := live.Intervals(now); !reflect.DeepEqual(got, want) {
			for k := range got {
				if k < len(want) && !reflect.DeepEqual(got[k], want[k]) {
					t.Fatalf("%s interval %d:\n got %+v\nwant %+v", now, k, got[k], want[k])
				}
			}
			t.Fatalf("%s intervals: %d, want %d", now, len(got), len(want))
		}
		for a := contact.AgentID(1); a <= 26; a++ {
			if got, want := live.AgentTime(a, now), batch.AgentTime(a, day, now); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s agent %d: got %v want %v", now, a, got, want)
			}
		}
	}
	tot := live.Today(end, members).Total
	if checks < 10 || tot.Offered < 40_000 || tot.Answered == 0 || tot.ShortAbandons == 0 || tot.AbandonedAfterSL == 0 || tot.Handled == 0 {
		t.Fatalf("weak test: %d checks, today %+v", checks, tot)
	}
	t.Logf("%d events, %d checks; kept at most %d facts and %d agent segments; today %+v", len(evs), checks, maxFacts, maxSegs, tot)
}

// TestTodayMemory compares the heap held for a day of contacts by the old
// way (Metrics holding every fact) and by Today.
func TestTodayMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	evs := synthDay(200_000, day, 11)
	contacts := 0
	for _, e := range evs {
		if e.Kind == "enqueued" {
			contacts++
		}
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := heap()
	batch := board.NewMetrics(board.MetricsConfig{})
	for _, e := range evs {
		batch.Apply(e)
	}
	batchBytes := int64(heap()) - int64(base)
	runtime.KeepAlive(batch)
	batch = nil

	base = heap()
	live := board.NewToday(board.MetricsConfig{}, day, 15*time.Minute)
	for k, e := range evs {
		live.Apply(e)
		if k%100 == 0 {
			live.Advance(e.At)
		}
	}
	live.Advance(evs[len(evs)-1].At)
	liveBytes := int64(heap()) - int64(base)
	runtime.KeepAlive(live)
	runtime.KeepAlive(evs)
	f, s := live.Retained()
	t.Logf("%d contacts (%d events): all facts held %d B (%.0f B/contact); Today %d B (%.0f B/contact), %d facts and %d segments kept",
		contacts, len(evs), batchBytes, float64(batchBytes)/float64(contacts), liveBytes, float64(liveBytes)/float64(contacts), f, s)
	if liveBytes*5 > batchBytes {
		t.Errorf("Today holds %d B, the batch metrics %d B: want far less", liveBytes, batchBytes)
	}
}
