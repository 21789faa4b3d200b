-- +goose Up
-- Server-generated secrets that must survive restarts and be the same on
-- every node (e.g. the key that signs chat visitor tokens when
-- CONTACTHUB_CHAT_SECRET is not set).
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE server_secrets;
