-- Markets, their stalls with payee accounts, and hashed bearer tokens.
-- Times are UTC milliseconds since the Unix epoch (*_at_ms). Never edit once landed.

CREATE TABLE markets (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                  TEXT    NOT NULL UNIQUE,
    name                  TEXT    NOT NULL,
    commune               TEXT    NOT NULL,
    district              TEXT    NOT NULL,
    district_slug         TEXT    NOT NULL,
    province              TEXT    NOT NULL,
    households_registered BIGINT,
    created_at_ms         BIGINT  NOT NULL,
    updated_at_ms         BIGINT  NOT NULL
);
CREATE INDEX markets_by_district ON markets (district_slug);

CREATE TABLE stalls (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    market_id            BIGINT  NOT NULL REFERENCES markets (id),
    code                 TEXT    NOT NULL,
    vendor_name          TEXT    NOT NULL,
    goods                TEXT    NOT NULL DEFAULT '',
    phone                TEXT,
    payee_bin            TEXT,
    payee_account        TEXT,
    payee_name           TEXT,
    payee_service        TEXT CHECK (payee_service IN ('account', 'card')),
    account_linked_at_ms BIGINT,
    status               TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    poster_printed_at_ms BIGINT,
    poster_serial        TEXT,
    created_at_ms        BIGINT  NOT NULL,
    updated_at_ms        BIGINT  NOT NULL,
    UNIQUE (market_id, code),
    -- An account is linked whole or not at all.
    CHECK ((payee_bin IS NULL) = (payee_account IS NULL)
       AND (payee_bin IS NULL) = (payee_name IS NULL)
       AND (payee_bin IS NULL) = (payee_service IS NULL))
);

CREATE TABLE tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256  TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'board', 'vendor')),
    market_id     BIGINT  REFERENCES markets (id),
    district_slug TEXT,
    stall_id      BIGINT  REFERENCES stalls (id),
    label         TEXT    NOT NULL DEFAULT '',
    created_at_ms BIGINT  NOT NULL,
    CHECK ((role = 'admin' AND market_id IS NULL AND district_slug IS NULL AND stall_id IS NULL)
        OR (role = 'board' AND stall_id IS NULL AND ((market_id IS NULL) <> (district_slug IS NULL)))
        OR (role = 'vendor' AND stall_id IS NOT NULL AND market_id IS NULL AND district_slug IS NULL))
);
