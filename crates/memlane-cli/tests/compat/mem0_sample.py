"""Produces real mem0 `get_all` output for crates/memlane-cli/tests/import_compat.rs.

Runs mem0 (the `mem0ai` package, pinned in scripts/setup/requirements-compat.txt) fully offline: `infer=False` (no
LLM is called), LangChain's DeterministicFakeEmbedding through mem0's `langchain` embedder provider (no model
download), a local on-disk Qdrant, telemetry off. Writes the JSON of two `get_all` calls: user alice, and run r1.

    python mem0_sample.py OUT_ALICE.json OUT_RUN.json WORKDIR
"""

import json
import os
import sys

os.environ["MEM0_TELEMETRY"] = "False"
os.environ.setdefault("OPENAI_API_KEY", "unused-no-llm-is-called")

out_alice, out_run, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.environ["MEM0_DIR"] = os.path.join(work, "mem0home")

from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402
from mem0 import Memory  # noqa: E402

config = {
    "embedder": {"provider": "langchain", "config": {"model": DeterministicFakeEmbedding(size=16)}},
    "vector_store": {
        "provider": "qdrant",
        "config": {"collection_name": "memlane_test", "path": os.path.join(work, "qdrant"), "embedding_model_dims": 16},
    },
    "history_db_path": os.path.join(work, "history.db"),
}
m = Memory.from_config(config)

m.add("Alice prefers dark mode in her editor", user_id="alice", metadata={"source": "chat", "confidence": 0.9}, infer=False)
m.add("Alice is allergic to peanuts", user_id="alice", metadata={"category": "health"}, infer=False)
m.add([{"role": "user", "content": "I moved to Lisbon last spring"}], user_id="alice", infer=False)
m.add("Bob's build runs on ci-3", user_id="bob", agent_id="helper", run_id="r1", infer=False)
m.add("Deploys happen on Fridays", user_id="bob", agent_id="helper", run_id="r1", expiration_date="2999-12-31", infer=False)

alice = m.get_all(filters={"user_id": "alice"}, top_k=100)
run = m.get_all(filters={"run_id": "r1"}, top_k=100)
with open(out_alice, "w") as f:
    json.dump(alice, f, default=str)
with open(out_run, "w") as f:
    json.dump(run, f, default=str)
print(json.dumps({"alice": len(alice["results"]), "run": len(run["results"])}))
