package email

import (
	"context"
	"time"

	"github.com/contacthub/contacthub/contact"
)

// Blob is an attachment's bytes and metadata.
type Blob struct {
	Ref         string
	Name        string
	ContentType string
	Size        int64
	Data        []byte
}

// Entry links one email Message-ID (ours or the customer's) to its thread
// and contact.
type Entry struct {
	MessageID string
	ThreadKey string
	Contact   contact.ID
	Message   int64 // the stored contact.Message id, when known (outbound)
	Direction contact.Direction
	At        time.Time
}

// Blobs keeps attachment bytes. PutBlob is idempotent: the same bytes, name
// and type give the same ref, so a retried delivery stores nothing twice.
type Blobs interface {
	PutBlob(ctx context.Context, b Blob) (ref string, err error)
	// Blob returns the blob or an error wrapping ErrNotFound.
	Blob(ctx context.Context, ref string) (Blob, error)
}

// Index maps Message-IDs to threads, for threading replies and for
// correlating bounces with our outbound messages.
type Index interface {
	// IndexMessage records e; an existing Message-ID is left as it is.
	IndexMessage(ctx context.Context, e Entry) error
	// Lookup returns the newest entry whose Message-ID is one of ids, or
	// an error wrapping ErrNotFound.
	Lookup(ctx context.Context, ids []string) (Entry, error)
	// ByContact returns the newest entry of a contact, or ErrNotFound.
	ByContact(ctx context.Context, id contact.ID) (Entry, error)
	// Thread returns up to limit entries of a thread: the root (oldest)
	// first, then the newest ones, in time order.
	Thread(ctx context.Context, key string, limit int) ([]Entry, error)
	// MarkBounced marks our outbound messages with these Message-IDs as
	// failed and returns how many it found.
	MarkBounced(ctx context.Context, ids []string) (int, error)
}

// Cursors remembers how far each IMAP mailbox has been imported.
type Cursors interface {
	// Cursor returns the UIDVALIDITY and the last imported UID (0, 0 if none).
	Cursor(ctx context.Context, account string) (validity, uid uint32, err error)
	SetCursor(ctx context.Context, account string, validity, uid uint32) error
}

// Store is the persistence the email channel needs beyond the desk
// (implemented on PostgreSQL by package emailstore).
type Store interface {
	Blobs
	Index
	Cursors
}
