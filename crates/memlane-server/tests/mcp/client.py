"""A real MCP client (the official Python SDK, `mcp` on PyPI) driving memlane's MCP tools.

    client.py http URL KEY_A KEY_B   # streamable HTTP at URL (e.g. http://127.0.0.1:PORT/mcp), two tenants' keys
    client.py stdio COMMAND ARG...   # stdio: starts COMMAND (e.g. `memlane --store DIR mcp`) and talks to it

Run by crates/memlane-server/tests/mcp.rs and crates/memlane-cli/tests/mcp.rs. Exits non-zero (with a traceback)
on the first check that fails; prints one line per passed part.
"""

import asyncio
import sys
import uuid

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

TOOLS = {"add", "get", "update", "delete", "list", "search", "count", "forget"}


def ok(result):
    """The structured content of a successful tool result."""
    assert not result.is_error, f"tool error: {result.structured_content}"
    assert isinstance(result.structured_content, dict), result
    # Hosts that only read text get the same JSON.
    assert result.content and result.content[0].type == "text", result.content
    return result.structured_content


def err(result, code):
    """The error object of a failed tool result, checked to have `code`."""
    assert result.is_error, f"expected a {code} error, got {result.structured_content}"
    e = result.structured_content["error"]
    assert e["code"] == code, e
    assert e["message"], e
    return e


async def check_tools(client):
    listed = await client.list_tools()
    names = {t.name for t in listed.tools}
    assert names == TOOLS, names
    for t in listed.tools:
        assert t.description, t.name
        schema = t.input_schema
        assert schema["type"] == "object", (t.name, schema)
        for prop, s in schema.get("properties", {}).items():
            assert "description" in s or "items" in s or "$ref" in s, (t.name, prop, s)
    search = next(t for t in listed.tools if t.name == "search")
    assert search.input_schema["required"] == ["text"], search.input_schema
    assert set(search.input_schema["properties"]["mode"]["enum"]) == {"keyword", "semantic", "hybrid"}
    assert search.annotations.read_only_hint is True
    forget = next(t for t in listed.tools if t.name == "forget")
    assert forget.annotations.destructive_hint is True


async def check_operations(client, user):
    """Every tool, in one tenant, on the memories of `user` (fresh)."""
    added = ok(await client.call_tool("add", {"memories": [
        {"content": "Alice prefers dark mode in every editor", "user": user, "metadata": {"topic": "ui"}},
        {"content": "Alice flew to Lisbon in May", "user": user, "kind": "episode", "ttl": "7d"},
    ]}))
    assert [r["created"] for r in added["results"]] == [True, True], added
    first, second = (r["memory"] for r in added["results"])
    assert first["scope"]["user"] == user and first["kind"] == "fact" and first["version"] == 1, first
    assert second["kind"] == "episode" and "expires_at" in second, second
    assert "embedding" not in first, first

    got = ok(await client.call_tool("get", {"id": first["id"]}))
    assert got["content"] == "Alice prefers dark mode in every editor" and got["metadata"] == {"topic": "ui"}, got

    found = ok(await client.call_tool("search", {"text": "dark mode", "user": user, "limit": 5}))
    assert found["results"], found
    assert found["results"][0]["memory"]["id"] == first["id"], found
    assert 0.0 < found["results"][0]["score"] <= 1.0, found

    page = ok(await client.call_tool("list", {"user": user, "limit": 1}))
    assert len(page["memories"]) == 1 and page["next"], page
    rest = ok(await client.call_tool("list", {"user": user, "limit": 1, "cursor": page["next"]}))
    assert len(rest["memories"]) == 1 and rest["next"] is None, rest
    assert {page["memories"][0]["id"], rest["memories"][0]["id"]} == {first["id"], second["id"]}

    assert ok(await client.call_tool("count", {"user": user}))["count"] == 2
    episodes = {"user": user, "filter": {"field": "kind", "eq": "episode"}}
    assert ok(await client.call_tool("count", episodes))["count"] == 1

    updated = ok(await client.call_tool("update", {
        "id": first["id"], "content": "Alice prefers dark mode", "expected_version": 1,
    }))
    assert updated["version"] == 2 and updated["content"] == "Alice prefers dark mode", updated
    e = err(await client.call_tool("update", {"id": first["id"], "content": "x", "expected_version": 1}), "conflict")
    assert e["current_version"] == 2, e

    # Errors carry memlane's stable codes and name the argument.
    e = err(await client.call_tool("add", {"memories": [{"content": "x", "kind": "fakt"}]}), "invalid_input")
    assert e["field"] == "memories[0].kind", e
    e = err(await client.call_tool("count", {"tenant": "someone-else"}), "invalid_input")
    assert "tenant" in e["message"], e
    err(await client.call_tool("get", {"id": str(uuid.uuid4())}), "not_found")
    e = err(await client.call_tool("forget", {}), "invalid_input")
    assert e["field"] == "all", e
    err(await client.call_tool("list", {"filter": {"field": "nope", "eq": 1}}), "invalid_input")

    deleted = ok(await client.call_tool("delete", {"id": second["id"]}))
    assert deleted == {"deleted": True, "id": second["id"]}, deleted
    err(await client.call_tool("get", {"id": second["id"]}), "not_found")
    assert ok(await client.call_tool("forget", {"user": user}))["deleted"] == 1
    assert ok(await client.call_tool("count", {"user": user}))["count"] == 0
    return first["id"]


async def check_isolation(url, key_a, key_b, mode):
    """Tenant b can neither read, list, search, count, update, delete nor forget tenant a's memories."""
    user = f"carol-{mode}"
    async with http_client(url, key_a, mode) as a:
        added = ok(await a.call_tool("add", {"memories": [{"content": "Carol's locker code is 4711", "user": user}]}))
        mine = added["results"][0]["memory"]["id"]
    async with http_client(url, key_b, mode) as b:
        err(await b.call_tool("get", {"id": mine}), "not_found")
        err(await b.call_tool("update", {"id": mine, "content": "stolen"}), "not_found")
        err(await b.call_tool("delete", {"id": mine}), "not_found")
        assert ok(await b.call_tool("search", {"text": "locker code", "user": user}))["results"] == []
        assert ok(await b.call_tool("list", {"user": user}))["memories"] == []
        assert ok(await b.call_tool("count", {}))["count"] == 0
        assert ok(await b.call_tool("forget", {"user": user}))["deleted"] == 0
        assert ok(await b.call_tool("forget", {"all": True}))["deleted"] == 0
    async with http_client(url, key_a, mode) as a:
        got = ok(await a.call_tool("get", {"id": mine}))
        assert got["content"] == "Carol's locker code is 4711" and got["version"] == 1, got
        assert ok(await a.call_tool("forget", {"all": True}))["deleted"] >= 1


def http_client(url, key, mode):
    transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}))
    return Client(transport, mode=mode)


async def check_unauthorized(url):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer wrong-key-0123456789"}):
        # One connection per request: the server answers 401 without reading the body, and then closes the
        # connection, which a reused connection would see as a disconnect.
        async with httpx2.AsyncClient() as h:
            r = await h.post(url, json=body, headers={**headers, **auth})
            assert r.status_code == 401, (auth, r.status_code, r.text)
            assert r.json()["error"]["code"] == "unauthorized", r.text
            assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), r.headers
    failed = False
    try:
        async with http_client(url, "wrong-key-0123456789", "legacy") as c:
            await c.list_tools()
    except Exception:  # the SDK raises its own error for a 401
        failed = True
    assert failed, "a client with a wrong key connected"


async def check_protocol_edges(url, key):
    """What is not a tool call: an unknown tool, the event stream, an oversized body."""
    async with http_client(url, key, "legacy") as client:
        try:
            await client.call_tool("no_such_tool", {})
            raise AssertionError("an unknown tool was called")
        except MCPError as e:
            assert e.error.code == -32602, e.error
    auth = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient() as h:
        r = await h.get(url, headers={**auth, "Accept": "text/event-stream"})
        assert r.status_code == 405, (r.status_code, r.text)
    big = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
           "params": {"name": "add", "arguments": {"memories": [{"content": "x" * (3 << 20)}]}}}
    async with httpx2.AsyncClient() as h:
        r = await h.post(url, json=big, headers=auth)
        assert r.status_code == 413, (r.status_code, r.text)
        assert r.json()["error"]["code"] == "too_large", r.text


async def main_http(url, key_a, key_b):
    # "auto" negotiates the newest protocol (2026-07-28, stateless); "legacy" is the initialize handshake of
    # the hosts of 2025.
    for mode in ("auto", "legacy"):
        async with http_client(url, key_a, mode) as client:
            await check_tools(client)
            await check_operations(client, f"alice-{mode}")
            print(f"http {mode} ({client.protocol_version}): tools and operations ok", flush=True)
        await check_isolation(url, key_a, key_b, mode)
        print(f"http {mode}: tenant isolation ok", flush=True)
    await check_unauthorized(url)
    print("http: wrong or missing key is 401", flush=True)
    await check_protocol_edges(url, key_a)
    print("http: unknown tool, GET and oversized body refused", flush=True)


async def main_stdio(command, args):
    params = StdioServerParameters(command=command, args=args)
    # A new server process per mode: the newest protocol, then the initialize handshake (Claude Desktop & co).
    for mode in ("auto", "legacy"):
        async with Client(params, mode=mode) as client:
            await check_tools(client)
            await check_operations(client, f"alice-stdio-{mode}")
            if mode == "legacy":
                # One memory stays, for the caller to find in the tenant the server was started for.
                ok(await client.call_tool("add", {"memories": [{"content": "Dave likes tea", "user": "dave"}]}))
            print(f"stdio {mode} ({client.protocol_version}): tools and operations ok", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "http":
        asyncio.run(main_http(*sys.argv[2:]))
    elif len(sys.argv) >= 3 and sys.argv[1] == "stdio":
        asyncio.run(main_stdio(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(__doc__)
