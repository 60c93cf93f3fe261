-- memlane schema version 2: the outbox (change log) that a composite store replays into its other tiers.
-- Rows are written only by stores opened with outbox=true, in the same transaction as the write they record.

CREATE TABLE memlane_outbox (
    -- Increasing in commit order: each writing transaction takes the outbox lock before drawing its numbers and
    -- holds it until it commits (see src/postgres/outbox.rs).
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The change (memlane_core::Change as JSON: {"op": "upsert" | "delete" | "forget", ...}).
    change     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Each consumer's position: every change up to `seq` is applied.
CREATE TABLE memlane_outbox_cursors (
    consumer   text COLLATE "C" PRIMARY KEY,
    seq        bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
