-- +goose Up
-- Customers, the addresses they are known by, their orders, their feedback
-- and the value figures computed from those (see internal/customer and
-- internal/store/value.go).
CREATE TABLE customers (
    id                 bigserial PRIMARY KEY,
    external_id        text UNIQUE,                 -- id in the CRM/shop; NULL for customers created here
    name               text NOT NULL DEFAULT '',
    company            text NOT NULL DEFAULT '',
    language           text NOT NULL DEFAULT '',
    notes              text NOT NULL DEFAULT '',
    account_manager_id bigint REFERENCES users(id) ON DELETE SET NULL,
    pinned_tier        text CHECK (pinned_tier IN ('platinum', 'gold', 'silver', 'bronze')),
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- An address a customer is known by. value is normalised (E.164 phone,
-- case-folded email, visitor id) by internal/customer before it gets here.
CREATE TABLE identities (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('phone', 'email', 'chat')),
    value       text NOT NULL CHECK (value <> ''),
    verified    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, value)
);
CREATE INDEX identities_customer_idx ON identities (customer_id);

CREATE TABLE orders (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    external_id  text UNIQUE,
    amount       numeric(14,2) NOT NULL CHECK (amount >= 0),
    margin       numeric(14,2),                     -- NULL: amount × the configured default margin ratio
    currency     text NOT NULL DEFAULT 'CNY',
    ordered_at   timestamptz NOT NULL,
    paid_on_time boolean,                           -- NULL: unknown
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON orders (customer_id, ordered_at);

-- Post-contact feedback. Minimal for now; the complaints/feedback issue extends it.
CREATE TABLE feedback (
    id          bigserial PRIMARY KEY,
    customer_id bigint REFERENCES customers(id) ON DELETE CASCADE,
    contact_id  bigint,
    agent_id    bigint REFERENCES users(id) ON DELETE SET NULL,
    csat        smallint CHECK (csat BETWEEN 1 AND 5),
    nps         smallint CHECK (nps BETWEEN 0 AND 10),
    comment     text NOT NULL DEFAULT '',
    channel     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_customer_idx ON feedback (customer_id, created_at);

-- Computed value figures, one row per customer, rewritten by the batch
-- (contacthub tiers / the periodic job) and per customer on a new order.
-- r, f, m are 0 for customers without orders.
CREATE TABLE customer_values (
    customer_id   bigint PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    r             smallint NOT NULL DEFAULT 0,
    f             smallint NOT NULL DEFAULT 0,
    m             smallint NOT NULL DEFAULT 0,
    segment       text NOT NULL DEFAULT 'none',
    abc           text NOT NULL DEFAULT 'C',
    key_account   boolean NOT NULL DEFAULT false,
    clv           double precision NOT NULL DEFAULT 0,
    score_current double precision NOT NULL DEFAULT 0,
    score_future  double precision NOT NULL DEFAULT 0,
    score_credit  double precision NOT NULL DEFAULT 0,
    score_loyalty double precision NOT NULL DEFAULT 0,
    score_growth  double precision NOT NULL DEFAULT 0,
    value_score   double precision NOT NULL DEFAULT 0,  -- composite 0–100
    tier          text NOT NULL DEFAULT 'bronze',       -- pinned tier applied
    lifecycle     text NOT NULL DEFAULT 'prospect',
    satisfaction  double precision,                     -- average recent CSAT, NULL without feedback
    quadrant      text NOT NULL DEFAULT '',
    frequency     integer NOT NULL DEFAULT 0,           -- orders in the RFM window
    monetary      numeric NOT NULL DEFAULT 0,           -- money in the RFM window
    last_order_at timestamptz,
    computed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_values_tier_idx ON customer_values (tier);
CREATE INDEX customer_values_segment_idx ON customer_values (segment);
CREATE INDEX customer_values_lifecycle_idx ON customer_values (lifecycle);

-- The cut-offs of the last batch, so one customer can be rescored on a new
-- order without recomputing everyone. One row (id = 1).
CREATE TABLE value_cutoffs (
    id            integer PRIMARY KEY CHECK (id = 1),
    r_edges       double precision[] NOT NULL,  -- lowest -recency_days of quintile buckets 2..5
    f_edges       double precision[] NOT NULL,  -- lowest frequency of buckets 2..5
    m_edges       double precision[] NOT NULL,  -- lowest money of buckets 2..5
    abc_a_min     double precision,             -- money from which a customer is class A
    abc_b_min     double precision,
    key_min       double precision,             -- money from which a customer is a key account
    pct_current   double precision[] NOT NULL,  -- 1st..99th percentile of each component
    pct_future    double precision[] NOT NULL,
    pct_credit    double precision[] NOT NULL,
    pct_loyalty   double precision[] NOT NULL,
    pct_growth    double precision[] NOT NULL,
    platinum_min  double precision,             -- composite from which a customer is platinum
    gold_min      double precision,
    silver_min    double precision,
    customers     bigint NOT NULL,
    with_orders   bigint NOT NULL,
    computed_at   timestamptz NOT NULL
);

-- Record of merges, so an old id or external id can still be traced.
CREATE TABLE customer_merges (
    from_id          bigint NOT NULL,
    from_external_id text,
    into_id          bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    merged_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_merges_from_idx ON customer_merges (from_id);

-- +goose Down
DROP TABLE customer_merges;
DROP TABLE value_cutoffs;
DROP TABLE customer_values;
DROP TABLE feedback;
DROP TABLE orders;
DROP TABLE identities;
DROP TABLE customers;
