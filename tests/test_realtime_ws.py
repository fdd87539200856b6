"""The plain /ws event socket, against a live server."""

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, user_token


def _url(live: LiveServer, query: str = "") -> str:
    return live.url.replace("http://", "ws://") + "/ws" + query


async def _recv(ws: ClientConnection, wait: float = 5) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), wait)))


async def _close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(5):
            await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_token_in_query_then_subscribe_and_receive(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    async with connect(_url(live, f"?token={token}")) as ws:
        assert (await _recv(ws))["type"] == "authenticated"
        await ws.send(json.dumps({"type": "subscribe", "event_type": "media.added"}))
        assert await _recv(ws) == {"type": "subscription_confirmed", "event_type": "media.added"}
        await asyncio.sleep(0.2)
        created = await gql.query('mutation { createTrack(input: {title: "Rocket"}) { id } }')
        event = await _recv(ws)
        assert event["type"] == "media.added" and event["event_type"] == "media.added"
        assert event["data"]["track_id"] == created["createTrack"]["id"]
        assert event["data"]["track"]["title"] == "Rocket"
        assert event["timestamp"].endswith("Z")
        await ws.send(json.dumps({"type": "unsubscribe", "event_type": "media.added"}))
        assert (await _recv(ws))["type"] == "unsubscribed"
        await gql.query('mutation { createTrack(input: {title: "Unheard"}) { id } }')
        await ws.send(json.dumps({"type": "ping"}))
        pong = await _recv(ws)  # the next message is the pong, not the event
        assert pong["type"] == "pong" and pong["timestamp"].endswith("Z")


async def test_auth_message_and_failures_close_with_4001(
    live: LiveServer, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    async with connect(_url(live)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert (await _recv(ws))["type"] == "authenticated"
    async with connect(_url(live)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": "forged"}))
        assert await _close_code(ws) == 4001
    async with connect(_url(live, "?token=nope")) as ws:
        assert await _close_code(ws) == 4001
    async with connect(_url(live)) as ws:
        await ws.send(json.dumps({"type": "subscribe", "event_type": "media.added"}))
        assert await _close_code(ws) == 4001


async def test_bad_messages_get_errors_and_the_socket_stays_open(
    live: LiveServer, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    async with connect(_url(live, f"?token={token}")) as ws:
        await _recv(ws)
        cases = [
            ("not json", "INVALID_JSON"),
            ("[1, 2]", "INVALID_MESSAGE"),
            (json.dumps({"type": "dance"}), "UNKNOWN_TYPE"),
            (json.dumps({"type": "subscribe"}), "INVALID_EVENT_TYPE"),
            (json.dumps({"type": "subscribe", "event_type": "secrets.*"}), "INVALID_EVENT_TYPE"),
            (json.dumps({"type": "subscribe", "event_type": "system.status"}), "FORBIDDEN"),
            (
                json.dumps(
                    {"type": "subscribe", "event_type": "collection.col_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"}
                ),
                "NOT_FOUND",
            ),
        ]
        for message, code in cases:
            await ws.send(message)
            reply = await _recv(ws)
            assert reply["type"] == "error" and reply["code"] == code, (message, reply)
        await ws.send(b"\x00binary")
        assert (await _recv(ws))["code"] == "INVALID_MESSAGE"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _recv(ws))["type"] == "pong"


async def test_admins_get_system_status(
    live: LiveServer, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "admin")
    async with connect(_url(live, f"?token={token}")) as ws:
        await _recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "event_type": "system.status"}))
        assert (await _recv(ws))["type"] == "subscription_confirmed"
        components = live.server.config.app.state.components  # type: ignore[attr-defined]
        await components["events"].publish("system.status", "system.status", {"status": "ok"})
        # Seed 000's system_status: {type: "system.status", data, timestamp}.
        event = await _recv(ws)
        assert event["type"] == "system.status" and event["data"] == {"status": "ok"}
        assert isinstance(event["timestamp"], str) and event["timestamp"].endswith("Z")


async def test_subscription_cap(engine: GraphEngine, settings: Settings) -> None:
    from dataclasses import replace

    server = LiveServer(engine, replace(settings, ws_max_subscriptions=2))
    await server.start()
    try:
        _, token = await user_token(engine, settings, "user")
        async with connect(_url(server, f"?token={token}")) as ws:
            await _recv(ws)
            for channel in ("media.added", "track.updated", "track.deleted"):
                await ws.send(json.dumps({"type": "subscribe", "event_type": channel}))
            replies = [await _recv(ws) for _ in range(3)]
            assert [r["type"] for r in replies].count("subscription_confirmed") == 2
            assert any(r.get("code") == "TOO_MANY_SUBSCRIPTIONS" for r in replies)
    finally:
        await server.stop()


PUBLISH_AS_A_WORKER = """
import asyncio, sys
from events import Events

async def main() -> None:
    async with Events(sys.argv[1]) as events:
        await events.publish(sys.argv[2], "processing",
                             {"track_id": sys.argv[3], "stage": "decode", "progress": 0.25,
                              "message": None, "completed": False, "failed": False})

asyncio.run(main())
"""


async def test_an_event_from_a_worker_process_reaches_a_socket(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    import sys

    created = await gql.query('mutation { createTrack(input: {title: "Slow"}) { id } }')
    track_id = created["createTrack"]["id"]
    channel = f"processing.{track_id}"
    _, token = await user_token(engine, settings, "user")
    async with connect(_url(live, f"?token={token}")) as ws:
        await _recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "event_type": channel}))
        assert (await _recv(ws))["type"] == "subscription_confirmed"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            PUBLISH_AS_A_WORKER,
            settings.resolved_redis_url,
            channel,
            track_id,
        )
        assert await asyncio.wait_for(process.wait(), 30) == 0
        event = await _recv(ws)
        assert event["event_type"] == channel
        assert event["data"]["progress"] == 0.25


async def test_a_failed_write_publishes_nothing(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    async with connect(_url(live, f"?token={token}")) as ws:
        await _recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "event_type": "media.added"}))
        await _recv(ws)
        await asyncio.sleep(0.2)
        refused = await gql.error(
            'mutation { createTrack(input: {title: "Ghost",'
            ' artistIds: ["art_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"]}) { id } }'
        )
        assert refused["extensions"]["code"] == "NOT_FOUND"
        await gql.query('mutation { createTrack(input: {title: "Real"}) { id } }')
        event = await _recv(ws)
        assert event["data"]["track"]["title"] == "Real"
