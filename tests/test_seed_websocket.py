"""The WebSocket messages of seeds 000 and 004: `/ws/{client_id}`, `{"type":
"subscribe", "channel": …}`, `media.added` with the artist and an ISO-8601 `created_at`,
and a track's progress as `processing.update`."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import GraphQLClient, LiveServer, user_token


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    # The server and the worker started in a test share the graph, Redis and media folder.
    return worker_settings


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _url(live: LiveServer, path: str) -> str:
    return live.url.replace("http://", "ws://") + path


async def _recv(ws: ClientConnection, wait: float = 10) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), wait)))


async def test_client_id_path_channel_subscribe_and_media_added(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    # Seed 004: `new WebSocket("ws://localhost:8000/ws/client123")`, then
    # `{type: "subscribe", channel: …}`.
    async with connect(_url(live, f"/ws/client123?token={token}")) as ws:
        assert (await _recv(ws))["type"] == "authenticated"
        await ws.send(json.dumps({"type": "subscribe", "channel": "media.added"}))
        confirmed = await _recv(ws)
        assert confirmed == {"type": "subscription_confirmed", "event_type": "media.added"}
        await asyncio.sleep(0.2)
        created = await gql.query(
            'mutation { createTrack(input: {title: "So What", artistNames: ["Miles Davis"]}) '
            "{ id } }"
        )
        event = await _recv(ws)
        # Seed 000's media_added: data {id, title, artist, format, created_at}.
        assert event["type"] == "media.added" and ISO.match(event["timestamp"])
        data = event["data"]
        assert data["id"] == created["createTrack"]["id"] == data["track_id"]
        assert data["title"] == "So What" and data["artist"] == "Miles Davis"
        assert "format" in data and ISO.match(data["created_at"]), data
        await ws.send(json.dumps({"type": "unsubscribe", "channel": "media.added"}))
        assert (await _recv(ws))["type"] == "unsubscribed"
        await ws.send(json.dumps({"type": "ping"}))
        pong = await _recv(ws)
        assert pong["type"] == "pong" and ISO.match(pong["timestamp"])


async def test_processing_update_events(
    live: LiveServer,
    client: httpx.AsyncClient,
    engine: GraphEngine,
    worker_settings: Settings,
    tmp_path: Path,
) -> None:
    from workers.worker import build_worker

    _, token = await user_token(engine, worker_settings, "admin")
    wav = af.write(tmp_path / "a.wav", af.click_track(100, seconds=3), 22050).read_bytes()
    uploaded = await client.post(
        "/api/v1/media/upload",
        files={"file": ("a.wav", wav, "audio/wav")},
        headers={"authorization": f"Bearer {token}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    track_id = uploaded.json()["track"]["id"]
    async with connect(_url(live, f"/ws?token={token}")) as ws:
        assert (await _recv(ws))["type"] == "authenticated"
        channel = f"processing.{track_id}"
        await ws.send(json.dumps({"type": "subscribe", "event_type": channel}))
        assert (await _recv(ws))["type"] == "subscription_confirmed"
        running, queue = build_worker(worker_settings, threads=1)
        running.start()
        try:
            updates = []
            while not updates or not (updates[-1]["completed"] or updates[-1]["failed"]):
                event = await _recv(ws, 60)
                # Seed 000's processing_update: {media_id, stage, progress, message, completed}.
                assert event["type"] == "processing.update" and event["event_type"] == channel
                updates.append(event["data"])
        finally:
            running.stop(timeout=10_000)
            queue.close()
    assert all(u["media_id"] == track_id for u in updates)
    assert {"media_id", "stage", "progress", "message", "completed"} <= set(updates[0])
    assert updates[-1]["completed"] is True and updates[-1]["progress"] == 1.0
