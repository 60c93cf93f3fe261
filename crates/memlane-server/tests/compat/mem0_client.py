"""mem0's own client library (`mem0.MemoryClient`, from the `mem0ai` package) against memlane's /compat/mem0.

    mem0_client.py BASE_URL KEY_A KEY_B    # BASE_URL = http://127.0.0.1:PORT/compat/mem0

Run by crates/memlane-server/tests/compat_mem0.rs with MEM0_TELEMETRY=False and MEM0_DIR in a temp dir. Exits
non-zero (with a traceback) on the first check that fails; prints one line per passed part.
"""

import sys
import uuid

from mem0 import MemoryClient
from mem0.exceptions import MemoryNotFoundError, ValidationError


def main(base, key_a, key_b):
    a = MemoryClient(api_key=key_a, host=base)  # pings /v1/ping/ with Authorization: Token <key>
    b = MemoryClient(api_key=key_b, host=base)
    print("ping ok")

    user = f"alice-{uuid.uuid4()}"
    added = a.add(
        [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "I am allergic to peanuts and I live in Lisbon"},
            {"role": "assistant", "content": "Noted: no peanuts, and Lisbon it is"},
        ],
        user_id=user,
        agent_id="chef",
        metadata={"topic": "food"},
    )
    results = added["results"]
    assert [r["event"] for r in results] == ["ADD", "ADD"], added
    assert [r["role"] for r in results] == ["user", "assistant"], added
    first = results[0]["id"]
    assert str(uuid.UUID(first)) == first, first
    print("add ok")

    got = a.get(first)
    assert got["id"] == first, got
    assert got["memory"] == "I am allergic to peanuts and I live in Lisbon", got
    assert got["user_id"] == user and got["agent_id"] == "chef", got
    assert got["role"] == "user", got
    assert got["metadata"] == {"topic": "food"}, got
    assert got["hash"] and got["created_at"] and got["updated_at"], got
    print("get ok")

    listed = a.get_all(filters={"user_id": user})
    assert listed["count"] == 2, listed
    assert {m["id"] for m in listed["results"]} == {r["id"] for r in results}, listed
    paged = a.get_all(filters={"AND": [{"user_id": user}, {"role": "assistant"}]}, page=1, page_size=1)
    assert paged["count"] == 1 and len(paged["results"]) == 1, paged
    assert paged["results"][0]["role"] == "assistant", paged
    print("get_all ok")

    found = a.search("allergic to peanuts", filters={"user_id": user, "topic": "food"}, top_k=5)
    hits = found["results"]
    assert hits and hits[0]["id"] == first, found
    assert 0 < hits[0]["score"] <= 1, found
    none = a.search("peanuts", filters={"user_id": user, "topic": {"ne": "food"}})
    assert none["results"] == [], none
    try:
        a.search("peanuts", filters={"user_id": user, "topic": {"icontains": "FOOD"}})
        raise AssertionError("an unmappable filter must be refused")
    except ValidationError as e:
        assert "icontains" in str(e), e
    print("search ok")

    updated = a.update(first, text="I am allergic to peanuts and I live in Porto", metadata={"topic": "health"})
    assert updated["memory"].endswith("Porto"), updated
    again = a.get(first)
    assert again["memory"].endswith("Porto") and again["metadata"] == {"topic": "health"}, again
    assert again["role"] == "user", again  # mem0's own fields survive a metadata update
    print("update ok")

    history = a.history(first)
    assert [h["event"] for h in history] == ["ADD", "UPDATE"], history
    assert history[-1]["new_memory"].endswith("Porto") and history[0]["memory_id"] == first, history
    print("history ok")

    # Tenant isolation: tenant b sees nothing of tenant a.
    try:
        b.get(first)
        raise AssertionError("tenant b read tenant a's memory")
    except MemoryNotFoundError:
        pass
    assert b.get_all(filters={"user_id": user})["count"] == 0
    assert b.search("peanuts", filters={"user_id": user})["results"] == []
    b.delete_all(user_id=user)
    assert a.get_all(filters={"user_id": user})["count"] == 2
    print("isolation ok")

    deleted = a.delete(first)
    assert "deleted" in deleted["message"], deleted
    try:
        a.get(first)
        raise AssertionError("a deleted memory is still there")
    except MemoryNotFoundError:
        pass
    print("delete ok")

    a.delete_all(user_id=user)
    assert a.get_all(filters={"user_id": user})["count"] == 0
    try:
        a.delete_all()
        raise AssertionError("delete_all without an id must be refused")
    except ValidationError:
        pass
    print("delete_all ok")

    try:
        MemoryClient(api_key="not-a-key-0123456789", host=base)
        raise AssertionError("a wrong key must be refused")
    except ValueError as e:
        assert "API key" in str(e), e
    print("wrong key ok")


if __name__ == "__main__":
    main(*sys.argv[1:4])
