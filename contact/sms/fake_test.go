package sms

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// fakeDesk is contact.Desk in memory, idempotent like the real one.
type fakeDesk struct {
	mu          sync.Mutex
	contacts    []contact.Contact
	messages    map[contact.ID][]contact.Message
	feedback    map[contact.ID]int
	ended       []contact.ID
	unavailable bool
}

func newFakeDesk() *fakeDesk {
	return &fakeDesk{messages: map[contact.ID][]contact.Message{}, feedback: map[contact.ID]int{}}
}

func (d *fakeDesk) Accept(_ context.Context, a contact.Arrival) (contact.Contact, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unavailable {
		return contact.Contact{}, contact.ErrUnavailable
	}
	for _, c := range d.contacts {
		if a.ExternalID != "" && c.Attributes["ext"] == a.ExternalID {
			return c, nil
		}
	}
	attrs := map[string]string{"ext": a.ExternalID}
	for k, v := range a.Attributes {
		attrs[k] = v
	}
	c := contact.Contact{ID: contact.ID(len(d.contacts) + 1), Channel: a.Channel, From: a.From, To: a.To, Queue: a.Queue,
		State: contact.Queued, Attributes: attrs, ThreadKey: a.ThreadKey, CreatedAt: time.Now()}
	d.contacts = append(d.contacts, c)
	if a.Message != nil {
		m := *a.Message
		m.ContactID = c.ID
		d.messages[c.ID] = append(d.messages[c.ID], m)
	}
	return c, nil
}

func (d *fakeDesk) AddInbound(_ context.Context, id contact.ID, m contact.Message) (contact.Message, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unavailable {
		return contact.Message{}, contact.ErrUnavailable
	}
	for _, x := range d.messages[id] {
		if m.ExternalID != "" && x.ExternalID == m.ExternalID {
			return x, nil
		}
	}
	m.ContactID = id
	d.messages[id] = append(d.messages[id], m)
	return m, nil
}

func (d *fakeDesk) CustomerEnded(_ context.Context, id contact.ID) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ended = append(d.ended, id)
	d.contacts[id-1].State = contact.Abandoned
	return nil
}

func (d *fakeDesk) Thread(_ context.Context, ch contact.Channel, key string) (contact.Contact, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unavailable {
		return contact.Contact{}, contact.ErrUnavailable
	}
	for i := len(d.contacts) - 1; i >= 0; i-- {
		if d.contacts[i].Channel == ch && d.contacts[i].ThreadKey == key {
			return d.contacts[i], nil
		}
	}
	return contact.Contact{}, contact.ErrNoThread
}

func (d *fakeDesk) Feedback(_ context.Context, id contact.ID, csat int, _ *int, _ string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.feedback[id] = csat
	return nil
}

func (d *fakeDesk) setState(id contact.ID, s contact.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.contacts[id-1].State = s
}

func (d *fakeDesk) count() (contacts, messages int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ms := range d.messages {
		messages += len(ms)
	}
	return len(d.contacts), messages
}

// fakeStore is Store in memory.
type fakeStore struct {
	mu       sync.Mutex
	optouts  map[string]bool
	outbound map[string]Outbound
	statuses map[int64]string
	surveys  map[contact.ID]Survey
	last     map[contact.ID]time.Time
}

func newFakeStore() *fakeStore {
	return &fakeStore{optouts: map[string]bool{}, outbound: map[string]Outbound{}, statuses: map[int64]string{},
		surveys: map[contact.ID]Survey{}, last: map[contact.ID]time.Time{}}
}

func (s *fakeStore) OptOut(_ context.Context, phone, _ string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.optouts[phone]
	s.optouts[phone] = true
	return !was, nil
}

func (s *fakeStore) OptIn(_ context.Context, phone string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.optouts[phone]
	delete(s.optouts, phone)
	return was, nil
}

func (s *fakeStore) OptedOut(_ context.Context, phone string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.optouts[phone], nil
}

func (s *fakeStore) SaveOutbound(_ context.Context, o Outbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbound[o.SID] = o
	return nil
}

func (s *fakeStore) UpdateStatus(_ context.Context, sid, st string, rank int, _, msg string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outbound[sid]
	if o.Rank >= rank {
		return false, nil
	}
	o.SID, o.Status, o.Rank = sid, st, rank
	s.outbound[sid] = o
	if o.MessageID != 0 {
		s.statuses[o.MessageID] = msg
	}
	return true, nil
}

func (s *fakeStore) SaveSurvey(_ context.Context, v Survey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.surveys[v.ContactID] = v
	return nil
}

func (s *fakeStore) PendingSurvey(_ context.Context, phone, number string, since time.Time) (Survey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best Survey
	for _, v := range s.surveys {
		if v.Phone == phone && v.Number == number && !v.SentAt.Before(since) && v.SentAt.After(best.SentAt) {
			best = v
		}
	}
	if best.ContactID == 0 {
		return Survey{}, ErrNoSurvey
	}
	return best, nil
}

func (s *fakeStore) AnswerSurvey(_ context.Context, id contact.ID, sid string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.surveys[id]
	if v.Answered {
		return false, nil
	}
	v.Answered, v.AnswerSID = true, sid
	s.surveys[id] = v
	return true, nil
}

func (s *fakeStore) ReleaseSurvey(_ context.Context, id contact.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.surveys[id]
	v.Answered, v.AnswerSID = false, ""
	s.surveys[id] = v
	return nil
}

func (s *fakeStore) LastActivity(_ context.Context, id contact.ID) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[id], nil
}

// rig is an adapter on fakes with its handlers served over HTTP.
type rig struct {
	a     *Adapter
	desk  *fakeDesk
	store *fakeStore
	srv   *httptest.Server
}

const (
	testSID   = "AC00000000000000000000000000000001"
	testToken = "token-one"
	testNum   = "+8610000000001"
)

func newRig(t *testing.T, mod func(*Config)) *rig {
	t.Helper()
	cfg := Config{Accounts: []Account{{Name: "one", AccountSID: testSID, AuthToken: testToken, Numbers: []string{testNum}}},
		GenericSecrets: []string{"generic-secret"}, SendBackoff: time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	r := &rig{desk: newFakeDesk(), store: newFakeStore()}
	a, err := New(cfg, r.desk, r.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.a = a
	mux := http.NewServeMux()
	mux.Handle("/webhooks/sms/twilio", a.TwilioHandler())
	mux.Handle("/webhooks/sms/twilio/status", a.TwilioStatusHandler())
	mux.Handle("/webhooks/sms/generic", a.GenericHandler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// post sends a form signed with token (no header when token is "").
func (r *rig) post(t *testing.T, path string, form url.Values, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set(HeaderTwilioSignature, TwilioSignature(token, r.srv.URL+path, form))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func sms(sid, from, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "AccountSid": {testSID}, "From": {from}, "To": {testNum}, "Body": {body}, "NumMedia": {"0"}}
}
