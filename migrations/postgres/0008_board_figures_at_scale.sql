-- Board figures at scale: a market's days in date order with every sum in the index itself, so
-- a district's 30 days (thousands of stalls) are an index-only scan, not one heap fetch per row,
-- scattered over a year of writes (benches/scale.rs). It replaces 0004's index on the same
-- leading columns. Never edit once landed.

CREATE INDEX credit_days_by_market_day_sums ON credit_days (market_id, day) INCLUDE (stall_id, credits,
    amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong,
    unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong);
DROP INDEX credit_days_by_market_day;

-- A market's stalls in id order: the pages of its stall lines and the counts of a district's
-- stalls read one range each (PostgreSQL's generic plan otherwise walked every stall by id and
-- filtered on the market: 31.9 → 2.3 ms for a market of 233 stalls among 300 000).
CREATE INDEX stalls_by_market ON stalls (market_id, id);
