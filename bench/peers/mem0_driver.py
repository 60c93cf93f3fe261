"""mem0 (open-source `Memory`) as a benchmark driver (protocol.py).

    python mem0_driver.py POSTGRES_URL MODEL_DIR WORK_DIR

mem0 with `infer=False` (no LLM is ever called: the LLM entry of the config is built but unused), its HuggingFace
embedder on the local all-MiniLM-L6-v2 directory, and its pgvector store (HNSW index) on the given database with a
pool of 16 connections. Memories belong to user "u1" with metadata {"category", "n"}.

- add       Memory.add(text, user_id="u1", metadata=..., infer=False)
- get       Memory.get(id)
- list      Memory.get_all(filters={"user_id": "u1", "category": C}, top_k=10)
- semantic  Memory.search(query, filters={"user_id": "u1"}, top_k=5): mem0's only search; it combines the vector
            search with a PostgreSQL full-text ranking of its own (a hybrid by design); measured once, as semantic.

The preload writes the precomputed vectors through mem0's own vector store, with the payload mem0's add writes
(built by mem0's own helpers), in batches of 500: it skips only the per-memory history row in SQLite.
"""

import hashlib
import os
import sys
from datetime import datetime, timezone

from protocol import serve


class Mem0System:
    def __init__(self, url, model_dir, work, w):
        from mem0 import Memory

        self.w = w
        config = {
            "vector_store": {"provider": "pgvector", "config": {
                "connection_string": url, "collection_name": "mem0_bench", "embedding_model_dims": 384,
                "hnsw": True, "minconn": 1, "maxconn": 16}},
            "embedder": {"provider": "huggingface", "config": {"model": model_dir, "embedding_dims": 384}},
            "history_db_path": os.path.join(work, "mem0-history.db"),
        }
        self.m = Memory.from_config(config)
        self.ops = ["add", "get", "list", "semantic", "embed"]
        self.ids = []

    def preload(self):
        from mem0.memory.main import _build_filters_and_metadata
        from mem0.utils.lemmatization import lemmatize_for_bm25

        w = self.w
        ids, vecs, payloads = [], [], []
        import uuid

        for r, v in zip(w.preload, w.vectors):
            meta, _ = _build_filters_and_metadata(user_id="u1", input_metadata={"category": r["category"], "n": r["n"]})
            meta["role"] = "user"
            now = datetime.now(timezone.utc).isoformat()
            meta.update({"data": r["text"], "hash": hashlib.md5(r["text"].encode()).hexdigest(),
                         "created_at": now, "updated_at": now, "text_lemmatized": lemmatize_for_bm25(r["text"])})
            ids.append(str(uuid.uuid4()))
            vecs.append(v.tolist())
            payloads.append(meta)
        for s in range(0, len(ids), 500):
            self.m.vector_store.insert(vectors=vecs[s:s + 500], payloads=payloads[s:s + 500], ids=ids[s:s + 500])
        self.ids = ids
        return len(ids)

    def op(self, name, i):
        w = self.w
        if name == "add":
            r = w.adds[i]
            out = self.m.add(r["text"], user_id="u1", metadata={"category": r["category"], "n": r["n"]},
                             infer=False)
            if len(out["results"]) != 1:
                raise RuntimeError(f"add returned {out}")
        elif name == "get":
            if self.m.get(self.ids[(i * 7919) % len(self.ids)]) is None:
                raise LookupError("a preloaded memory is missing")
        elif name == "list":
            cat = w.categories[i % len(w.categories)]
            out = self.m.get_all(filters={"user_id": "u1", "category": cat}, top_k=10)
            if not out["results"]:
                raise LookupError(f"no memory of category {cat}")
        elif name == "embed":  # the embedding alone, as mem0 calls it
            self.m.embedding_model.embed(w.queries[i]["text"], "search")
        elif name == "semantic":
            out = self.m.search(w.queries[i]["text"], filters={"user_id": "u1"}, top_k=5)
            if not out["results"]:
                raise LookupError("no search result")


def main():
    url, model_dir, work = sys.argv[1], sys.argv[2], sys.argv[3]
    serve(lambda w: Mem0System(url, model_dir, work, w))


if __name__ == "__main__":
    main()
