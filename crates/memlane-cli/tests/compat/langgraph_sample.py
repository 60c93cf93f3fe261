"""Fills a LangGraph PostgreSQL store for crates/memlane-cli/tests/import_compat.rs, with LangGraph itself.

Creates the database DBNAME on the server of BASE_URL (a postgres:// URL), then uses
`langgraph.store.postgres.PostgresStore` (pinned in scripts/setup/requirements-compat.txt) to set up its tables and
put items in several namespaces, some with a TTL; prints the new database's URL. With `drop`, drops the database.

    python langgraph_sample.py create BASE_URL DBNAME
    python langgraph_sample.py drop BASE_URL DBNAME
"""

import sys
import time

import psycopg
from psycopg import sql

action, base, dbname = sys.argv[1], sys.argv[2], sys.argv[3]
base = base.split("?", 1)[0]
root, _, _ = base.rpartition("/")
admin = f"{root}/postgres"

with psycopg.connect(admin, autocommit=True) as c:
    if action == "drop":
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        sys.exit(0)
    c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

from langgraph.store.postgres import PostgresStore  # noqa: E402

url = f"{root}/{dbname}"
with PostgresStore.from_conn_string(url, ttl={"default_ttl": None, "refresh_on_read": False}) as store:
    store.setup()
    store.put(("memories", "users", "alice"), "pref-1", {"content": "Alice prefers dark mode", "tags": ["ui"]})
    store.put(("memories", "users", "alice"), "fact-2", {"content": "Alice lives in Lisbon", "confidence": 0.8})
    store.put(("memories", "users", "bob", "threads", "t1"), "note", {"text": "Bob asked about the deploy"})
    store.put(("profiles",), "settings", {"theme": "dark", "language": "pt"})
    store.put(("memories", "users", "alice"), "short-lived", {"content": "Alice is in a meeting"}, ttl=60)
    # An item whose TTL runs out before the import: LangGraph keeps the row until its sweeper runs.
    store.put(("memories", "users", "carol"), "gone", {"content": "Carol's temporary note"}, ttl=1 / 600)
time.sleep(0.3)
print(url)
