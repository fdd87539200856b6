"""The event bus on the real (embedded) Redis: envelopes, several channels, bounded queues,
and events published by another OS process."""

import asyncio
import sys

import pytest

from events import Events, SlowConsumer, is_channel
from graph.embedded import EmbeddedServer

PUBLISH_FROM_ANOTHER_PROCESS = """
import asyncio, sys
from events import Events

async def main() -> None:
    async with Events(sys.argv[1]) as events:
        await events.publish("processing.trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B", "processing",
                             {"stage": "decode", "progress": 0.5})

asyncio.run(main())
"""


async def _next(stream: object, wait: float = 2.0) -> dict[str, object]:
    return await asyncio.wait_for(stream.__anext__(), wait)  # type: ignore[attr-defined]


async def test_envelope_and_several_channels(falkordb_server: EmbeddedServer) -> None:
    async with (
        Events(falkordb_server.redis_url) as events,
        events.subscribe("track.updated", "track.deleted") as stream,
    ):
        await events.publish("track.updated", "track.updated", {"track_id": "a"})
        await events.publish("track.deleted", "track.deleted", {"track_id": "b"})
        await events.publish("media.added", "media.added", {"track_id": "c"})
        first, second = await _next(stream), await _next(stream)
        assert {first["type"], second["type"]} == {"track.updated", "track.deleted"}
        assert str(first["timestamp"]).endswith("Z") and "T" in str(first["timestamp"])
        with pytest.raises(TimeoutError):
            await _next(stream, 0.3)


async def test_a_slow_consumer_is_cut_off_not_buffered(falkordb_server: EmbeddedServer) -> None:
    async with (
        Events(falkordb_server.redis_url) as events,
        events.subscribe("system.status", maxsize=5) as stream,
    ):
        for i in range(50):
            await events.publish("system.status", "system.status", {"n": i})
        await asyncio.sleep(0.3)
        received = []
        with pytest.raises(SlowConsumer):
            for _ in range(50):
                received.append(await _next(stream))
        assert len(received) < 5


async def test_leaving_frees_the_redis_subscription(falkordb_server: EmbeddedServer) -> None:
    async with Events(falkordb_server.redis_url) as events:
        async with events.subscribe("similarity.trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"):
            assert events.broadcast._subscribers
        assert not events.broadcast._subscribers


async def test_an_event_from_another_process_arrives(falkordb_server: EmbeddedServer) -> None:
    channel = "processing.trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
    async with (
        Events(falkordb_server.redis_url) as events,
        events.subscribe(channel) as stream,
    ):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISH_FROM_ANOTHER_PROCESS, falkordb_server.redis_url
        )
        assert await asyncio.wait_for(process.wait(), 30) == 0
        event = await _next(stream, 5)
        assert event["data"] == {"stage": "decode", "progress": 0.5}


def test_channel_names_are_an_allow_list() -> None:
    assert is_channel("media.added")
    assert is_channel("collection.col_01JD7Q3N4V3Y0R6K8W9X2Z5A1B")
    assert not is_channel("collection.*")
    assert not is_channel("__keyspace@0__:x")
    assert not is_channel("processing.")
