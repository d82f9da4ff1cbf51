-- Payments: orders with references, webhook channels, the append-only credit ledger, daily
-- rollups kept in the same transaction as each credit, assignments of reviewed credits, and
-- deliveries kept for review. Amounts are whole đồng; times UTC ms; days are Vietnam dates as
-- YYYYMMDD integers. Never edit once landed.

CREATE INDEX stalls_by_payee ON stalls (market_id, payee_account);

CREATE TABLE orders (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stall_id        BIGINT  NOT NULL REFERENCES stalls (id),
    market_id       BIGINT  NOT NULL REFERENCES markets (id),
    reference       TEXT    NOT NULL UNIQUE,
    amount_dong     BIGINT  NOT NULL CHECK (amount_dong > 0 AND amount_dong <= 9999999999999),
    note            TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'underpaid', 'overpaid', 'expired', 'cancelled')),
    paid_dong       BIGINT  NOT NULL DEFAULT 0 CHECK (paid_dong >= 0),
    payee_bin       TEXT    NOT NULL,
    payee_account   TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    idempotency_key TEXT,
    request_sha256  TEXT,
    created_at_ms   BIGINT  NOT NULL,
    expires_at_ms   BIGINT  NOT NULL,
    updated_at_ms   BIGINT  NOT NULL
);
CREATE INDEX orders_by_stall ON orders (stall_id, created_at_ms);
CREATE UNIQUE INDEX orders_idempotency ON orders (stall_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE channels (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    market_id       BIGINT  NOT NULL REFERENCES markets (id),
    provider        TEXT    NOT NULL CHECK (provider IN ('payos', 'casso', 'sepay', 'chopay')),
    secret          TEXT    NOT NULL,
    label           TEXT    NOT NULL DEFAULT '',
    created_at_ms   BIGINT  NOT NULL,
    last_used_at_ms BIGINT ,
    accepted_count  BIGINT  NOT NULL DEFAULT 0,
    rejected_count  BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE credits (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id           BIGINT  NOT NULL REFERENCES channels (id),
    market_id            BIGINT  NOT NULL REFERENCES markets (id),
    provider_txn_id      TEXT    NOT NULL,
    amount_dong          BIGINT  NOT NULL CHECK (amount_dong > 0 AND amount_dong <= 9999999999999),
    account              TEXT,
    bin                  TEXT,
    virtual_account      TEXT,
    description          TEXT    NOT NULL,
    counterparty_name    TEXT,
    counterparty_account TEXT,
    counterparty_bank    TEXT,
    booked_at_ms         BIGINT ,
    received_at_ms       BIGINT  NOT NULL,
    day                  BIGINT  NOT NULL,
    stall_id             BIGINT  REFERENCES stalls (id),
    order_id             BIGINT  REFERENCES orders (id),
    outcome              TEXT    NOT NULL CHECK (outcome IN ('order_paid', 'order_underpaid', 'order_overpaid', 'order_late', 'static_payment', 'unmatched')),
    note                 TEXT,
    raw_body             BYTEA   NOT NULL,
    UNIQUE (channel_id, provider_txn_id)
);
CREATE INDEX credits_by_market ON credits (market_id, id);
CREATE INDEX credits_by_stall ON credits (stall_id, id);
CREATE INDEX credits_by_order ON credits (order_id);
CREATE INDEX credits_unmatched ON credits (market_id, id) WHERE outcome = 'unmatched';

-- A reviewed unmatched credit given to a stall: a new entry; the credit row never changes.
CREATE TABLE credit_assignments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    credit_id     BIGINT  NOT NULL UNIQUE REFERENCES credits (id),
    stall_id      BIGINT  NOT NULL REFERENCES stalls (id),
    note          TEXT    NOT NULL DEFAULT '',
    token_id      BIGINT  REFERENCES tokens (id),
    created_at_ms BIGINT  NOT NULL
);
CREATE INDEX credit_assignments_by_stall ON credit_assignments (stall_id);

-- Counts and sums per market, stall (0: none) and Vietnam day, by kind: dynamic (an order's
-- reference), static (a stall's account), unmatched, and later assigned to a stall after review.
-- Updated in each credit's own transaction, so boards read figures without scanning the ledger.
CREATE TABLE credit_days (
    market_id                BIGINT  NOT NULL REFERENCES markets (id),
    stall_id                 BIGINT  NOT NULL,
    day                      BIGINT  NOT NULL,
    credits                  BIGINT  NOT NULL DEFAULT 0,
    amount_dong              BIGINT  NOT NULL DEFAULT 0,
    dynamic_credits          BIGINT  NOT NULL DEFAULT 0,
    dynamic_amount_dong      BIGINT  NOT NULL DEFAULT 0,
    static_credits           BIGINT  NOT NULL DEFAULT 0,
    static_amount_dong       BIGINT  NOT NULL DEFAULT 0,
    unmatched_credits        BIGINT  NOT NULL DEFAULT 0,
    unmatched_amount_dong    BIGINT  NOT NULL DEFAULT 0,
    assigned_credits         BIGINT  NOT NULL DEFAULT 0,
    assigned_amount_dong     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (market_id, stall_id, day)
);
CREATE INDEX credit_days_by_stall ON credit_days (stall_id, day);

-- Authentic deliveries that could not become a credit, or that contradicted one: kept for review.
CREATE TABLE webhook_reviews (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id      BIGINT  NOT NULL REFERENCES channels (id),
    market_id       BIGINT  NOT NULL REFERENCES markets (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('unusable', 'conflict')),
    reason          TEXT    NOT NULL,
    provider_txn_id TEXT,
    raw_body        BYTEA   NOT NULL,
    received_at_ms  BIGINT  NOT NULL
);
CREATE INDEX webhook_reviews_by_market ON webhook_reviews (market_id, id);
