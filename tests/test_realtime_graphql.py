"""GraphQL subscriptions over both WebSocket subprotocols, against a live server."""

import asyncio
import json
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from graph import catalog_writes
from graph.engine import GraphEngine
from server.auth.keys import token_config
from server.auth.tokens import ACCESS, Tokens
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, user_token
from tests.support.node_clients import run_node

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

MEDIA_ADDED = "subscription { mediaAdded { timestamp track { id title artists { name } } } }"
CREATE = 'mutation($t: String!) { createTrack(input: {title: $t, artistNames: ["Sun Ra"]}) { id } }'


def _ws_url(live: LiveServer, path: str = "/graphql") -> str:
    return live.url.replace("http://", "ws://") + path


async def _first(session: Any, document: str, variables: dict[str, Any] | None = None) -> Any:
    async for result in session.subscribe(gql(document), variable_values=variables):
        return result
    return None


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
async def test_gql_client_receives_media_added_within_a_second(
    live: LiveServer,
    gql: GraphQLClient,
    engine: GraphEngine,
    settings: Settings,
    subprotocol: str,
) -> None:
    _, token = await user_token(engine, settings, "user")
    transport = WebsocketsTransport(
        url=_ws_url(live),
        subprotocols=[subprotocol],
        init_payload={"authorization": f"Bearer {token}"},
    )
    async with Client(transport=transport) as session:
        waiting = asyncio.create_task(_first(session, MEDIA_ADDED))
        await asyncio.sleep(0.3)  # let the subscription reach Redis
        loop = asyncio.get_running_loop()
        sent = loop.time()
        created = await gql.query(CREATE, {"t": "Space Is the Place"})
        event = await asyncio.wait_for(waiting, 1.0)
        assert loop.time() - sent < 1.0
    assert event["mediaAdded"]["track"] == {
        "id": created["createTrack"]["id"],
        "title": "Space Is the Place",
        "artists": [{"name": "Sun Ra"}],
    }
    assert event["mediaAdded"]["timestamp"].endswith("Z")


async def _init(ws: ClientConnection, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 5)))


async def _closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(10):
            await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_bad_credentials_close_with_4403(live: LiveServer) -> None:
    for subprotocol in (TRANSPORT_WS, LEGACY_WS):
        async with connect(_ws_url(live), subprotocols=[subprotocol]) as ws:  # type: ignore[list-item]
            await ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": "Bearer forged.token.x"},
                    }
                )
            )
            assert await _closed_with(ws) == 4403


async def test_protocol_close_codes(live: LiveServer) -> None:
    url = _ws_url(live)
    async with connect(url, subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "subscribe", "id": "1", "payload": {"query": MEDIA_ADDED}})
        )
        assert await _closed_with(ws) == 4401  # subscribe before connection_init
    async with connect(url, subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
        assert (await _init(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "connection_init"}))
        assert await _closed_with(ws) == 4429  # a second connection_init
    async with connect(url, subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
        await _init(ws)
        await ws.send(json.dumps({"type": "no-such-type"}))
        assert await _closed_with(ws) == 4400
    async with connect(url, subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
        await _init(ws)
        for _ in range(2):
            await ws.send(
                json.dumps({"type": "subscribe", "id": "same", "payload": {"query": MEDIA_ADDED}})
            )
        assert await _closed_with(ws) == 4409  # two operations with one id


async def test_connection_init_timeout_closes_with_4408(
    engine: GraphEngine, settings: Settings
) -> None:
    from dataclasses import replace

    server = LiveServer(engine, replace(settings, ws_init_timeout=0.5))
    await server.start()
    try:
        async with connect(_ws_url(server), subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
            assert await _closed_with(ws) == 4408
    finally:
        await server.stop()


async def test_ping_is_answered_with_pong(live: LiveServer) -> None:
    async with connect(_ws_url(live), subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
        await _init(ws)
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "pong"


async def test_subscriptions_per_socket_are_capped(engine: GraphEngine, settings: Settings) -> None:
    from dataclasses import replace

    server = LiveServer(engine, replace(settings, ws_max_subscriptions=3))
    await server.start()
    try:
        async with connect(_ws_url(server), subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
            await _init(ws)
            for i in range(4):
                await ws.send(
                    json.dumps(
                        {"type": "subscribe", "id": str(i), "payload": {"query": MEDIA_ADDED}}
                    )
                )
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert reply["type"] == "error" and reply["id"] == "3"
            assert reply["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
            components = server.server.config.app.state.components  # type: ignore[attr-defined]
            broadcast = components["events"].broadcast
            assert len(broadcast._subscribers.get("media.added", ())) == 3
        for _ in range(100):  # the disconnect frees every subscription
            if not broadcast._subscribers.get("media.added"):
                break
            await asyncio.sleep(0.02)
        assert not broadcast._subscribers.get("media.added")
    finally:
        await server.stop()


async def _subscribe_error(live: LiveServer, token: str | None, document: str) -> Any:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    async with connect(_ws_url(live), subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
        await _init(ws, payload)
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": document}}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    errors = reply["payload"] if reply["type"] == "error" else reply["payload"].get("errors")
    return errors[0]["extensions"]["code"]


async def test_unauthorised_subscriptions_are_refused(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    _, user = await user_token(engine, settings, "user")
    _, other = await user_token(engine, settings, "user")
    status = "subscription { systemStatus { status } }"
    assert await _subscribe_error(live, user, status) == "FORBIDDEN"
    assert await _subscribe_error(live, None, status) == "UNAUTHENTICATED"
    created = await gql.as_(user).query(
        'mutation { createCollection(input: {name: "Mine"}) { id } }'
    )
    private = created["createCollection"]["id"]
    watch = f'subscription {{ collectionChanged(id: "{private}") {{ action }} }}'
    assert await _subscribe_error(live, other, watch) == "NOT_FOUND"


async def test_an_expired_token_ends_the_subscription(
    live: LiveServer, engine: GraphEngine, settings: Settings
) -> None:
    user_id, _ = await user_token(engine, settings, "user")
    config = token_config(settings)
    short = Tokens(type(config)(**{**config.__dict__, "access_ttl": 1, "leeway": 0}))
    token = short.issue(user_id, ACCESS, role="user").token
    async with connect(_ws_url(live), subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
        assert (await _init(ws, {"authorization": f"Bearer {token}"}))["type"] == "connection_ack"
        await ws.send(
            json.dumps({"type": "subscribe", "id": "1", "payload": {"query": MEDIA_ADDED}})
        )
        started = asyncio.get_running_loop().time()
        assert await _closed_with(ws) == 4403
        assert asyncio.get_running_loop().time() - started < 5


async def test_events_reach_subscribers_of_two_api_processes(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    second = LiveServer(engine, settings)
    await second.start()
    try:
        _, token = await user_token(engine, settings, "user")
        sessions = []
        for server in (live, second):
            transport = WebsocketsTransport(
                url=_ws_url(server),
                subprotocols=[TRANSPORT_WS],
                init_payload={"authorization": f"Bearer {token}"},
            )
            client = Client(transport=transport)
            sessions.append((client, await client.connect_async()))
        waiting = [asyncio.create_task(_first(s, MEDIA_ADDED)) for _, s in sessions]
        await asyncio.sleep(0.3)
        await gql.query(CREATE, {"t": "Both"})
        events = await asyncio.wait_for(asyncio.gather(*waiting), 2)
        assert [e["mediaAdded"]["track"]["title"] for e in events] == ["Both", "Both"]
        for client, _ in sessions:
            await client.close_async()
    finally:
        await second.stop()


async def test_legacy_clients_see_queries_complete(
    engine: GraphEngine, live: LiveServer, settings: Settings
) -> None:
    """subscriptions-transport-ws (Apollo's legacy client, Node) over graphql-ws: a query
    or mutation on the socket is answered with `data` and then `complete`, which ends
    the client's operation; a bad id is a result with its code, completed too."""
    [track] = await catalog_writes.create_tracks(
        engine, [{"title": "Lanquidity", "artist_names": ["Sun Ra"]}]
    )
    _, token = await user_token(engine, settings, "user")
    runs = await run_node("legacy_ws.mjs", _ws_url(live), token, track["id"])
    assert runs["found"] == {
        "data": {"track": {"id": track["id"], "title": "Lanquidity"}},
        "codes": [],
        "completed": True,
    }
    assert runs["refused"]["completed"] is True
    assert runs["refused"]["codes"] == ["VALIDATION_ERROR"]
