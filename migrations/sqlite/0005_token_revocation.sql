-- Token revocation: a revoked token keeps its row (for the list of who had access) and stops
-- working at once; NULL means in use. Never edit once landed.

ALTER TABLE tokens ADD COLUMN revoked_at_ms INTEGER;
