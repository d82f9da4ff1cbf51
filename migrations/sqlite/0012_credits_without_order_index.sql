-- No query reads credits by their order: an order carries its paid total, and the listings and
-- exports read credits by market, by stall or by id. The index cost the ledger one more B-tree
-- insert per payment of an order, on a page of its own (orders are paid in any order), in every
-- batch's write-ahead log. Never edit once landed.

DROP INDEX credits_by_order;
