package voice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/contact/voice/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Call states reported by CallState.
const (
	StateAnswering = "answering" // INVITE received, the desk is committing the contact
	StateHeld      = "held"      // answered, queued, hearing hold audio
	StateRinging   = "ringing"   // an agent accepted; their phone is ringing
	StateTalking   = "talking"   // bridged to the agent's phone
	StateSurvey    = "survey"    // the agent left; the caller is asked for a rating
)

type endReason int

const (
	endCallerBye    endReason = iota // caller sent BYE
	endCallerCancel                  // caller sent CANCEL before the answer
	endNoAck                         // our 200 OK was never acknowledged
	endAgentBye                      // the agent's phone hung up (no survey)
	endHangup                        // the desk ended it (agent in the console)
	endSurveyDone                    // survey over
	endCallback                      // the caller asked for a callback
	endMediaTimeout                  // no RTP from the caller
	endShutdown                      // server stopping
)

// call is one inbound call: the caller's dialog and RTP leg, and, once an
// agent answered, the agent's leg.
type call struct {
	s       *Server
	callID  string
	dlg     *sipgo.DialogServerSession
	offer   mediaOffer
	stream  *media.Stream
	created time.Time

	mu        sync.Mutex
	id        contact.ID
	state     string
	since     time.Time
	answered  bool
	canceled  bool
	ended     bool
	reported  bool // the desk was told (CustomerEnded, or it ended it itself)
	asked     bool // callback requested
	leg       *agentLeg
	ringStop  context.CancelFunc
	surveyDig chan byte
}

// agentLeg is the call to the agent's phone.
type agentLeg struct {
	agent  contact.AgentID
	callID string
	dlg    *sipgo.DialogClientSession
	stream *media.Stream
	c      *call
}

func (c *call) contactID() contact.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

func (c *call) setState(st string) {
	c.mu.Lock()
	if !c.ended {
		c.state, c.since = st, time.Now()
	}
	c.mu.Unlock()
}

func (c *call) mediaSilent(now time.Time, limit time.Duration) bool {
	c.mu.Lock()
	answered, ended := c.answered, c.ended
	c.mu.Unlock()
	if !answered || ended || c.stream == nil {
		return false
	}
	return now.Sub(c.stream.LastReceived()) > limit
}

// CallState tells the console what a contact's call is doing: one of the
// State* constants and since when. ok is false if the contact has no call.
func (s *Server) CallState(id contact.ID) (state string, since time.Time, ok bool) {
	s.mu.Lock()
	c := s.byContact[id]
	s.mu.Unlock()
	if c == nil {
		return "", time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return "", time.Time{}, false
	}
	return c.state, c.since, true
}

// onInvite answers a new call: commit it through the desk, answer with SDP
// and play hold audio until an agent is connected. It returns once our
// 200 OK is acknowledged (the transaction lives as long as the handler).
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	id := callID(req)
	if id == "" || req.From() == nil || req.To() == nil || req.CSeq() == nil || req.Contact() == nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	if tag, ok := req.To().Params.Get("tag"); ok && tag != "" {
		s.onReInvite(req, tx)
		return
	}
	s.mu.Lock()
	_, dup := s.calls[id]
	s.mu.Unlock()
	if dup {
		respond(tx, req, sip.StatusLoopDetected, "Loop Detected")
		return
	}
	if ct := req.ContentType(); ct == nil || !strings.EqualFold(strings.TrimSpace(strings.SplitN(ct.Value(), ";", 2)[0]), "application/sdp") || len(req.Body()) == 0 {
		// An INVITE without an offer would need our offer in the 200 and the
		// answer in the ACK; no phone we meet does that for inbound calls.
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here: SDP offer required")
		return
	}
	offer, err := parseSDP(req.Body())
	if err != nil {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	respond(tx, req, sip.StatusTrying, "Trying")
	dlg, err := s.dua.ReadInvite(req, tx)
	if err != nil {
		return // CANCELled or dead already
	}
	c := &call{s: s, callID: id, dlg: dlg, offer: offer, created: time.Now(), state: StateAnswering, since: time.Now()}
	s.mu.Lock()
	s.calls[id] = c
	s.mu.Unlock()
	tx.OnCancel(func(*sip.Request) {
		c.mu.Lock()
		c.canceled = true
		c.mu.Unlock()
	})
	log := s.log.With("call_id", id)

	from, dialled := callerID(req), dialledNumber(req)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	con, err := s.desk.Accept(ctx, contact.Arrival{
		Channel: contact.Voice, From: contact.Identity{Kind: contact.Phone, Value: from},
		To: dialled, Queue: s.cfg.Numbers[dialled], ExternalID: id,
		Attributes: map[string]string{"sip_call_id": id},
	})
	cancel()
	if err != nil {
		s.forget(c)
		c.ended = true
		if errors.Is(err, contact.ErrUnavailable) {
			log.Warn("desk unavailable: call refused with 503", "err", err)
			_ = dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil,
				sip.NewHeader("Retry-After", fmt.Sprint(int(s.cfg.RetryAfter/time.Second))))
			return
		}
		log.Error("desk refused call", "err", err)
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	if con.State.Terminal() {
		s.forget(c)
		_ = dlg.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		return
	}
	c.mu.Lock()
	c.id = con.ID
	canceled := c.canceled
	c.mu.Unlock()
	s.mu.Lock()
	s.byContact[con.ID] = c
	s.mu.Unlock()
	log = log.With("contact_id", con.ID)
	if canceled {
		log.Info("caller cancelled while the call was being queued")
		c.end(endCallerCancel)
		return
	}

	c.stream, err = media.Listen(s.rtpIP, s.cfg.RTPPortMin, s.cfg.RTPPortMax)
	if err != nil {
		log.Error("rtp socket", "err", err)
		c.end(endNoAck)
		_ = dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil, sip.NewHeader("Retry-After", "5"))
		return
	}
	c.stream.SetRemote(offer.Addr, offer.PT, offer.DTMFPT)
	c.stream.OnDTMF(c.digit)
	go c.stream.Serve()
	answer := buildSDP(s.host, c.stream.Port(), []uint8{offer.PT}, offer.DTMFPT)

	c.mu.Lock()
	c.answered = true
	c.state, c.since = StateHeld, time.Now()
	c.mu.Unlock()
	s.sched.Play(c.stream, s.hold, true, nil)
	err = dlg.RespondSDP(answer)
	if err != nil {
		c.mu.Lock()
		canceled := c.canceled
		if canceled {
			c.answered = false
		}
		c.mu.Unlock()
		if canceled {
			log.Info("caller cancelled before the answer")
			c.end(endCallerCancel)
			return
		}
		log.Warn("answer not acknowledged", "err", err)
		c.end(endNoAck)
		return
	}
	log.Debug("call answered and queued", "from", from, "to", dialled, "rtp_port", c.stream.Port())
}

// onReInvite answers an in-dialog INVITE (session refresh, hold, a new
// media address) with the same media: we keep relaying from our sockets.
func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	id := callID(req)
	s.mu.Lock()
	c, leg := s.calls[id], s.legs[id]
	s.mu.Unlock()
	var st *media.Stream
	switch {
	case c != nil && c.stream != nil:
		st = c.stream
	case leg != nil:
		st = leg.stream
	default:
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if len(req.Body()) > 0 {
		off, err := parseSDP(req.Body())
		if err != nil {
			respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
			return
		}
		if off.Addr.IsValid() && !off.Addr.Addr().IsUnspecified() {
			st.SetRemote(off.Addr, off.PT, off.DTMFPT)
		}
		_, pt, dpt := st.Remote(), off.PT, off.DTMFPT
		res := sip.NewSDPResponseFromRequest(req, buildSDP(s.host, st.Port(), []uint8{pt}, dpt))
		res.AppendHeader(&s.dua.ContactHDR)
		_ = tx.Respond(res)
		return
	}
	respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here: SDP offer required")
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	s.mu.Lock()
	c := s.calls[callID(req)]
	s.mu.Unlock()
	if c != nil && c.dlg != nil {
		_ = c.dlg.ReadAck(req, tx) // an ACK of a re-INVITE fails the CSeq check: nothing to do
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	id := callID(req)
	s.mu.Lock()
	c, leg := s.calls[id], s.legs[id]
	s.mu.Unlock()
	switch {
	case c != nil:
		if err := c.dlg.ReadBye(req, tx); err != nil {
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
			return
		}
		c.end(endCallerBye)
	case leg != nil:
		if err := leg.dlg.ReadBye(req, tx); err != nil {
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
			return
		}
		leg.c.agentLeft(leg)
	default:
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
}

// onInfo takes DTMF sent as SIP INFO (application/dtmf-relay or application/dtmf).
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	id := callID(req)
	s.mu.Lock()
	c, leg := s.calls[id], s.legs[id]
	s.mu.Unlock()
	if c == nil && leg == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	d := media.ParseDTMFInfo(ct, req.Body())
	if d == 0 && len(req.Body()) > 0 {
		respond(tx, req, sip.StatusUnsupportedMediaType, "Unsupported Media Type")
		return
	}
	respond(tx, req, sip.StatusOK, "OK")
	if c != nil && d != 0 {
		c.digit(d)
	}
}

// digit handles a DTMF digit from the caller (RTP event or INFO). It runs
// on the RTP reader: it must not block.
func (c *call) digit(d byte) {
	c.mu.Lock()
	st, ch := c.state, c.surveyDig
	c.mu.Unlock()
	switch st {
	case StateSurvey:
		if ch != nil {
			select {
			case ch <- d:
			default:
			}
		}
	case StateHeld:
		if c.s.cfg.CallbackDigit != "" && string(d) == c.s.cfg.CallbackDigit && c.s.OnCallback != nil {
			go c.callback()
		}
	}
}

// callback hands the contact to the callback hook and releases the line.
func (c *call) callback() {
	c.mu.Lock()
	if c.asked || c.ended || c.state != StateHeld {
		c.mu.Unlock()
		return
	}
	c.asked = true
	id := c.id
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.s.OnCallback(ctx, id); err != nil {
		c.s.log.Warn("callback request failed; caller stays on hold", "contact_id", id, "err", err)
		c.mu.Lock()
		c.asked = false
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	c.reported = true // the contact is a callback now, not an abandon
	c.mu.Unlock()
	c.s.log.Info("callback requested by dtmf; releasing the line", "contact_id", id)
	done := make(chan struct{})
	c.s.sched.Play(c.stream, c.s.beep, false, func() { close(done) })
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	c.end(endCallback)
}

// end finishes the call: hang up whatever leg is still up, free the media,
// and tell the desk the customer is gone unless it already knows.
func (c *call) end(r endReason) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	leg, stop, answered := c.leg, c.ringStop, c.answered
	c.leg, c.ringStop = nil, nil
	id, report := c.id, !c.reported && c.id != 0 && r != endHangup
	c.reported = true
	c.mu.Unlock()
	s := c.s
	if stop != nil {
		stop()
	}
	if leg != nil {
		if r != endAgentBye {
			leg.bye()
		}
		s.dropLeg(leg)
	}
	if answered && r != endCallerBye && r != endCallerCancel {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.dlg.Bye(ctx); err != nil {
			s.log.Debug("bye caller", "call_id", c.callID, "err", err)
		}
		cancel()
	}
	if c.stream != nil {
		c.stream.Close()
	}
	s.forget(c)
	if report {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.desk.CustomerEnded(ctx, id); err != nil {
			s.log.Warn("report customer ended", "contact_id", id, "err", err)
		}
		cancel()
	}
	if c.dlg != nil {
		_ = c.dlg.Close()
	}
}

func (s *Server) forget(c *call) {
	s.mu.Lock()
	if s.calls[c.callID] == c {
		delete(s.calls, c.callID)
	}
	if c.id != 0 && s.byContact[c.id] == c {
		delete(s.byContact, c.id)
	}
	s.mu.Unlock()
}

// callerID is the caller's number: the user part of P-Asserted-Identity
// if present, else of From. The desk normalises it.
func callerID(req *sip.Request) string {
	if h := req.GetHeader("P-Asserted-Identity"); h != nil {
		if u := uriUser(strings.SplitN(h.Value(), ",", 2)[0]); u != "" {
			return u
		}
	}
	if f := req.From(); f != nil && f.Address.User != "" {
		return f.Address.User
	}
	return "anonymous"
}

// uriUser extracts the user (or tel: number) of a name-addr or addr-spec.
func uriUser(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	lower := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lower, "tel:"):
		return strings.TrimSpace(strings.SplitN(v[4:], ";", 2)[0])
	case strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:"):
		var u sip.Uri
		if err := sip.ParseUri(v, &u); err == nil {
			return u.User
		}
	}
	return ""
}

// dialledNumber is the Request-URI user, else the To user.
func dialledNumber(req *sip.Request) string {
	if req.Recipient.User != "" {
		return req.Recipient.User
	}
	if t := req.To(); t != nil {
		return t.Address.User
	}
	return ""
}
