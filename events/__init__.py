"""Typed events through broadcaster on Redis, shared by API and worker processes.

Channels: `media.added`, `track.updated`, `track.deleted`, `processing.<trackId>`,
`collection.<id>`, `similarity.<trackId>`, `system.status`. Every event is the JSON
envelope `{"type", "event_type" (the channel), "data", "timestamp"}` (ISO-8601, UTC).
Subscribers get it parsed, shared between them (read-only), with the text as published
under `RAW`.

Subscribers read through a bounded queue: a consumer that falls `maxsize` events
behind is cut off with `SlowConsumer` rather than let the server's memory grow.
"""

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from broadcaster import Broadcast, Event
from broadcaster._backends.redis import RedisBackend
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

MEDIA_ADDED = "media.added"
TRACK_UPDATED = "track.updated"
TRACK_DELETED = "track.deleted"
SYSTEM_STATUS = "system.status"
# The event type of a track's progress on its `processing.<trackId>` channel (seed 000).
PROCESSING_UPDATE = "processing.update"

_CHANNEL_RE = re.compile(
    r"^(media\.added|track\.updated|track\.deleted|system\.status"
    r"|(processing|collection|similarity)\.[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26})$"
)
DEFAULT_QUEUE = 256


class SlowConsumer(Exception):
    """The subscriber fell too far behind; its stream ends."""


def iso_ms(epoch_ms: int | None) -> str | None:
    """Epoch milliseconds as ISO-8601 UTC (`…T12:00:00.000Z`), as the seeds show times."""
    if epoch_ms is None:
        return None
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def media_added_data(track: dict[str, Any], artist: str | None) -> dict[str, Any]:
    """The data of a `media.added` event: seed 000's flat fields (`id`, `title`,
    `artist`, `format`, `created_at` in ISO-8601) beside `track_id` and the track row
    (epoch milliseconds) that GraphQL's `mediaAdded` resolves from."""
    return {
        "track_id": track["id"],
        "id": track["id"],
        "title": track.get("title"),
        "artist": artist,
        "format": track.get("format"),
        "created_at": iso_ms(track.get("created_at")),
        "track": track,
    }


def is_channel(name: str) -> bool:
    """True for a channel name clients may subscribe to."""
    return bool(_CHANNEL_RE.match(name))


def envelope(channel: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"type": event_type, "event_type": channel, "data": data, "timestamp": now}


RAW = "_raw"  # key of the parsed envelope holding the message as published


def _parsed(event: Any) -> dict[str, Any]:
    """The envelope of a broadcaster event, parsed once however many subscribers read it
    (broadcaster hands the same Event object to each of them)."""
    parsed: dict[str, Any] | None = getattr(event, "parsed", None)
    if parsed is None:
        parsed = orjson.loads(event.message)
        parsed[RAW] = event.message
        event.parsed = parsed
    return parsed


class ReconnectingRedisBackend(RedisBackend):
    """broadcaster's Redis backend, whose listener outlives a lost connection.

    broadcaster's own listener task ends at the first connection error, and from then on
    no subscriber of the process gets an event: after the embedded database (which is
    also the event bus) restarted, no event reached any socket, old or new. This one
    waits, reconnects (redis-py then subscribes the channels again) and carries on.
    """

    async def _pubsub_listener(self) -> None:
        delay = 0.05
        while True:
            await self._ready.wait()
            try:
                async for message in self._pubsub.listen():
                    delay = 0.05
                    if message["type"] == "message":
                        event = Event(
                            channel=message["channel"].decode(),
                            message=message["data"].decode(),
                        )
                        await self._queue.put(event)
            except (RedisError, OSError) as e:
                log.warning("event bus connection lost (%s); reconnecting", type(e).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.connect()  # type: ignore[no-untyped-call]
                continue
            # No channel left: wait for the next subscription (as broadcaster does).
            self._ready.clear()


class Events:
    """A connection to the event bus: `async with Events(url) as events: …`."""

    def __init__(self, redis_url: str, queue_size: int = DEFAULT_QUEUE) -> None:
        self.queue_size = queue_size
        # broadcaster picks its backend by URL scheme and knows no unix sockets, so the
        # Redis backend is built here; redis-py reads every scheme.
        self.broadcast = Broadcast(backend=ReconnectingRedisBackend(redis_url))

    async def __aenter__(self) -> "Events":
        await self.broadcast.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.broadcast.disconnect()

    async def publish(self, channel: str, event_type: str, data: dict[str, Any]) -> None:
        """Publish on `channel`; call it after the change it reports has committed."""
        message = orjson.dumps(envelope(channel, event_type, data)).decode()
        await self.broadcast.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, *channels: str, maxsize: int | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The events of `channels`, in arrival order, while the context is open.

        Leaving the context unsubscribes and frees everything at once.
        """
        maxsize = maxsize or self.queue_size
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize)
        async with contextlib.AsyncExitStack() as stack:
            subscribers = [
                await stack.enter_async_context(self.broadcast.subscribe(channel))
                for channel in channels
            ]

            async def pump(subscriber: Any) -> None:
                async for event in subscriber:
                    if event is None:
                        break
                    try:
                        queue.put_nowait(_parsed(event))
                    except asyncio.QueueFull:
                        # Make room for the marker that ends the stream.
                        with contextlib.suppress(asyncio.QueueEmpty):
                            queue.get_nowait()
                        queue.put_nowait(None)
                        return

            tasks = [asyncio.create_task(pump(s)) for s in subscribers]

            async def stream() -> AsyncIterator[dict[str, Any]]:
                while True:
                    item = await queue.get()
                    if item is None:
                        raise SlowConsumer(f"subscriber fell {maxsize} events behind")
                    yield item

            try:
                yield stream()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
