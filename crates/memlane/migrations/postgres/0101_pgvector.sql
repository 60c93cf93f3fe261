-- memlane schema version 101: semantic search with pgvector. Applied only where the `vector` extension exists (memlane
-- creates it first when it can), in one transaction, under the same advisory lock as every migration.

-- The embedding as a pgvector value, derived from the stored real[] (the record of truth).
ALTER TABLE memlane_memories
    ADD COLUMN embedding_vec vector GENERATED ALWAYS AS (embedding::vector) STORED;

-- One row per embedding model and dimension seen ("vector space"), each with its own partial HNSW index.
CREATE TABLE memlane_vector_spaces (
    id         serial PRIMARY KEY,
    model      text COLLATE "C" NOT NULL,
    dim        integer NOT NULL,
    index_name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (model, dim)
);

-- Registers a model and dimension; the first time, makes an HNSW index (cosine) over that space's vectors, unless
-- `max_indexes` spaces already have one or the dimension is over HNSW's limit (2000): such spaces are searched
-- exactly. Values go into the index definition through format('%L'), never by concatenation.
CREATE FUNCTION memlane_ensure_vector_space(p_model text, p_dim integer, p_max_indexes integer)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    space_id integer;
    indexed integer;
BEGIN
    IF EXISTS (SELECT 1 FROM memlane_vector_spaces WHERE model = p_model AND dim = p_dim) THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7395851042360861001);
    INSERT INTO memlane_vector_spaces (model, dim) VALUES (p_model, p_dim)
        ON CONFLICT (model, dim) DO NOTHING RETURNING id INTO space_id;
    IF space_id IS NULL THEN
        RETURN;
    END IF;
    SELECT count(*) INTO indexed FROM memlane_vector_spaces WHERE index_name IS NOT NULL;
    IF p_dim <= 2000 AND indexed < p_max_indexes THEN
        EXECUTE format(
            'CREATE INDEX %I ON memlane_memories USING hnsw ((embedding_vec::vector(%s)) vector_cosine_ops) '
            'WHERE embedding_model = %L AND embedding_dim = %s',
            'memlane_vectors_' || space_id, p_dim, p_model, p_dim);
        UPDATE memlane_vector_spaces SET index_name = 'memlane_vectors_' || space_id WHERE id = space_id;
    END IF;
END
$fn$;
