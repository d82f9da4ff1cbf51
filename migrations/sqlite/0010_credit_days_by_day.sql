-- The stall rollups stored in the order boards read them: a WITHOUT ROWID table whose key is
-- (market, day, stall), so a market's days are one range of the table itself, every sum in it.
-- It replaces the rowid table of 0002, its primary-key index and 0008's covering index on
-- (market_id, day, stall_id, every sum), which held each row a second time: every credit's
-- rollup change wrote the row, then deleted and re-inserted its index entry. Same columns, same
-- uniqueness (market, stall, day); `credit_days_by_stall` and 0009's triggers are rebuilt as
-- they were. Never edit once landed.

CREATE TABLE credit_days_by_day (
    market_id                INTEGER NOT NULL REFERENCES markets (id),
    stall_id                 INTEGER NOT NULL,
    day                      INTEGER NOT NULL,
    credits                  INTEGER NOT NULL DEFAULT 0,
    amount_dong              INTEGER NOT NULL DEFAULT 0,
    dynamic_credits          INTEGER NOT NULL DEFAULT 0,
    dynamic_amount_dong      INTEGER NOT NULL DEFAULT 0,
    static_credits           INTEGER NOT NULL DEFAULT 0,
    static_amount_dong       INTEGER NOT NULL DEFAULT 0,
    unmatched_credits        INTEGER NOT NULL DEFAULT 0,
    unmatched_amount_dong    INTEGER NOT NULL DEFAULT 0,
    assigned_credits         INTEGER NOT NULL DEFAULT 0,
    assigned_amount_dong     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (market_id, day, stall_id)
) WITHOUT ROWID;

INSERT INTO credit_days_by_day (market_id, stall_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong)
SELECT market_id, stall_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong FROM credit_days;

DROP TABLE credit_days;
ALTER TABLE credit_days_by_day RENAME TO credit_days;
CREATE INDEX credit_days_by_stall ON credit_days (stall_id, day);

-- 0009's triggers, unchanged (they went with the old table).
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
