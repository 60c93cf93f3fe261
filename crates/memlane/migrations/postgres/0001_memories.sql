-- memlane schema version 1: the memories table and its indexes.
-- Applied once by memlane at start-up (see src/postgres/schema.rs), in one transaction, under an advisory lock.

CREATE TABLE memlane_memories (
    tenant          text COLLATE "C" NOT NULL,
    id              uuid NOT NULL,
    user_id         text COLLATE "C",
    agent_id        text COLLATE "C",
    session_id      text COLLATE "C",
    kind            text COLLATE "C" NOT NULL,
    content         text COLLATE "C" NOT NULL,
    metadata        jsonb NOT NULL,
    embedding_model text COLLATE "C",
    embedding       real[],
    embedding_dim   integer GENERATED ALWAYS AS (cardinality(embedding)) STORED,
    -- Times are whole milliseconds since the Unix epoch (UTC), exactly as memlane keeps them.
    created_ms      bigint NOT NULL,
    updated_ms      bigint NOT NULL,
    expires_ms      bigint,
    version         bigint NOT NULL,
    content_hash    text COLLATE "C" NOT NULL,
    -- The text search configuration the row was indexed with (the store's `text_search_config` when written).
    ts_config       regconfig NOT NULL DEFAULT 'english',
    fts             tsvector GENERATED ALWAYS AS (to_tsvector(ts_config, content)) STORED,
    PRIMARY KEY (tenant, id),
    CHECK ((embedding IS NULL) = (embedding_model IS NULL))
);

-- Newest-first listings of a tenant, user, agent or session (and cursors into them).
CREATE INDEX memlane_memories_tenant_created ON memlane_memories (tenant, created_ms DESC, id DESC);
CREATE INDEX memlane_memories_user_created ON memlane_memories (tenant, user_id, created_ms DESC, id DESC);
CREATE INDEX memlane_memories_agent_created ON memlane_memories (tenant, agent_id, created_ms DESC, id DESC);
CREATE INDEX memlane_memories_session_created ON memlane_memories (tenant, session_id, created_ms DESC, id DESC);
-- Deduplication by content in a scope.
CREATE INDEX memlane_memories_hash ON memlane_memories (tenant, content_hash);
-- The purge of expired memories.
CREATE INDEX memlane_memories_expiry ON memlane_memories (expires_ms) WHERE expires_ms IS NOT NULL;
-- Keyword search.
CREATE INDEX memlane_memories_fts ON memlane_memories USING gin (fts);
