"""Persisted queries over both GraphQL WebSocket subprotocols, as over HTTP: a hash
instead of a document, PERSISTED_QUERY_NOT_FOUND answered as a result (Apollo's cue to
send the document), and in allow-list mode nothing else runs, subscriptions included."""

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, make_settings, user_token
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, open_socket

SUBPROTOCOLS = [TRANSPORT_WS, LEGACY_WS]

COUNT = "query Count { tracks { totalCount } }"
OTHER = "query Other { artists(first: 1) { totalCount } }"
ADDED = "subscription Added { mediaAdded { track { title } } }"
CREATE = 'mutation($t: String!) { createTrack(input: {title: $t, artistNames: ["Sun Ra"]}) { id } }'


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _by_hash(document: str, with_text: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": _hash(document)}}
    }
    if with_text:
        payload["query"] = document
    return payload


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return [e["extensions"]["code"] for e in errors]


@pytest.mark.parametrize("subprotocol", SUBPROTOCOLS)
async def test_a_query_registers_once_then_runs_by_hash(
    live: LiveServer, engine: GraphEngine, settings: Settings, subprotocol: str
) -> None:
    _, token = await user_token(engine, settings, "user")
    document = f"query Count{subprotocol.replace('-', '')} {{ tracks {{ totalCount }} }}"
    socket = await open_socket(live.url, subprotocol, token)
    try:
        unknown = await socket.result(_by_hash(document))
        assert _codes(unknown["errors"]) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert "data" not in unknown
        registered = await socket.result(_by_hash(document, with_text=True))
        by_hash = await socket.result(_by_hash(document))
        wrong = await socket.result({"query": OTHER, **_by_hash(COUNT)})
    finally:
        await socket.ws.close()
    assert isinstance(registered["data"]["tracks"]["totalCount"], int)
    assert by_hash == registered
    assert _codes(wrong["refused"]) == ["VALIDATION_ERROR"]


@pytest.mark.parametrize("subprotocol", SUBPROTOCOLS)
async def test_a_subscription_runs_by_hash(
    live: LiveServer,
    gql: GraphQLClient,
    engine: GraphEngine,
    settings: Settings,
    subprotocol: str,
) -> None:
    _, token = await user_token(engine, settings, "user")
    name = "Added" + subprotocol.replace("-", "")  # a document no other test registered
    added = ADDED.replace("subscription Added", "subscription " + name)
    socket = await open_socket(live.url, subprotocol, token)
    try:
        unknown = await socket.result(_by_hash(added))
        assert _codes(unknown["errors"]) == ["PERSISTED_QUERY_NOT_FOUND"]
        # Registered by a first subscription sent in full, then subscribed by hash.
        first = await socket.send(_by_hash(added, with_text=True))
        second = await socket.send(_by_hash(added))
        await asyncio.sleep(0.3)
        await gql.query(CREATE, {"t": f"Hashed {subprotocol}"})
        got = [await socket.recv(), await socket.recv()]
    finally:
        await socket.ws.close()
    assert sorted(m["id"] for m in got) == sorted([first, second])
    for message in got:
        assert message["type"] in ("next", "data"), message
        assert message["payload"]["data"]["mediaAdded"]["track"]["title"] == (
            f"Hashed {subprotocol}"
        )


async def test_allowlist_mode_holds_over_both_subprotocols(
    engine: GraphEngine, falkordb_server: EmbeddedServer, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({_hash(COUNT): COUNT}))
    settings = make_settings(
        falkordb_server, persisted_queries="allowlist", persisted_queries_file=str(manifest)
    )
    _, token = await user_token(engine, settings, "user")
    server = LiveServer(engine, settings)
    await server.start()
    try:
        for subprotocol in SUBPROTOCOLS:
            socket = await open_socket(server.url, subprotocol, token)
            try:
                listed = await socket.result(_by_hash(COUNT))
                in_full = await socket.result({"query": COUNT})
                other = await socket.result({"query": OTHER})
                registering = await socket.result(_by_hash(OTHER, with_text=True))
                subscription = await socket.result({"query": ADDED})
            finally:
                await socket.ws.close()
            assert isinstance(listed["data"]["tracks"]["totalCount"], int), subprotocol
            assert in_full == listed
            for refused in (other, registering, subscription):
                assert _codes(refused["refused"]) == ["PERSISTED_QUERY_NOT_ALLOWED"], (
                    subprotocol,
                    refused,
                )
    finally:
        await server.stop()
