-- +goose Up
-- The email channel's own records (package contact/email/emailstore).

-- Attachments of emails (and the full text / sanitised HTML of messages
-- whose display text was trimmed). ref is the SHA-256 of type, name and
-- bytes, so storing the same attachment again is a no-op.
CREATE TABLE email_blobs (
    ref          text PRIMARY KEY CHECK (ref ~ '^[0-9a-f]{64}$'),
    name         text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every Message-ID seen or sent, with its thread (the root Message-ID, also
-- contacts.thread_key) and contact: threads replies and correlates bounces.
CREATE TABLE email_messages (
    message_id  text PRIMARY KEY,
    direction   text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    thread_key  text NOT NULL,
    contact_id  bigint REFERENCES contacts(id) ON DELETE CASCADE,
    message     bigint,                 -- messages.id of our outbound message
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_messages_thread_idx ON email_messages (thread_key, created_at);
CREATE INDEX email_messages_contact_idx ON email_messages (contact_id, created_at DESC);

-- How far each polled IMAP mailbox has been imported.
CREATE TABLE email_imap_cursors (
    account      text PRIMARY KEY,
    uid_validity bigint NOT NULL,
    last_uid     bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE email_imap_cursors;
DROP TABLE email_messages;
DROP TABLE email_blobs;
