package media

import (
	"runtime"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// Scheduler paces every playing stream from a few goroutines instead of a
// timer per call: 1,000 calls on hold cost 50,000 packets a second from
// a handful of wake-ups every 20 ms. Streams are spread over shards whose
// ticks are staggered across the 20 ms period.
type Scheduler struct {
	shards []*shard
	mu     sync.Mutex
	next   int
	stop   chan struct{}
	once   sync.Once
}

type shard struct {
	mu      sync.Mutex
	streams []*Stream
	phase   time.Duration
}

// NewScheduler starts a scheduler with one shard per CPU (at least 2).
func NewScheduler() *Scheduler {
	n := max(2, runtime.GOMAXPROCS(0))
	sc := &Scheduler{stop: make(chan struct{})}
	for i := 0; i < n; i++ {
		sh := &shard{phase: Interval * time.Duration(i) / time.Duration(n)}
		sc.shards = append(sc.shards, sh)
		go sc.run(sh)
	}
	return sc
}

// Stop ends the scheduler's goroutines.
func (sc *Scheduler) Stop() { sc.once.Do(func() { close(sc.stop) }) }

// Play sends a clip to the stream's peer every 20 ms, looping if loop is
// set; done (may be nil) is called once a non-looping clip ends. Play
// replaces what the stream was playing and stops relayed audio to it.
func (sc *Scheduler) Play(s *Stream, a *Audio, loop bool, done func()) {
	s.mu.Lock()
	s.play, s.playPos, s.loop, s.onDone = a, 0, loop, done
	attached := s.sched != nil
	if !attached {
		sc.mu.Lock()
		s.sched, s.schedIdx = sc, sc.next%len(sc.shards)
		sc.next++
		sc.mu.Unlock()
	}
	s.mu.Unlock()
	if !attached {
		sh := sc.shards[s.schedIdx]
		sh.mu.Lock()
		sh.streams = append(sh.streams, s)
		sh.mu.Unlock()
	}
}

// StopPlaying silences the stream (the relay may still send to it).
func (sc *Scheduler) StopPlaying(s *Stream) {
	s.mu.Lock()
	s.play, s.onDone = nil, nil
	s.mu.Unlock()
}

func (sc *Scheduler) remove(s *Stream) {
	sh := sc.shards[s.schedIdx]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i, x := range sh.streams {
		if x == s {
			last := len(sh.streams) - 1
			sh.streams[i], sh.streams[last] = sh.streams[last], nil
			sh.streams = sh.streams[:last]
			return
		}
	}
}

// run sends one packet per playing stream for every 20 ms tick that is
// due, measured from a fixed start, so a late wake-up catches up instead
// of stretching the stream's timeline.
func (sc *Scheduler) run(sh *shard) {
	start := time.Now().Add(sh.phase)
	var n int64
	timer := time.NewTimer(time.Until(start))
	defer timer.Stop()
	var batch []*Stream
	for {
		select {
		case <-sc.stop:
			return
		case <-timer.C:
		}
		now := time.Now()
		due := int64(now.Sub(start)/Interval) + 1
		if due-n > 10 {
			n = due - 10 // far behind (suspended): do not burst more than 200 ms
		}
		for ; n < due; n++ {
			sh.mu.Lock()
			batch = append(batch[:0], sh.streams...)
			sh.mu.Unlock()
			for _, s := range batch {
				s.tick()
			}
		}
		timer.Reset(time.Until(start.Add(time.Duration(n) * Interval)))
	}
}

// tick sends the next 20 ms of the clip being played.
func (s *Stream) tick() {
	s.mu.Lock()
	if s.play == nil || s.closed.Load() || !s.remote.IsValid() {
		s.mu.Unlock()
		return
	}
	data := s.play.Encoded(s.pt)
	if s.playPos+SamplesPerPacket > len(data) {
		if !s.loop {
			done := s.onDone
			s.play, s.onDone = nil, nil
			s.mu.Unlock()
			if done != nil {
				go done()
			}
			return
		}
		s.playPos = 0
	}
	if s.started {
		s.ts += SamplesPerPacket
	}
	s.write(rtp.Header{Version: 2, Marker: !s.started, PayloadType: s.pt, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc},
		data[s.playPos:s.playPos+SamplesPerPacket])
	s.started = true
	s.seq++
	s.playPos += SamplesPerPacket
	s.mu.Unlock()
}
