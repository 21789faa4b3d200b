-- +goose Up
-- State of the SMS channel (contact/sms, contact/sms/smsstore).

-- Numbers that replied STOP (or that the provider reports unsubscribed):
-- nothing is sent to them until they reply START. phone as the provider
-- gives it (E.164), spacing removed.
CREATE TABLE sms_optouts (
    phone        text PRIMARY KEY,
    keyword      text NOT NULL DEFAULT '',
    opted_out_at timestamptz NOT NULL DEFAULT now()
);

-- Provider message ids (Twilio MessageSid) of messages sent, for status
-- callbacks. A callback may come before the send is recorded: the row is
-- then created by the callback with message_id NULL and completed later.
CREATE TABLE sms_outbound (
    sid         text PRIMARY KEY,
    message_id  bigint REFERENCES messages(id) ON DELETE CASCADE,
    contact_id  bigint REFERENCES contacts(id) ON DELETE CASCADE,
    to_number   text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT '',
    status_rank smallint NOT NULL DEFAULT 0,   -- only grows: callbacks arrive out of order
    error_code  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_outbound_message_idx ON sms_outbound (message_id);

-- CSAT questions sent after a conversation; a reply 1-5 answers the latest.
CREATE TABLE sms_surveys (
    contact_id  bigint PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    phone       text NOT NULL,
    number      text NOT NULL,
    sent_at     timestamptz NOT NULL,
    answered_at timestamptz,
    answer_sid  text
);
CREATE INDEX sms_surveys_phone_idx ON sms_surveys (phone, number, sent_at DESC);

-- +goose Down
DROP TABLE sms_surveys;
DROP TABLE sms_outbound;
DROP TABLE sms_optouts;
