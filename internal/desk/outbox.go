package desk

import (
	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/store"
)

// outbox delivers one contact's outgoing messages in order: the channel
// may be slow (SMTP relay, SMS provider), so delivery runs off the
// request, but two quick replies must not overtake each other.
type outbox struct {
	q       []delivery
	running bool
}

type delivery struct {
	conv contact.Conversation
	rec  store.Contact
	m    contact.Message
}

func (d *Desk) enqueueDelivery(conv contact.Conversation, rec store.Contact, m contact.Message) {
	d.obmu.Lock()
	defer d.obmu.Unlock()
	ob := d.outboxes[rec.ID]
	if ob == nil {
		ob = &outbox{}
		d.outboxes[rec.ID] = ob
	}
	ob.q = append(ob.q, delivery{conv, rec, m})
	if !ob.running {
		ob.running = true
		go d.drain(rec.ID, ob)
	}
}

func (d *Desk) drain(id contact.ID, ob *outbox) {
	for {
		d.obmu.Lock()
		if len(ob.q) == 0 {
			ob.running = false
			delete(d.outboxes, id)
			d.obmu.Unlock()
			return
		}
		next := ob.q[0]
		ob.q = ob.q[1:]
		d.obmu.Unlock()
		d.deliver(next.conv, next.rec, next.m)
	}
}
