-- Board figures: a market's days in date order, so a date range reads only its own rollup rows
-- (the primary key leads with the stall). Never edit once landed.

CREATE INDEX credit_days_by_market_day ON credit_days (market_id, day);
