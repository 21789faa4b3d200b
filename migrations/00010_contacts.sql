-- +goose Up
-- Routing configuration: queues (the routing.Queue JSON) and each agent's
-- routing profile (skills, memberships, capacity).
CREATE TABLE queues (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    config     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO queues (name, config) VALUES
 ('priority', '{"name":"priority","weight":10,"strategy":"longest_idle","service_level_threshold":20000000000,"service_level_target":0.8,"ageing_rate":0.1,"level_wait":15000000000,"max_wait":120000000000,"overflow":"general","offer_timeout":20000000000,"wrapup":10000000000,"resume_window":300000000000}'),
 ('general',  '{"name":"general","weight":1,"strategy":"longest_idle","service_level_threshold":20000000000,"service_level_target":0.8,"ageing_rate":0.5,"offer_timeout":20000000000,"wrapup":10000000000,"resume_window":300000000000}');

CREATE TABLE agent_profiles (
    user_id    bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    routing    jsonb NOT NULL DEFAULT '{}',  -- routing.Agent without id
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The last known presence of each agent, so a restart puts logged-in agents back.
CREATE TABLE agent_states (
    user_id bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    state   text NOT NULL,
    reason  text NOT NULL DEFAULT '',
    since   timestamptz NOT NULL
);

-- One customer interaction on one channel.
CREATE TABLE contacts (
    id           bigserial PRIMARY KEY,
    channel      text NOT NULL CHECK (channel IN ('voice', 'chat', 'email', 'sms')),
    direction    text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    external_id  text,                                 -- Call-ID, Message-ID, MessageSid ...: makes arrival idempotent
    thread_key   text,                                 -- groups a conversation's contacts (SMS number pair, email thread)
    from_kind    text NOT NULL,
    from_value   text NOT NULL,
    to_addr      text NOT NULL DEFAULT '',
    subject      text NOT NULL DEFAULT '',
    customer_id  bigint REFERENCES customers(id) ON DELETE SET NULL,
    tier         text NOT NULL DEFAULT 'standard',
    queue        text NOT NULL,
    priority     integer NOT NULL DEFAULT 0,
    state        text NOT NULL CHECK (state IN ('queued', 'offered', 'active', 'wrapup', 'closed', 'abandoned')),
    agent_id     bigint REFERENCES users(id) ON DELETE SET NULL,
    attributes   jsonb NOT NULL DEFAULT '{}',
    disposition  text NOT NULL DEFAULT '',
    wrapup_notes text NOT NULL DEFAULT '',
    tags         text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    enqueued_at  timestamptz NOT NULL DEFAULT now(),
    offered_at   timestamptz,
    answered_at  timestamptz,
    ended_at     timestamptz,
    closed_at    timestamptz
);
CREATE UNIQUE INDEX contacts_external_idx ON contacts (channel, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_open_idx ON contacts (state) WHERE state NOT IN ('closed', 'abandoned');
CREATE INDEX contacts_customer_idx ON contacts (customer_id, created_at DESC);
CREATE INDEX contacts_agent_idx ON contacts (agent_id, created_at DESC);
CREATE INDEX contacts_created_idx ON contacts (created_at);
CREATE INDEX contacts_thread_idx ON contacts (channel, thread_key, id DESC) WHERE thread_key IS NOT NULL;

-- Every state change of a contact or agent, in order: the audit trail and
-- the source for reports.
CREATE TABLE contact_events (
    id         bigserial PRIMARY KEY,
    contact_id bigint REFERENCES contacts(id) ON DELETE CASCADE,
    agent_id   bigint,
    kind       text NOT NULL,
    queue      text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX contact_events_contact_idx ON contact_events (contact_id, id);
CREATE INDEX contact_events_at_idx ON contact_events (at);

-- Messages of text conversations (chat, email, SMS).
CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    direction   text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    agent_id    bigint REFERENCES users(id) ON DELETE SET NULL,
    body        text NOT NULL,
    external_id text,
    attachments jsonb NOT NULL DEFAULT '[]',
    status      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_contact_idx ON messages (contact_id, id);
CREATE UNIQUE INDEX messages_external_idx ON messages (contact_id, external_id) WHERE external_id IS NOT NULL;

-- Internal notes agents leave on a contact (never shown to the customer).
CREATE TABLE contact_notes (
    id         bigserial PRIMARY KEY,
    contact_id bigint NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    agent_id   bigint REFERENCES users(id) ON DELETE SET NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_notes_contact_idx ON contact_notes (contact_id, id);

CREATE TABLE canned_responses (
    id         bigserial PRIMARY KEY,
    title      text NOT NULL,
    body       text NOT NULL,
    created_by bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO canned_responses (title, body) VALUES
 ('Greeting', 'Hello {{customer.name}}, this is {{agent.name}}. How can I help you today?'),
 ('问候', '您好 {{customer.name}}，我是 {{agent.name}}，请问有什么可以帮您？'),
 ('Closing', 'Thank you for contacting us, {{customer.name}}. Have a good day!');

-- Event webhooks for integrators.
CREATE TABLE webhooks (
    id         bigserial PRIMARY KEY,
    url        text NOT NULL,
    secret     text NOT NULL,
    events     text[] NOT NULL DEFAULT '{}',   -- empty: every event
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE webhook_deliveries (
    id          bigserial PRIMARY KEY,
    webhook_id  bigint NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event       text NOT NULL,
    payload     jsonb NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    last_status integer,
    last_error  text NOT NULL DEFAULT '',
    next_at     timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE canned_responses;
DROP TABLE contact_notes;
DROP TABLE messages;
DROP TABLE contact_events;
DROP TABLE contacts;
DROP TABLE agent_states;
DROP TABLE agent_profiles;
DROP TABLE queues;
