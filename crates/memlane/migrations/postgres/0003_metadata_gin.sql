-- memlane schema version 3: a GIN index on metadata (jsonb_path_ops), for filtered listings and counts.
-- A filter's metadata equalities become a containment (`metadata @> '{"category": "news"}'`) that this index answers,
-- so a filter that few or none of a scope's memories pass is found without walking the scope (see
-- src/postgres/read.rs, `list`). jsonb_path_ops: smaller and faster than the default operator class, and containment
-- is the only operator memlane asks of it.
-- Built in the migration's transaction (CREATE INDEX CONCURRENTLY cannot run in one): writes to the table wait for
-- it, which on a large table takes a while; such an installation may create the same index CONCURRENTLY beforehand
-- (IF NOT EXISTS then skips it here).

CREATE INDEX IF NOT EXISTS memlane_memories_metadata ON memlane_memories USING gin (metadata jsonb_path_ops);
