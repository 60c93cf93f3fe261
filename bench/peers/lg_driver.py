"""LangGraph's stores as a benchmark driver (protocol.py).

    python lg_driver.py pg-index POSTGRES_URL MODEL_DIR   PostgresStore with its pgvector index (HNSW, cosine)
    python lg_driver.py pg       POSTGRES_URL MODEL_DIR   PostgresStore without an index
    python lg_driver.py inmem    -            MODEL_DIR   InMemoryStore with an index

Memories are items in the namespace ("bench", "u1"), value {"text", "category", "n"}; the index embeds "text" with
sentence-transformers on the local all-MiniLM-L6-v2 directory. PostgresStore gets a psycopg pool of 16 connections
(its documented way to serve concurrent callers). The preload hands LangGraph the precomputed vectors through its
`embed` function (a lookup filled for the preload and emptied after it); every measured operation embeds for real.
"""

import sys
import uuid

from protocol import serve

NS = ("bench", "u1")


class Embedder:
    def __init__(self, model_dir):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(model_dir, device="cpu")
        self.known = {}

    def __call__(self, texts):
        missing = [t for t in texts if t not in self.known]
        fresh = {}
        if missing:
            vecs = self.model.encode(missing, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
            fresh = dict(zip(missing, (v.tolist() for v in vecs)))
        return [self.known[t] if t in self.known else fresh[t] for t in texts]


class LangGraphSystem:
    def __init__(self, kind, url, model_dir, w):
        self.w = w
        self.kind = kind
        self.embed = Embedder(model_dir)
        index = {"dims": 384, "embed": self.embed, "fields": ["text"]}
        if kind == "inmem":
            from langgraph.store.memory import InMemoryStore

            self.store = InMemoryStore(index=index)
        else:
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
            from langgraph.store.postgres import PostgresStore

            self.pool = ConnectionPool(url, min_size=16, max_size=16, open=True,
                                       kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
            if kind == "pg-index":
                index.update({"ann_index_config": {"kind": "hnsw"}, "distance_type": "cosine"})
                self.store = PostgresStore(self.pool, index=index)
            else:
                self.store = PostgresStore(self.pool)
            self.store.setup()
        self.ops = ["add", "get", "list", "embed"] + (["semantic"] if kind != "pg" else [])
        self.keys = []

    def preload(self):
        from langgraph.store.base import PutOp

        w = self.w
        self.embed.known = {r["text"]: v.tolist() for r, v in zip(w.preload, w.vectors)}
        self.keys = [str(uuid.uuid4()) for _ in w.preload]
        for s in range(0, len(w.preload), 500):
            self.store.batch([PutOp(NS, k, dict(r)) for k, r in zip(self.keys[s:s + 500], w.preload[s:s + 500])])
        self.embed.known = {}
        return len(self.keys)

    def op(self, name, i):
        w = self.w
        if name == "add":
            self.store.put(NS, str(uuid.uuid4()), dict(w.adds[i]))
        elif name == "get":
            item = self.store.get(NS, self.keys[(i * 7919) % len(self.keys)])
            if item is None:
                raise LookupError("a preloaded item is missing")
        elif name == "list":
            cat = w.categories[i % len(w.categories)]
            items = self.store.search(NS, filter={"category": cat}, limit=10)
            if not items:
                raise LookupError(f"no item of category {cat}")
        elif name == "embed":  # the embedding alone, as the index calls it
            self.embed([w.queries[i]["text"]])
        elif name == "semantic":
            items = self.store.search(NS, query=w.queries[i]["text"], limit=5)
            if len(items) != 5:
                raise LookupError(f"{len(items)} results instead of 5")


def main():
    kind, url, model_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    serve(lambda w: LangGraphSystem(kind, url, model_dir, w))


if __name__ == "__main__":
    main()
