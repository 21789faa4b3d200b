package routing

import (
	"errors"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

func TestOfferAcceptComplete(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q", WrapUp: 10 * time.Second})
	addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(0))
	o := offered(t, ok(t)(e.Enqueue(item(7, "q", 10), at(1))))
	if o.Agent != 1 || o.Contact != 7 || !o.Deadline.Equal(at(21)) {
		t.Fatalf("offer %+v", o)
	}
	evs := ok(t)(e.Accept(o.Offer, at(3)))
	acc := kinds(evs, EventAccepted)
	if len(acc) != 1 || acc[0].Wait != 2*time.Second {
		t.Fatalf("accept events %+v", evs)
	}
	evs = ok(t)(e.Complete(7, at(63)))
	if c := kinds(evs, EventCompleted); len(c) != 1 || c[0].Talk != time.Minute {
		t.Fatalf("complete %+v", evs)
	}
	if s := e.Snapshot().Agents[0].State; s != StateWrapUp {
		t.Fatalf("state %s, want wrapup", s)
	}
	// the wrap-up timer ends at 73 when the clock passes it.
	evs = e.Tick(at(80))
	w := kinds(evs, EventWrapUpEnded)
	if len(w) != 1 || w[0].WrapUp != 10*time.Second || !w[0].At.Equal(at(73)) {
		t.Fatalf("wrap-up %+v", evs)
	}
	if s := e.Snapshot().Agents[0].State; s != StateAvailable {
		t.Fatalf("state %s", s)
	}
}

func TestErrors(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q", Channels: []contact.Channel{contact.Voice}, MaxLength: 1})
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"unknown queue", second(e.Enqueue(item(1, "nope", 1), at(0))), ErrUnknownQueue},
		{"channel", second(e.Enqueue(Item{Contact: 1, Channel: contact.Chat, Queue: "q"}, at(0))), ErrChannel},
		{"first", second(e.Enqueue(item(1, "q", 1), at(0))), nil},
		{"duplicate", second(e.Enqueue(item(1, "q", 1), at(0))), ErrDuplicate},
		{"full", second(e.Enqueue(item(2, "q", 1), at(0))), ErrQueueFull},
		{"unknown offer", second(e.Accept(99, at(0))), ErrUnknownOffer},
		{"complete waiting", second(e.Complete(1, at(0))), ErrNotAssigned},
		{"unknown agent", second(e.SetAgentState(5, Available, at(0))), ErrUnknownAgent},
		{"agent unknown queue", second(e.SetAgent(Agent{ID: 5, Queues: members("x")}, at(0))), ErrUnknownQueue},
		{"bad skill", second(e.SetAgent(Agent{ID: 5, Skills: map[string]int{"x": 6}}, at(0))), ErrInvalidAgent},
		{"strategy", e.AddQueue(Queue{Name: "z", Strategy: "fastest"}), ErrUnknownStrategy},
		{"queue exists", e.AddQueue(Queue{Name: "q"}), ErrQueueExists},
		{"end wrap-up", second(e.EndWrapUp(5, at(0))), ErrUnknownAgent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.want) || (c.want == nil && c.err != nil) {
				t.Fatalf("err %v, want %v", c.err, c.want)
			}
		})
	}
}

func second(_ []Event, err error) error { return err }

func TestStrategies(t *testing.T) {
	type setup func(t *testing.T, e *Engine)
	// three agents made available at 1, 2, 3 s: longest idle is agent 1.
	three := func(skills ...map[string]int) setup {
		return func(t *testing.T, e *Engine) {
			for i := 1; i <= 3; i++ {
				a := Agent{ID: contact.AgentID(i), Queues: members("q")}
				if len(skills) > 0 {
					a.Skills = skills[i-1]
				}
				addAgent(t, e, a, at(float64(i)))
			}
		}
	}
	cases := []struct {
		name     string
		strategy string
		ext      ExternalFunc
		channel  contact.Channel
		skills   map[string]int
		setup    setup
		want     []contact.AgentID // agents offered the first contact
	}{
		{name: "longest idle", strategy: StrategyLongestIdle, setup: three(), want: []contact.AgentID{1}},
		{name: "default is longest idle", strategy: "", setup: three(), want: []contact.AgentID{1}},
		{name: "best skill", strategy: StrategyBestSkill, skills: map[string]int{"fr": 1},
			setup: three(map[string]int{"fr": 2}, map[string]int{"fr": 5}, map[string]int{"fr": 3}), want: []contact.AgentID{2}},
		{name: "best skill filters unskilled", strategy: StrategyBestSkill, skills: map[string]int{"fr": 3},
			setup: three(map[string]int{"fr": 2}, map[string]int{}, map[string]int{"fr": 3}), want: []contact.AgentID{3}},
		{name: "ring all", strategy: StrategyRingAll, setup: three(), want: []contact.AgentID{1, 2, 3}},
		{name: "external", strategy: StrategyExternal, setup: three(),
			ext: func(c ContactView, cands []AgentView) []contact.AgentID {
				return []contact.AgentID{99, cands[len(cands)-1].ID} // 99 is not a candidate: ignored
			}, want: []contact.AgentID{3}},
		{name: "least occupied", strategy: StrategyLeastOccupied, channel: contact.Chat,
			setup: func(t *testing.T, e *Engine) {
				// agent 1 (longest idle) holds two chats, agent 2 one.
				three()(t, e)
				e.SetAgentState(3, Offline, at(4))
				for i, id := range []contact.ID{101, 102, 103} {
					evs := ok(t)(e.Enqueue(Item{Contact: id, Channel: contact.Chat, Queue: "q"}, at(5+float64(i))))
					ok(t)(e.Accept(offered(t, evs).Offer, at(5+float64(i))))
				}
			}, want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, Config{}, Queue{Name: "q", Strategy: c.strategy, External: c.ext})
			c.setup(t, e)
			ch := c.channel
			if ch == "" {
				ch = contact.Voice
			}
			evs := ok(t)(e.Enqueue(Item{Contact: 1, Channel: ch, Queue: "q", Skills: c.skills}, at(10)))
			var got []contact.AgentID
			for _, o := range kinds(evs, EventOffered) {
				got = append(got, o.Agent)
			}
			if c.want == nil { // least occupied: the agent with fewer chats
				snap := e.Snapshot()
				load := map[contact.AgentID]int{}
				for _, a := range snap.Agents {
					load[a.ID] = len(a.Assigned)
				}
				if len(got) != 1 || load[got[0]] != 1 || load[1]+load[2] != 3 {
					t.Fatalf("least occupied offered %v, loads %v", got, load)
				}
				return
			}
			if len(got) != len(c.want) {
				t.Fatalf("offered %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("offered %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestRoundRobinRotates(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q", Strategy: StrategyRoundRobin})
	for i := 1; i <= 3; i++ {
		addAgent(t, e, Agent{ID: contact.AgentID(i), Queues: members("q")}, at(0))
	}
	var got []contact.AgentID
	for i := 1; i <= 5; i++ {
		now := at(float64(10 * i))
		o := offered(t, ok(t)(e.Enqueue(item(contact.ID(i), "q", 0), now)))
		got = append(got, o.Agent)
		ok(t)(e.Accept(o.Offer, now))
		ok(t)(e.Complete(contact.ID(i), now.Add(time.Second)))
	}
	want := []contact.AgentID{1, 2, 3, 1, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("round robin %v, want %v", got, want)
		}
	}
}

func TestRingAllFirstAcceptWins(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q", Strategy: StrategyRingAll})
	for i := 1; i <= 3; i++ {
		addAgent(t, e, Agent{ID: contact.AgentID(i), Queues: members("q")}, at(0))
	}
	evs := ok(t)(e.Enqueue(item(1, "q", 0), at(1)))
	os := kinds(evs, EventOffered)
	if len(os) != 3 {
		t.Fatalf("offers %v", os)
	}
	// agent 3 declines: the others still ring, nothing new is offered
	noOffer(t, ok(t)(e.Decline(os[2].Offer, at(2))))
	evs = ok(t)(e.Accept(os[1].Offer, at(3)))
	w := kinds(evs, EventWithdrawn)
	if len(w) != 1 || w[0].Agent != 1 || w[0].Reason != ReasonAnswered {
		t.Fatalf("withdrawn %+v", evs)
	}
	if _, err := e.Accept(os[0].Offer, at(4)); !errors.Is(err, ErrUnknownOffer) {
		t.Fatalf("late accept: %v", err)
	}
}

func TestDeclineAndTimeoutKeepPlace(t *testing.T) {
	e := newEngine(t, Config{AutoAwayAfter: -1}, Queue{Name: "q", OfferTimeout: 10 * time.Second})
	for i := 1; i <= 3; i++ {
		ok(t)(e.Enqueue(item(contact.ID(i), "q", 0), at(float64(i))))
	}
	o := offered(t, addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(5)))
	if o.Contact != 1 {
		t.Fatalf("first offer to contact %d", o.Contact)
	}
	// declined: contact 1 is still first, offered again to the same agent
	o2 := offered(t, ok(t)(e.Decline(o.Offer, at(6))))
	if o2.Contact != 1 {
		t.Fatalf("after decline offered %d", o2.Contact)
	}
	// timed out at 16: still first
	evs := e.Tick(at(16))
	if to := kinds(evs, EventTimedOut); len(to) != 1 || to[0].Contact != 1 {
		t.Fatalf("timeout %+v", evs)
	}
	if o3 := offered(t, evs); o3.Contact != 1 {
		t.Fatalf("after timeout offered %d", o3.Contact)
	}
}

func TestAutoAway(t *testing.T) {
	e := newEngine(t, Config{AutoAwayAfter: 2}, Queue{Name: "q", OfferTimeout: 5 * time.Second})
	addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(0))
	addAgent(t, e, Agent{ID: 2, Queues: members("q")}, at(1))
	ok(t)(e.Enqueue(item(1, "q", 0), at(2))) // to 1 (longest idle)
	// 1 misses at 7 → offer goes to 2 (1 still free but 2 ... both free; 2 longer idle now? 1 idle since 0)
	evs := e.Tick(at(100))
	var away bool
	for _, ev := range kinds(evs, EventAgentStateChanged) {
		if ev.State == StateAway && ev.Reason == ReasonMissedOffers {
			away = true
		}
	}
	if !away {
		t.Fatalf("no auto-away: %+v", evs)
	}
	snap := e.Snapshot()
	for _, a := range snap.Agents {
		if a.Presence.State != StateAway {
			t.Fatalf("agent %d presence %v", a.ID, a.Presence)
		}
	}
	if len(snap.Contacts) != 1 || snap.Contacts[0].State != "waiting" {
		t.Fatalf("contact %+v", snap.Contacts)
	}
	// back to available: offered again
	offered(t, ok(t)(e.SetAgentState(1, Available, at(101))))
}

func TestAgeing(t *testing.T) {
	cases := []struct {
		name string
		rate float64
		want contact.ID
	}{
		{"no ageing: priority wins", 0, 2},
		{"1 point/s: 100 s of waiting beat 40 points", 1, 1},
		{"0.3 point/s: 30 points do not", 0.3, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, Config{}, Queue{Name: "q", AgeingRate: c.rate})
			ok(t)(e.Enqueue(item(1, "q", 10), at(0)))
			ok(t)(e.Enqueue(item(2, "q", 50), at(100)))
			o := offered(t, addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(100)))
			if o.Contact != c.want {
				t.Fatalf("offered %d, want %d", o.Contact, c.want)
			}
		})
	}
	t.Run("FIFO within equal priority", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "q", AgeingRate: 0.5})
		for i := 1; i <= 5; i++ {
			ok(t)(e.Enqueue(item(contact.ID(i), "q", 10), at(0))) // same instant: arrival order
		}
		addAgent(t, e, Agent{ID: 1, Queues: members("q"), Capacity: map[contact.Channel]int{contact.Voice: 1}}, at(1))
		for i := 1; i <= 5; i++ {
			o := e.Snapshot().Offers[0]
			if o.Contact != contact.ID(i) {
				t.Fatalf("turn %d got contact %d", i, o.Contact)
			}
			ok(t)(e.Accept(o.ID, at(2)))
			ok(t)(e.Complete(o.Contact, at(2)))
		}
	})
	t.Run("across queues the rates are compared at now", func(t *testing.T) {
		// a: rate 2/s, prio 0, since 0; b: rate 0, prio 50. At 20 s a=40<50; at 30 s a=60>50.
		for _, c := range []struct {
			now  float64
			want contact.ID
		}{{20, 2}, {30, 1}} {
			e := newEngine(t, Config{}, Queue{Name: "a", AgeingRate: 2}, Queue{Name: "b"})
			ok(t)(e.Enqueue(item(1, "a", 0), at(0)))
			ok(t)(e.Enqueue(item(2, "b", 50), at(0)))
			o := offered(t, addAgent(t, e, Agent{ID: 1, Queues: members("a", "b")}, at(c.now)))
			if o.Contact != c.want {
				t.Fatalf("at %v offered %d want %d", c.now, o.Contact, c.want)
			}
		}
	})
}

func TestQueueWeight(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "vip", Weight: 2}, Queue{Name: "gen", Weight: 1})
	ok(t)(e.Enqueue(item(1, "gen", 100), at(0))) // older, higher priority
	ok(t)(e.Enqueue(item(2, "vip", 1), at(50)))  // heavier queue
	ok(t)(e.Enqueue(item(3, "vip", 5), at(60)))  // heavier queue, higher priority
	o := offered(t, addAgent(t, e, Agent{ID: 1, Queues: members("gen", "vip")}, at(70)))
	if o.Contact != 3 {
		t.Fatalf("offered %d, want 3 (heavier queue, then priority)", o.Contact)
	}
}

func TestLevels(t *testing.T) {
	t.Run("widening after LevelWait", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "q", LevelWait: 10 * time.Second})
		ok(t)(e.SetAgent(Agent{ID: 1, Queues: []Membership{{Queue: "q", Level: 1}}}, at(0)))
		addAgent(t, e, Agent{ID: 2, Queues: []Membership{{Queue: "q", Level: 2}}}, at(0))
		addAgent(t, e, Agent{ID: 3, Queues: []Membership{{Queue: "q", Level: 3}}}, at(0))
		noOffer(t, ok(t)(e.Enqueue(item(1, "q", 0), at(1))))
		noOffer(t, e.Tick(at(10.9)))
		evs := e.Tick(at(30))
		o := offered(t, evs)
		if o.Agent != 2 || !o.At.Equal(at(11)) {
			t.Fatalf("offer %+v, want agent 2 at 11 s", o)
		}
	})
	t.Run("lowest level first when all are open", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "q"})
		addAgent(t, e, Agent{ID: 1, Queues: []Membership{{Queue: "q", Level: 2}}}, at(0))
		addAgent(t, e, Agent{ID: 2, Queues: []Membership{{Queue: "q", Level: 1}}}, at(5))
		if o := offered(t, ok(t)(e.Enqueue(item(1, "q", 0), at(6)))); o.Agent != 2 {
			t.Fatalf("offered to %d, want level-1 agent 2", o.Agent)
		}
		if o := offered(t, ok(t)(e.Enqueue(item(2, "q", 0), at(7)))); o.Agent != 1 {
			t.Fatalf("offered to %d, want level-2 agent 1 when level 1 is busy", o.Agent)
		}
	})
}

func TestOverflow(t *testing.T) {
	t.Run("max wait", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "a", MaxWait: 30 * time.Second, Overflow: "b"}, Queue{Name: "b"})
		addAgent(t, e, Agent{ID: 1, Queues: members("b")}, at(0))
		noOffer(t, ok(t)(e.Enqueue(item(1, "a", 0), at(0))))
		evs := e.Tick(at(31))
		ov := kinds(evs, EventOverflowed)
		if len(ov) != 1 || ov[0].ToQueue != "b" || ov[0].Reason != ReasonMaxWait || !ov[0].At.Equal(at(30)) {
			t.Fatalf("overflow %+v", evs)
		}
		if o := offered(t, evs); o.Queue != "b" {
			t.Fatalf("offer %+v", o)
		}
	})
	t.Run("no agents logged in", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "a", EmptyOverflow: "b"}, Queue{Name: "b"})
		ok(t)(e.SetAgent(Agent{ID: 1, Queues: members("a")}, at(0)))
		evs := ok(t)(e.Enqueue(item(1, "a", 0), at(1)))
		if ov := kinds(evs, EventOverflowed); len(ov) != 1 || ov[0].Reason != ReasonNoAgents {
			t.Fatalf("%+v", evs)
		}
		// with an agent away (logged in) contacts stay; when it logs out they move.
		ok(t)(e.SetAgentState(1, Away("lunch"), at(2)))
		ok(t)(e.Enqueue(item(2, "a", 0), at(3)))
		if n := e.Snapshot().Queues[0].Waiting; n != 1 {
			t.Fatalf("a has %d waiting", n)
		}
		evs = ok(t)(e.SetAgentState(1, Offline, at(4)))
		if ov := kinds(evs, EventOverflowed); len(ov) != 1 || ov[0].Contact != 2 || ov[0].ToQueue != "b" {
			t.Fatalf("%+v", evs)
		}
	})
	t.Run("max length", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "a", MaxLength: 2, Overflow: "b"}, Queue{Name: "b"})
		ok(t)(e.Enqueue(item(1, "a", 0), at(0)))
		ok(t)(e.Enqueue(item(2, "a", 0), at(0)))
		evs := ok(t)(e.Enqueue(item(3, "a", 0), at(0)))
		if ov := kinds(evs, EventOverflowed); len(ov) != 1 || ov[0].Reason != ReasonMaxLength {
			t.Fatalf("%+v", evs)
		}
	})
	t.Run("overflow keeps the original place", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "a", MaxWait: 10 * time.Second, Overflow: "b"}, Queue{Name: "b"})
		ok(t)(e.Enqueue(item(1, "a", 0), at(0)))
		ok(t)(e.Enqueue(item(2, "b", 0), at(5)))
		e.Tick(at(11))
		o := offered(t, addAgent(t, e, Agent{ID: 1, Queues: members("b")}, at(12)))
		if o.Contact != 1 {
			t.Fatalf("offered %d, want the older overflowed contact 1", o.Contact)
		}
	})
}

func TestCallback(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q"})
	ok(t)(e.Enqueue(item(1, "q", 0), at(0)))
	ok(t)(e.Enqueue(item(2, "q", 0), at(1)))
	evs := ok(t)(e.RequestCallback(1, at(2)))
	if len(kinds(evs, EventCallbackRequested)) != 1 {
		t.Fatalf("%+v", evs)
	}
	o := offered(t, addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(3)))
	if o.Contact != 1 || !o.Callback {
		t.Fatalf("offer %+v: want contact 1 as a callback, in its place", o)
	}
}

func TestAbandonedResume(t *testing.T) {
	cases := []struct {
		name  string
		back  float64 // seconds after abandoning
		key   string
		first contact.ID
	}{
		{"within window rejoins ahead", 60, "+4930123", 3},
		{"after window goes to the back", 301, "+4930123", 2},
		{"other caller goes to the back", 60, "+4930999", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, Config{}, Queue{Name: "q", ResumeWindow: 5 * time.Minute})
			it := item(1, "q", 0)
			it.CallerKey = "+4930123"
			ok(t)(e.Enqueue(it, at(0)))
			ok(t)(e.Enqueue(item(2, "q", 0), at(10)))
			evs := ok(t)(e.Abandon(1, at(20)))
			if ab := kinds(evs, EventAbandoned); len(ab) != 1 || ab[0].Wait != 20*time.Second {
				t.Fatalf("%+v", evs)
			}
			it = item(3, "q", 0)
			it.CallerKey = c.key
			evs = ok(t)(e.Enqueue(it, at(20+c.back)))
			if c.first == 3 && !kinds(evs, EventEnqueued)[0].Resumed {
				t.Fatalf("not resumed %+v", evs)
			}
			o := offered(t, addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(1000)))
			if o.Contact != c.first {
				t.Fatalf("offered %d, want %d", o.Contact, c.first)
			}
		})
	}
}

func TestTransfer(t *testing.T) {
	t.Run("waiting to queue", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "a"}, Queue{Name: "b"})
		addAgent(t, e, Agent{ID: 1, Queues: members("b")}, at(0))
		ok(t)(e.Enqueue(item(1, "a", 0), at(1)))
		evs := ok(t)(e.Transfer(1, "b", at(2)))
		if tr := kinds(evs, EventTransferred); len(tr) != 1 || tr[0].ToQueue != "b" {
			t.Fatalf("%+v", evs)
		}
		if o := offered(t, evs); o.Agent != 1 {
			t.Fatalf("%+v", o)
		}
	})
	t.Run("assigned to agent", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "a", WrapUp: 5 * time.Second})
		addAgent(t, e, Agent{ID: 1, Queues: members("a")}, at(0))
		ok(t)(e.SetAgent(Agent{ID: 2}, at(0))) // no queues: only direct routing reaches it
		o := offered(t, ok(t)(e.Enqueue(item(1, "a", 0), at(1))))
		ok(t)(e.Accept(o.Offer, at(2)))
		ok(t)(e.Enqueue(item(2, "a", 99), at(3))) // waits: agent 1 busy
		evs := ok(t)(e.TransferToAgent(1, 2, at(10)))
		tr := kinds(evs, EventTransferred)
		if len(tr) != 1 || tr[0].Agent != 1 || tr[0].ToAgent != 2 || tr[0].Talk != 8*time.Second {
			t.Fatalf("%+v", evs)
		}
		noOffer(t, evs) // agent 1 in wrap-up, agent 2 offline
		o2 := offered(t, ok(t)(e.SetAgentState(2, Available, at(11))))
		if o2.Contact != 1 || o2.Agent != 2 {
			t.Fatalf("%+v", o2)
		}
	})
	t.Run("direct beats queues", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "a"})
		ok(t)(e.SetAgent(Agent{ID: 1, Queues: members("a")}, at(0)))
		ok(t)(e.Enqueue(item(1, "a", 100), at(0)))
		it := item(2, "a", 0)
		it.Agent = 1
		ok(t)(e.Enqueue(it, at(5)))
		if o := offered(t, ok(t)(e.SetAgentState(1, Available, at(6)))); o.Contact != 2 {
			t.Fatalf("%+v", o)
		}
	})
}

func TestCapacityAndVoiceBlocking(t *testing.T) {
	cases := []struct {
		name      string
		textVoice bool
		wantChat  bool
	}{
		{"voice blocks chat", false, false},
		{"configured to allow", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, Config{}, Queue{Name: "q"})
			addAgent(t, e, Agent{ID: 1, Queues: members("q"), TextDuringVoice: c.textVoice}, at(0))
			o := offered(t, ok(t)(e.Enqueue(item(1, "q", 0), at(1))))
			ok(t)(e.Accept(o.Offer, at(1)))
			noOffer(t, ok(t)(e.Enqueue(item(2, "q", 0), at(2)))) // second call: capacity 1
			evs := ok(t)(e.Enqueue(Item{Contact: 3, Channel: contact.Chat, Queue: "q"}, at(3)))
			if got := len(kinds(evs, EventOffered)) == 1; got != c.wantChat {
				t.Fatalf("chat offered %v, want %v", got, c.wantChat)
			}
		})
	}
	t.Run("three chats", func(t *testing.T) {
		e := newEngine(t, Config{}, Queue{Name: "q"})
		addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(0))
		for i := 1; i <= 4; i++ {
			evs := ok(t)(e.Enqueue(Item{Contact: contact.ID(i), Channel: contact.Chat, Queue: "q"}, at(float64(i))))
			if i <= 3 {
				ok(t)(e.Accept(offered(t, evs).Offer, at(float64(i))))
			} else {
				noOffer(t, evs)
			}
		}
		// finishing one chat frees a slot: the fourth is offered
		offered(t, ok(t)(e.Complete(2, at(10))))
	})
}

func TestAwayWithdrawsOffer(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q"})
	addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(0))
	offered(t, ok(t)(e.Enqueue(item(1, "q", 0), at(1))))
	evs := ok(t)(e.SetAgentState(1, Away("break"), at(2)))
	if w := kinds(evs, EventWithdrawn); len(w) != 1 || w[0].Reason != ReasonAgentAway {
		t.Fatalf("%+v", evs)
	}
	st := kinds(evs, EventAgentStateChanged)
	if len(st) != 1 || st[0].State != StateAway || st[0].Reason != "break" {
		t.Fatalf("%+v", st)
	}
}

func TestSinkAndNextDeadline(t *testing.T) {
	var got []Event
	e := newEngine(t, Config{Sink: func(ev Event) { got = append(got, ev) }}, Queue{Name: "q", OfferTimeout: 7 * time.Second})
	addAgent(t, e, Agent{ID: 1, Queues: members("q")}, at(0))
	evs := ok(t)(e.Enqueue(item(1, "q", 0), at(1)))
	if d, ok := e.NextDeadline(); !ok || !d.Equal(at(8)) {
		t.Fatalf("next deadline %v %v", d, ok)
	}
	if len(got) < len(evs) || got[len(got)-1].Kind != evs[len(evs)-1].Kind {
		t.Fatalf("sink %d events, returned %d", len(got), len(evs))
	}
}

func TestClockDoesNotGoBack(t *testing.T) {
	e := newEngine(t, Config{}, Queue{Name: "q"})
	ok(t)(e.Enqueue(item(1, "q", 0), at(10)))
	evs := ok(t)(e.Enqueue(item(2, "q", 0), at(5)))
	if !evs[0].At.Equal(at(10)) {
		t.Fatalf("event at %v", evs[0].At)
	}
}
