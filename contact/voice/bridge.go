package voice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/voice/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// agentDTMFPT is the telephone-event payload type we offer agents' phones.
const agentDTMFPT = 101

// Deliver is contact.Conversation: there are no text messages on a call.
func (s *Server) Deliver(context.Context, contact.Contact, contact.Message) error { return nil }

// Connect is contact.Conversation: an agent accepted the call. Every phone
// the agent has registered rings; the first to answer is bridged to the
// caller and the others are cancelled. It returns once the ringing has
// started; if no phone answers, OnAgentLegFailed is called and the caller
// stays on hold.
func (s *Server) Connect(ctx context.Context, c contact.Contact, agent contact.AgentID, agentName string) error {
	s.mu.Lock()
	cl := s.byContact[c.ID]
	s.mu.Unlock()
	if cl == nil {
		return fmt.Errorf("voice: connect contact %d: the caller is gone", c.ID)
	}
	phones := s.reg.contacts(agent)
	if len(phones) == 0 {
		go s.legFailed(cl, c, agent, "not_registered")
		return fmt.Errorf("voice: connect contact %d to agent %d: %w", c.ID, agent, errNoPhone)
	}
	cl.mu.Lock()
	if cl.ended || cl.leg != nil || cl.ringStop != nil {
		cl.mu.Unlock()
		return fmt.Errorf("voice: connect contact %d: call is %s", c.ID, cl.state)
	}
	rctx, stop := context.WithTimeout(context.Background(), s.cfg.RingTimeout)
	cl.ringStop = stop
	cl.state, cl.since = StateRinging, time.Now()
	cl.mu.Unlock()
	go cl.ring(rctx, stop, c, agent, agentName, phones)
	return nil
}

type ringResult struct {
	dlg *sipgo.DialogClientSession
	err error
}

// ring calls every binding of the agent at once (ring all) and bridges the
// first that answers.
//
// Media are relayed through us (caller ⇄ our socket A, our socket B ⇄
// agent) instead of re-INVITEing the two ends to talk directly: the caller
// already sends to A, so no re-INVITE (which many trunks and softphones
// handle badly) is needed; it works on loopback, behind NAT with symmetric
// RTP and across address families; and we keep seeing the caller's RTP for
// DTMF, the no-RTP timeout and the post-call survey. The cost is one
// packet copy per direction per 20 ms.
func (c *call) ring(ctx context.Context, stop context.CancelFunc, con contact.Contact, agent contact.AgentID, agentName string, phones []binding) {
	s := c.s
	callerNum := con.From.Value
	log := s.log.With("call_id", c.callID, "contact_id", c.contactID(), "agent_id", agent)
	defer stop()
	st, err := media.Listen(s.rtpIP, s.cfg.RTPPortMin, s.cfg.RTPPortMax)
	if err != nil {
		log.Error("agent rtp socket", "err", err)
		c.ringFailed(con, agent, "failed", nil)
		return
	}
	st.SetRemote(netipInvalid, c.offer.PT, agentDTMFPT)
	go st.Serve()
	body := buildSDP(s.host, st.Port(), []uint8{c.offer.PT}, agentDTMFPT)
	results := make(chan ringResult, len(phones))
	for _, b := range phones {
		go func() {
			req := sip.NewRequest(sip.INVITE, *b.uri.Clone())
			if b.transport != "" {
				req.SetTransport(b.transport)
			}
			req.SetBody(body)
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			from := &sip.FromHeader{DisplayName: callerNum, Address: sip.Uri{Scheme: "sip", User: callerNum, Host: s.host.String()}}
			from.Params = sip.NewParams()
			from.Params.Add("tag", sip.GenerateTagN(16))
			req.AppendHeader(from)
			req.AppendHeader(&sip.ToHeader{DisplayName: agentName, Address: *b.uri.Clone()})
			req.AppendHeader(sip.NewHeader("X-ContactHub-Contact", strconv.FormatInt(int64(c.contactID()), 10)))
			dlg, err := s.dua.WriteInvite(ctx, req)
			if err == nil {
				err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
			}
			results <- ringResult{dlg, err}
		}()
	}
	var won *sipgo.DialogClientSession
	reason := ""
	for range phones {
		r := <-results
		if r.err != nil {
			reason = worse(reason, failReason(r.err))
			continue
		}
		if won != nil { // a second phone answered in the same instant
			_ = r.dlg.Ack(context.Background())
			go byeLeg(r.dlg)
			continue
		}
		won = r.dlg
		stop() // CANCEL the other phones
	}
	if won == nil {
		st.Close()
		if ctx.Err() != nil && reason == "" {
			reason = "no_answer"
		}
		c.ringFailed(con, agent, reason, log)
		return
	}
	if err := won.Ack(context.Background()); err != nil {
		log.Warn("ack agent", "err", err)
	}
	ans, err := parseSDP(won.InviteResponse.Body())
	if err != nil {
		log.Warn("agent phone answered without usable sdp", "err", err)
		go byeLeg(won)
		st.Close()
		c.ringFailed(con, agent, "failed", log)
		return
	}
	st.SetRemote(ans.Addr, c.offer.PT, ans.DTMFPT)
	leg := &agentLeg{agent: agent, callID: callID(won.InviteRequest), dlg: won, stream: st, c: c}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		go byeLeg(won)
		st.Close()
		return
	}
	c.leg, c.ringStop = leg, nil
	c.state, c.since = StateTalking, time.Now()
	c.mu.Unlock()
	s.mu.Lock()
	s.legs[leg.callID] = leg
	s.mu.Unlock()
	s.sched.StopPlaying(c.stream)
	media.Bridge(c.stream, st)
	log.Info("agent answered; call bridged")
}

func (c *call) ringFailed(con contact.Contact, agent contact.AgentID, reason string, log interface{ Info(string, ...any) }) {
	c.mu.Lock()
	c.ringStop = nil
	if !c.ended {
		c.state, c.since = StateHeld, time.Now()
	}
	ended := c.ended
	c.mu.Unlock()
	if ended {
		return
	}
	if log != nil {
		log.Info("agent phone did not answer", "reason", reason)
	}
	c.s.legFailed(c, con, agent, reason)
}

func (s *Server) legFailed(c *call, con contact.Contact, agent contact.AgentID, reason string) {
	if s.OnAgentLegFailed == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.OnAgentLegFailed(ctx, con, agent, reason)
}

func failReason(err error) string {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) && de.Res != nil {
		switch de.Res.StatusCode {
		case sip.StatusBusyHere, 600:
			return "busy"
		case 603, sip.StatusForbidden:
			return "declined"
		case sip.StatusRequestTerminated, sip.StatusTemporarilyUnavailable, sip.StatusRequestTimeout:
			return "no_answer"
		}
		return "failed"
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "no_answer"
	}
	return "failed"
}

// worse keeps the most telling failure of several phones.
func worse(a, b string) string {
	rank := map[string]int{"": 0, "failed": 1, "no_answer": 2, "busy": 3, "declined": 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func byeLeg(d *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.Bye(ctx)
}

func (l *agentLeg) bye() { byeLeg(l.dlg) }

func (s *Server) dropLeg(l *agentLeg) {
	media.Unbridge(l.stream)
	l.stream.Close()
	s.mu.Lock()
	if s.legs[l.callID] == l {
		delete(s.legs, l.callID)
	}
	s.mu.Unlock()
	_ = l.dlg.Close()
}

// agentLeft: the agent's phone hung up. The contact goes to wrap-up
// (CustomerEnded on an answered contact), then the caller gets the survey
// or a BYE.
func (c *call) agentLeft(l *agentLeg) {
	c.mu.Lock()
	if c.leg != l {
		c.mu.Unlock()
		return
	}
	c.leg = nil
	id, report := c.id, !c.reported
	c.reported = true
	c.mu.Unlock()
	c.s.dropLeg(l)
	if report {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.s.desk.CustomerEnded(ctx, id); err != nil {
			c.s.log.Warn("report agent hangup", "contact_id", id, "err", err)
		}
		cancel()
	}
	if c.s.cfg.Survey {
		c.survey()
		return
	}
	c.end(endAgentBye)
}

// Hangup is contact.Conversation: the agent ended the call from the console.
// Both legs are hung up (the caller after the survey, if enabled).
func (s *Server) Hangup(ctx context.Context, con contact.Contact) error {
	s.mu.Lock()
	c := s.byContact[con.ID]
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	c.reported = true // the desk ended it
	leg, stop := c.leg, c.ringStop
	c.leg = nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	if leg != nil {
		leg.bye()
		s.dropLeg(leg)
		if s.cfg.Survey {
			c.survey()
			return nil
		}
	}
	c.end(endHangup)
	return nil
}

// survey asks the caller for a rating: a prompt, then one DTMF digit 1–5
// within SurveyTimeout, stored with desk.Feedback; then BYE.
func (c *call) survey() {
	ch := make(chan byte, 4)
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.state, c.since, c.surveyDig = StateSurvey, time.Now(), ch
	id := c.id
	c.mu.Unlock()
	c.s.sched.Play(c.stream, c.s.beep, false, nil)
	timeout := time.NewTimer(c.s.cfg.SurveyTimeout)
	defer timeout.Stop()
	for {
		select {
		case d := <-ch:
			if d < '1' || d > '5' {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := c.s.desk.Feedback(ctx, id, int(d-'0'), nil, ""); err != nil {
				c.s.log.Warn("survey feedback", "contact_id", id, "err", err)
			}
			cancel()
			c.end(endSurveyDone)
			return
		case <-timeout.C:
			c.end(endSurveyDone)
			return
		}
	}
}

var _ contact.Conversation = (*Server)(nil)
