-- The ledger's one-statement write (src/store/ledger/optimistic.rs) checks at its end that it
-- changed exactly what it decided on, and calls this to undo the whole statement when another
-- writer got there first: 40001 (serialization_failure) says "try again".
CREATE FUNCTION chopay_abort_unless(ok BOOLEAN, reason TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = reason;
    END IF;
    RETURN TRUE;
END
$$;

-- Every credit of a channel names the same channel and market rows. A foreign-key check takes a
-- KEY SHARE lock on the row it checks, so concurrent ledger writers each lock those two rows for
-- every batch (multixacts, WAL). Channels and markets are never deleted, and the ledger takes
-- both ids from the channel row that verified the delivery; the checks on stalls and orders stay.
ALTER TABLE credits DROP CONSTRAINT credits_channel_id_fkey, DROP CONSTRAINT credits_market_id_fkey;
