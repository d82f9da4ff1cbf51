-- A market's sums per Vietnam day, so a board's daily series reads one row per market and day
-- (1 500 for a district's 30 days) instead of adding up every stall's (35 000 at scale;
-- benches/scale.rs). The database keeps it, from every change to `credit_days`, in the same
-- transaction: the ledger, assignments after review and anything written later cannot forget it.
-- `shard` is PostgreSQL's (one row per ledger writer); SQLite has one writer, so it is always 0
-- here. Never edit once landed.

CREATE TABLE market_days (
    market_id             INTEGER NOT NULL REFERENCES markets (id),
    day                   INTEGER NOT NULL,
    shard                 INTEGER NOT NULL DEFAULT 0,
    credits               INTEGER NOT NULL DEFAULT 0,
    amount_dong           INTEGER NOT NULL DEFAULT 0,
    dynamic_credits       INTEGER NOT NULL DEFAULT 0,
    dynamic_amount_dong   INTEGER NOT NULL DEFAULT 0,
    static_credits        INTEGER NOT NULL DEFAULT 0,
    static_amount_dong    INTEGER NOT NULL DEFAULT 0,
    unmatched_credits     INTEGER NOT NULL DEFAULT 0,
    unmatched_amount_dong INTEGER NOT NULL DEFAULT 0,
    assigned_credits      INTEGER NOT NULL DEFAULT 0,
    assigned_amount_dong  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (market_id, day, shard)
) WITHOUT ROWID;

INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong)
SELECT market_id, day, SUM(credits), SUM(amount_dong), SUM(dynamic_credits), SUM(dynamic_amount_dong), SUM(static_credits), SUM(static_amount_dong), SUM(unmatched_credits), SUM(unmatched_amount_dong), SUM(assigned_credits), SUM(assigned_amount_dong)
FROM credit_days GROUP BY market_id, day;

-- Each row of credit_days as it is added, changed (its market and day stay: one upsert of the
-- difference; otherwise out of the old and into the new) or removed.
CREATE TRIGGER credit_days_inserted AFTER INSERT ON credit_days BEGIN
    INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong)
    VALUES (NEW.market_id, NEW.day, NEW.credits, NEW.amount_dong, NEW.dynamic_credits, NEW.dynamic_amount_dong, NEW.static_credits, NEW.static_amount_dong, NEW.unmatched_credits, NEW.unmatched_amount_dong, NEW.assigned_credits, NEW.assigned_amount_dong)
    ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = credits + excluded.credits,
        amount_dong = amount_dong + excluded.amount_dong,
        dynamic_credits = dynamic_credits + excluded.dynamic_credits,
        dynamic_amount_dong = dynamic_amount_dong + excluded.dynamic_amount_dong,
        static_credits = static_credits + excluded.static_credits,
        static_amount_dong = static_amount_dong + excluded.static_amount_dong,
        unmatched_credits = unmatched_credits + excluded.unmatched_credits,
        unmatched_amount_dong = unmatched_amount_dong + excluded.unmatched_amount_dong,
        assigned_credits = assigned_credits + excluded.assigned_credits,
        assigned_amount_dong = assigned_amount_dong + excluded.assigned_amount_dong;
END;
CREATE TRIGGER credit_days_updated AFTER UPDATE ON credit_days
WHEN NEW.market_id = OLD.market_id AND NEW.day = OLD.day BEGIN
    INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong)
    VALUES (NEW.market_id, NEW.day, NEW.credits - OLD.credits, NEW.amount_dong - OLD.amount_dong, NEW.dynamic_credits - OLD.dynamic_credits, NEW.dynamic_amount_dong - OLD.dynamic_amount_dong, NEW.static_credits - OLD.static_credits, NEW.static_amount_dong - OLD.static_amount_dong, NEW.unmatched_credits - OLD.unmatched_credits, NEW.unmatched_amount_dong - OLD.unmatched_amount_dong, NEW.assigned_credits - OLD.assigned_credits, NEW.assigned_amount_dong - OLD.assigned_amount_dong)
    ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = credits + excluded.credits,
        amount_dong = amount_dong + excluded.amount_dong,
        dynamic_credits = dynamic_credits + excluded.dynamic_credits,
        dynamic_amount_dong = dynamic_amount_dong + excluded.dynamic_amount_dong,
        static_credits = static_credits + excluded.static_credits,
        static_amount_dong = static_amount_dong + excluded.static_amount_dong,
        unmatched_credits = unmatched_credits + excluded.unmatched_credits,
        unmatched_amount_dong = unmatched_amount_dong + excluded.unmatched_amount_dong,
        assigned_credits = assigned_credits + excluded.assigned_credits,
        assigned_amount_dong = assigned_amount_dong + excluded.assigned_amount_dong;
END;
CREATE TRIGGER credit_days_moved AFTER UPDATE ON credit_days
WHEN NEW.market_id <> OLD.market_id OR NEW.day <> OLD.day BEGIN
    INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong)
    VALUES (OLD.market_id, OLD.day, -OLD.credits, -OLD.amount_dong, -OLD.dynamic_credits, -OLD.dynamic_amount_dong, -OLD.static_credits, -OLD.static_amount_dong, -OLD.unmatched_credits, -OLD.unmatched_amount_dong, -OLD.assigned_credits, -OLD.assigned_amount_dong)
    ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = credits + excluded.credits,
        amount_dong = amount_dong + excluded.amount_dong,
        dynamic_credits = dynamic_credits + excluded.dynamic_credits,
        dynamic_amount_dong = dynamic_amount_dong + excluded.dynamic_amount_dong,
        static_credits = static_credits + excluded.static_credits,
        static_amount_dong = static_amount_dong + excluded.static_amount_dong,
        unmatched_credits = unmatched_credits + excluded.unmatched_credits,
        unmatched_amount_dong = unmatched_amount_dong + excluded.unmatched_amount_dong,
        assigned_credits = assigned_credits + excluded.assigned_credits,
        assigned_amount_dong = assigned_amount_dong + excluded.assigned_amount_dong;
    INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong)
    VALUES (NEW.market_id, NEW.day, NEW.credits, NEW.amount_dong, NEW.dynamic_credits, NEW.dynamic_amount_dong, NEW.static_credits, NEW.static_amount_dong, NEW.unmatched_credits, NEW.unmatched_amount_dong, NEW.assigned_credits, NEW.assigned_amount_dong)
    ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = credits + excluded.credits,
        amount_dong = amount_dong + excluded.amount_dong,
        dynamic_credits = dynamic_credits + excluded.dynamic_credits,
        dynamic_amount_dong = dynamic_amount_dong + excluded.dynamic_amount_dong,
        static_credits = static_credits + excluded.static_credits,
        static_amount_dong = static_amount_dong + excluded.static_amount_dong,
        unmatched_credits = unmatched_credits + excluded.unmatched_credits,
        unmatched_amount_dong = unmatched_amount_dong + excluded.unmatched_amount_dong,
        assigned_credits = assigned_credits + excluded.assigned_credits,
        assigned_amount_dong = assigned_amount_dong + excluded.assigned_amount_dong;
END;
CREATE TRIGGER credit_days_deleted AFTER DELETE ON credit_days BEGIN
    INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong)
    VALUES (OLD.market_id, OLD.day, -OLD.credits, -OLD.amount_dong, -OLD.dynamic_credits, -OLD.dynamic_amount_dong, -OLD.static_credits, -OLD.static_amount_dong, -OLD.unmatched_credits, -OLD.unmatched_amount_dong, -OLD.assigned_credits, -OLD.assigned_amount_dong)
    ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = credits + excluded.credits,
        amount_dong = amount_dong + excluded.amount_dong,
        dynamic_credits = dynamic_credits + excluded.dynamic_credits,
        dynamic_amount_dong = dynamic_amount_dong + excluded.dynamic_amount_dong,
        static_credits = static_credits + excluded.static_credits,
        static_amount_dong = static_amount_dong + excluded.static_amount_dong,
        unmatched_credits = unmatched_credits + excluded.unmatched_credits,
        unmatched_amount_dong = unmatched_amount_dong + excluded.unmatched_amount_dong,
        assigned_credits = assigned_credits + excluded.assigned_credits,
        assigned_amount_dong = assigned_amount_dong + excluded.assigned_amount_dong;
END;
