-- Board figures at scale: a market's days in date order with every sum in the index itself, so
-- a district's 30 days (thousands of stalls) are an index-only scan, not one heap fetch per row,
-- scattered over a year of writes (benches/scale.rs). It replaces 0004's index on the same
-- leading columns. Never edit once landed.

CREATE INDEX credit_days_by_market_day_sums ON credit_days (market_id, day) INCLUDE (stall_id, credits,
    amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong,
    unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong);
DROP INDEX credit_days_by_market_day;
