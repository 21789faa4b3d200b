-- +goose Up
-- SIP accounts of agents' phones. Only HA1 = md5(username:realm:password)
-- is kept (RFC 2617), which is what digest authentication needs.
-- Registrations themselves live in memory: phones refresh them within
-- their expiry, so a restart heals without a table.
CREATE TABLE sip_accounts (
    user_id    bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    username   text NOT NULL UNIQUE CHECK (username ~ '^[a-zA-Z0-9._@+-]{1,64}$'),
    realm      text NOT NULL,
    ha1        text NOT NULL CHECK (ha1 ~ '^[0-9a-f]{32}$'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sip_accounts;
