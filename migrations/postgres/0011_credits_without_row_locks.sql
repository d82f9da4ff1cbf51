-- The ledger's credits name their stall and order without a foreign-key check, as 0003 did for
-- their channel and market. A check runs once per credit and takes a KEY SHARE lock on the row it
-- checks: every credit of a stall locks the stall's row, every payment its order's, so each batch
-- rewrote those rows' headers (and their pages in the WAL), and the two ledger writers locking the
-- same popular stall made multixacts. `batch-postgres` (benches/callbacks.rs), three alternating
-- runs: 140–167 → 125–147 µs per credit in batches of 16, 76–100 → 64–71 in batches of 64.
--
-- Nothing can break what the checks guarded: chopay deletes no stall and no order, and the ledger
-- writes only ids it has just read (the stall that owns the payee account or the order, the order
-- found by its reference). The books check (src/store/books.rs) counts any credit whose stall,
-- order, channel or market does not exist, and runs after every API test on both databases. The
-- other tables keep their checks. Never edit once landed.

ALTER TABLE credits DROP CONSTRAINT credits_stall_id_fkey, DROP CONSTRAINT credits_order_id_fkey;
