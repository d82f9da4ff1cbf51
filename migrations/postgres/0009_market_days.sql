-- A market's sums per Vietnam day, so a board's daily series reads one row per market and day
-- (1 500 for a district's 30 days) instead of adding up every stall's (35 000 at 10 M credits;
-- benches/scale.rs). The database keeps it, from every change to `credit_days`, in the same
-- statement and transaction: the ledger, assignments after review and anything written later
-- cannot forget it.
--
-- Every credit of a market on a day would otherwise update the same row, and the ledger's
-- writers would queue on its lock through each other's commit. So each writer adds to a row of
-- its own: `shard` is the session's `chopay.shard` (a ledger writer sets its number; 0 for any
-- other session), and readers sum a day's shards. Never edit once landed.

CREATE TABLE market_days (
    market_id             BIGINT   NOT NULL REFERENCES markets (id),
    day                   BIGINT   NOT NULL,
    shard                 SMALLINT NOT NULL DEFAULT 0,
    credits               BIGINT   NOT NULL DEFAULT 0,
    amount_dong           BIGINT   NOT NULL DEFAULT 0,
    dynamic_credits       BIGINT   NOT NULL DEFAULT 0,
    dynamic_amount_dong   BIGINT   NOT NULL DEFAULT 0,
    static_credits        BIGINT   NOT NULL DEFAULT 0,
    static_amount_dong    BIGINT   NOT NULL DEFAULT 0,
    unmatched_credits     BIGINT   NOT NULL DEFAULT 0,
    unmatched_amount_dong BIGINT   NOT NULL DEFAULT 0,
    assigned_credits      BIGINT   NOT NULL DEFAULT 0,
    assigned_amount_dong  BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (market_id, day, shard)
) WITH (fillfactor = 70); -- room on the page for updates in place: today's rows change all day

INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong,
    static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits,
    assigned_amount_dong)
SELECT market_id, day, SUM(credits), SUM(amount_dong), SUM(dynamic_credits), SUM(dynamic_amount_dong),
    SUM(static_credits), SUM(static_amount_dong), SUM(unmatched_credits), SUM(unmatched_amount_dong),
    SUM(assigned_credits), SUM(assigned_amount_dong)
FROM credit_days GROUP BY market_id, day;

-- Adds what a statement changed in `credit_days` (its transition tables: the rows after, minus
-- the rows before) to the session's shard, once per market and day, in key order (locks are taken
-- in one order, after the statement's own). A trigger with transition tables takes one event, so
-- this function serves three triggers; PL/pgSQL keeps each statement's plan per session.
CREATE FUNCTION chopay_add_to_market_days() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    session_shard SMALLINT := COALESCE(NULLIF(current_setting('chopay.shard', TRUE), ''), '0')::SMALLINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO market_days AS m (market_id, day, shard, credits, amount_dong, dynamic_credits,
            dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits,
            unmatched_amount_dong, assigned_credits, assigned_amount_dong)
        SELECT market_id, day, session_shard, SUM(credits), SUM(amount_dong), SUM(dynamic_credits),
            SUM(dynamic_amount_dong), SUM(static_credits), SUM(static_amount_dong),
            SUM(unmatched_credits), SUM(unmatched_amount_dong), SUM(assigned_credits),
            SUM(assigned_amount_dong)
        FROM rows_after AS change
        GROUP BY market_id, day ORDER BY market_id, day
        ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = m.credits + excluded.credits,
            amount_dong = m.amount_dong + excluded.amount_dong,
            dynamic_credits = m.dynamic_credits + excluded.dynamic_credits,
            dynamic_amount_dong = m.dynamic_amount_dong + excluded.dynamic_amount_dong,
            static_credits = m.static_credits + excluded.static_credits,
            static_amount_dong = m.static_amount_dong + excluded.static_amount_dong,
            unmatched_credits = m.unmatched_credits + excluded.unmatched_credits,
            unmatched_amount_dong = m.unmatched_amount_dong + excluded.unmatched_amount_dong,
            assigned_credits = m.assigned_credits + excluded.assigned_credits,
            assigned_amount_dong = m.assigned_amount_dong + excluded.assigned_amount_dong;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO market_days AS m (market_id, day, shard, credits, amount_dong, dynamic_credits,
            dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits,
            unmatched_amount_dong, assigned_credits, assigned_amount_dong)
        SELECT market_id, day, session_shard, SUM(credits), SUM(amount_dong), SUM(dynamic_credits),
            SUM(dynamic_amount_dong), SUM(static_credits), SUM(static_amount_dong),
            SUM(unmatched_credits), SUM(unmatched_amount_dong), SUM(assigned_credits),
            SUM(assigned_amount_dong)
        FROM (SELECT market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong FROM rows_after UNION ALL SELECT market_id, day, -credits, -amount_dong, -dynamic_credits, -dynamic_amount_dong, -static_credits, -static_amount_dong, -unmatched_credits, -unmatched_amount_dong, -assigned_credits, -assigned_amount_dong FROM rows_before) AS change
        GROUP BY market_id, day ORDER BY market_id, day
        ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = m.credits + excluded.credits,
            amount_dong = m.amount_dong + excluded.amount_dong,
            dynamic_credits = m.dynamic_credits + excluded.dynamic_credits,
            dynamic_amount_dong = m.dynamic_amount_dong + excluded.dynamic_amount_dong,
            static_credits = m.static_credits + excluded.static_credits,
            static_amount_dong = m.static_amount_dong + excluded.static_amount_dong,
            unmatched_credits = m.unmatched_credits + excluded.unmatched_credits,
            unmatched_amount_dong = m.unmatched_amount_dong + excluded.unmatched_amount_dong,
            assigned_credits = m.assigned_credits + excluded.assigned_credits,
            assigned_amount_dong = m.assigned_amount_dong + excluded.assigned_amount_dong;
    ELSE
        INSERT INTO market_days AS m (market_id, day, shard, credits, amount_dong, dynamic_credits,
            dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits,
            unmatched_amount_dong, assigned_credits, assigned_amount_dong)
        SELECT market_id, day, session_shard, SUM(credits), SUM(amount_dong), SUM(dynamic_credits),
            SUM(dynamic_amount_dong), SUM(static_credits), SUM(static_amount_dong),
            SUM(unmatched_credits), SUM(unmatched_amount_dong), SUM(assigned_credits),
            SUM(assigned_amount_dong)
        FROM (SELECT market_id, day, -credits AS credits, -amount_dong AS amount_dong, -dynamic_credits AS dynamic_credits, -dynamic_amount_dong AS dynamic_amount_dong, -static_credits AS static_credits, -static_amount_dong AS static_amount_dong, -unmatched_credits AS unmatched_credits, -unmatched_amount_dong AS unmatched_amount_dong, -assigned_credits AS assigned_credits, -assigned_amount_dong AS assigned_amount_dong FROM rows_before) AS change
        GROUP BY market_id, day ORDER BY market_id, day
        ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = m.credits + excluded.credits,
            amount_dong = m.amount_dong + excluded.amount_dong,
            dynamic_credits = m.dynamic_credits + excluded.dynamic_credits,
            dynamic_amount_dong = m.dynamic_amount_dong + excluded.dynamic_amount_dong,
            static_credits = m.static_credits + excluded.static_credits,
            static_amount_dong = m.static_amount_dong + excluded.static_amount_dong,
            unmatched_credits = m.unmatched_credits + excluded.unmatched_credits,
            unmatched_amount_dong = m.unmatched_amount_dong + excluded.unmatched_amount_dong,
            assigned_credits = m.assigned_credits + excluded.assigned_credits,
            assigned_amount_dong = m.assigned_amount_dong + excluded.assigned_amount_dong;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER credit_days_inserted AFTER INSERT ON credit_days REFERENCING NEW TABLE AS rows_after
    FOR EACH STATEMENT EXECUTE FUNCTION chopay_add_to_market_days();
CREATE TRIGGER credit_days_updated AFTER UPDATE ON credit_days
    REFERENCING OLD TABLE AS rows_before NEW TABLE AS rows_after
    FOR EACH STATEMENT EXECUTE FUNCTION chopay_add_to_market_days();
CREATE TRIGGER credit_days_deleted AFTER DELETE ON credit_days REFERENCING OLD TABLE AS rows_before
    FOR EACH STATEMENT EXECUTE FUNCTION chopay_add_to_market_days();
