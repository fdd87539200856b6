"""Automatic persisted queries: Apollo Client's link against the live server (Node), over
HTTP and over WebSocket (GraphQLWsLink), and the allow-list mode over plain HTTP
(tests/test_persisted_ws.py holds both WebSocket subprotocols)."""

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx

from graph import catalog_writes
from graph.engine import GraphEngine
from server.persisted import REDIS_PREFIX
from server.redis import connect_redis
from server.settings import Settings
from tests.support import LiveServer, make_settings, user_token
from tests.support.node_clients import run_node

TRACK = "query Track($id: ID!) { track(id: $id) { id title } }"
OTHER = "{ genres { name } }"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _untyped(value: Any) -> Any:
    """Apollo Client's result without the `__typename` it adds."""
    if isinstance(value, dict):
        return {k: _untyped(v) for k, v in value.items() if k != "__typename"}
    if isinstance(value, list):
        return [_untyped(v) for v in value]
    return value


async def _track(engine: GraphEngine) -> dict[str, Any]:
    [track] = await catalog_writes.create_tracks(
        engine, [{"title": "So What", "artist_names": ["Miles Davis"]}]
    )
    return track


async def test_apollo_link_registers_once_then_sends_only_the_hash(
    engine: GraphEngine, live: LiveServer
) -> None:
    track = await _track(engine)
    runs = await run_node("apq.mjs", f"{live.url}/graphql", track["id"])
    expected = {"id": track["id"], "title": "So What", "artists": [{"name": "Miles Davis"}]}
    for run in (runs["first"], runs["second"]):
        assert _untyped(run["data"]["track"]) == expected
    # First launch: the hash alone by GET, PERSISTED_QUERY_NOT_FOUND, then the document.
    first = runs["first"]["requests"]
    assert [(r["method"], r["sentDocument"]) for r in first] == [("GET", False), ("POST", True)]
    assert first[0]["codes"] == ["PERSISTED_QUERY_NOT_FOUND"] and first[0]["status"] == 200
    assert first[1]["codes"] == []
    # Second launch: the hash alone, by GET, answered.
    second = runs["second"]["requests"]
    assert [(r["method"], r["sentDocument"], r["codes"]) for r in second] == [("GET", False, [])]


async def test_apollo_link_over_a_websocket_registers_its_hash(
    engine: GraphEngine, live: LiveServer, settings: Settings
) -> None:
    track = await _track(engine)
    _, token = await user_token(engine, settings, "user")
    ws_url = live.url.replace("http://", "ws://") + "/graphql"
    runs = await run_node("apq_ws.mjs", ws_url, token, track["id"])
    expected = {"id": track["id"], "title": "So What", "artists": [{"name": "Miles Davis"}]}
    for run in (runs["first"], runs["second"]):
        assert _untyped(run["data"]["track"]) == expected
    # Over a socket the link sends the document beside its hash (it leaves the document
    # out only through HttpLink): the server checks the hash, registers it and answers.
    for run in (runs["first"], runs["second"]):
        assert [(m["sentDocument"], m["codes"]) for m in run["messages"]] == [(True, [])]
    # Registered: a client may now run it by that hash alone, over HTTP too.
    digest = runs["first"]["messages"][0]["hash"]
    assert digest == runs["second"]["messages"][0]["hash"] and len(digest) == 64
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        by_hash = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        variables = json.dumps({"id": track["id"]})
        reply = await http.get(
            "/graphql", params={"extensions": json.dumps(by_hash), "variables": variables}
        )
    assert _untyped(reply.json()["data"]["track"]) == expected


async def test_a_registered_hash_is_shared_through_redis(
    live: LiveServer, settings: Settings
) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": _hash(OTHER)}}
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        body = {"query": OTHER, "extensions": extensions}
        assert (await http.post("/graphql", json=body)).json()["data"] == {"genres": []}
    db = connect_redis(settings.resolved_redis_url)
    try:
        assert await db.get(REDIS_PREFIX + _hash(OTHER)) == OTHER
    finally:
        await db.aclose()


async def test_bad_hashes_get_stable_codes(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
        reply = await http.post("/graphql", json={"query": OTHER, "extensions": wrong})
        assert reply.status_code == 400
        assert reply.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
        params = {"extensions": json.dumps(wrong)}
        reply = await http.get("/graphql", params=params)
        assert reply.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        reply = await http.get("/graphql", params={"extensions": "{not json"})
        assert reply.status_code == 400


async def test_allowlist_mode_runs_only_the_manifest(
    engine: GraphEngine, falkordb_server: Any, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    operations = [{"id": _hash(TRACK), "name": "Track", "type": "query", "body": TRACK}]
    manifest.write_text(
        json.dumps({"format": "apollo-persisted-query-manifest", "operations": operations})
    )
    settings = make_settings(
        falkordb_server, persisted_queries="allowlist", persisted_queries_file=str(manifest)
    )
    track = await _track(engine)
    server = LiveServer(engine, settings)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            by_hash = {
                "variables": json.dumps({"id": track["id"]}),
                "extensions": json.dumps(
                    {"persistedQuery": {"version": 1, "sha256Hash": _hash(TRACK)}}
                ),
            }
            reply = await http.get("/graphql", params=by_hash)
            assert reply.json() == {"data": {"track": {"id": track["id"], "title": "So What"}}}
            # The manifest's document sent in full runs too; any other does not.
            body = {"query": TRACK, "variables": {"id": track["id"]}}
            assert (await http.post("/graphql", json=body)).json()["data"]["track"]
            reply = await http.post("/graphql", json={"query": OTHER})
            assert reply.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
            # Nor can a client register one.
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": _hash(OTHER)}}
            reply = await http.post("/graphql", json={"query": OTHER, "extensions": extensions})
            assert reply.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
            reply = await http.get("/graphql", params={"extensions": json.dumps(extensions)})
            assert reply.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    finally:
        await server.stop()
