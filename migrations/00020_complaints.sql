-- +goose Up
-- Complaints with their audit trail, the supervisor board's audited actions
-- and supervisors' evaluations of agents (issue 10; internal/complaint,
-- internal/board, internal/store/complaint.go and report.go).
CREATE TABLE complaints (
    id              bigserial PRIMARY KEY,
    customer_id     bigint REFERENCES customers(id) ON DELETE SET NULL,
    contact_id      bigint REFERENCES contacts(id) ON DELETE SET NULL,
    category        text NOT NULL CHECK (category IN ('product', 'service_attitude', 'delivery', 'billing', 'other')),
    severity        text NOT NULL CHECK (severity IN ('critical', 'high', 'normal', 'low')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'in_progress', 'resolved', 'closed')),
    description     text NOT NULL CHECK (description <> ''),
    owner_id        bigint REFERENCES users(id) ON DELETE SET NULL,
    created_by      bigint REFERENCES users(id) ON DELETE SET NULL,
    agent_id        bigint REFERENCES users(id) ON DELETE SET NULL,  -- the agent of the contact, for "see their own"
    resolution      text NOT NULL DEFAULT '',
    verdict         text CHECK (verdict IN ('satisfied', 'unsatisfied')),
    due_at          timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    closed_at       timestamptz,
    overdue_sent_at timestamptz                                        -- when supervisors were told it is overdue
);
CREATE INDEX complaints_customer_idx ON complaints (customer_id, created_at DESC);
CREATE INDEX complaints_created_idx ON complaints (created_at);
CREATE INDEX complaints_open_due_idx ON complaints (due_at) WHERE status IN ('open', 'acknowledged', 'in_progress');

-- Every change of a complaint: who, when, what.
CREATE TABLE complaint_events (
    id           bigserial PRIMARY KEY,
    complaint_id bigint NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    actor_id     bigint REFERENCES users(id) ON DELETE SET NULL,
    action       text NOT NULL,           -- created, status, owner, severity, category, resolution, verdict, overdue
    from_value   text NOT NULL DEFAULT '',
    to_value     text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaint_events_complaint_idx ON complaint_events (complaint_id, id);

CREATE INDEX feedback_created_idx ON feedback (created_at);
CREATE INDEX feedback_agent_idx ON feedback (agent_id, created_at);

-- Every action a supervisor takes on the live board.
CREATE TABLE supervisor_actions (
    id            bigserial PRIMARY KEY,
    supervisor_id bigint REFERENCES users(id) ON DELETE SET NULL,
    action        text NOT NULL,          -- agent_state, move_contact, end_wrapup, evaluate
    agent_id      bigint,
    contact_id    bigint,
    data          jsonb NOT NULL DEFAULT '{}',
    ok            boolean NOT NULL DEFAULT true,
    error         text NOT NULL DEFAULT '',
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supervisor_actions_at_idx ON supervisor_actions (at);

-- A supervisor's evaluation of an agent (0–100), the 30 % part of the agent score.
CREATE TABLE agent_evaluations (
    id            bigserial PRIMARY KEY,
    agent_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    supervisor_id bigint REFERENCES users(id) ON DELETE SET NULL,
    score         smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    comment       text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_evaluations_agent_idx ON agent_evaluations (agent_id, created_at);

-- +goose Down
DROP TABLE agent_evaluations;
DROP TABLE supervisor_actions;
DROP INDEX feedback_agent_idx;
DROP INDEX feedback_created_idx;
DROP TABLE complaint_events;
DROP TABLE complaints;
