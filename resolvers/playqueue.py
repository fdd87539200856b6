"""The play queue: `playQueue`, the queue mutations and `playQueueChanged`.

Every change publishes on `playqueue.<userId>`, which only the GraphQL subscription
reads, for the signed-in user it was opened by: nobody follows someone else's queue.
"""

from collections.abc import AsyncGenerator
from typing import Any

from ariadne import MutationType, QueryType, SubscriptionType

from graph import playqueue
from resolvers.context import Info
from resolvers.loaders import Loaders
from resolvers.realtime import _events

query = QueryType()
mutation = MutationType()
subscription = SubscriptionType()

EVENT_TYPE = "playqueue.changed"


def channel(user_id: str) -> str:
    return f"playqueue.{user_id}"


@query.field("playQueue")
async def resolve_play_queue(_: Any, info: Info) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    return await playqueue.play_queue(info.context.engine, user_id)


async def _changed(info: Info, user_id: str, action: str, queue: dict[str, Any]) -> dict[str, Any]:
    data = {"user_id": user_id, "action": action, "version": queue["version"]}
    await info.context.publish(channel(user_id), EVENT_TYPE, data)
    return queue


@mutation.field("setPlayQueue")
async def resolve_set_play_queue(
    _: Any,
    info: Info,
    track_ids: list[str] | None = None,
    current_index: int | None = None,
    position_ms: int | None = None,
) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    queue = await playqueue.set_queue(
        info.context.engine, user_id, track_ids, current_index, position_ms
    )
    return await _changed(info, user_id, "set", queue)


@mutation.field("enqueue")
async def resolve_enqueue(
    _: Any, info: Info, track_ids: list[str], position: int | None = None
) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    queue = await playqueue.enqueue(info.context.engine, user_id, track_ids, position)
    return await _changed(info, user_id, "enqueued", queue)


@mutation.field("dequeue")
async def resolve_dequeue(_: Any, info: Info, index: int) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    queue = await playqueue.dequeue(info.context.engine, user_id, index)
    return await _changed(info, user_id, "dequeued", queue)


@mutation.field("moveInQueue")
async def resolve_move_in_queue(
    _: Any, info: Info, from_index: int, to_index: int
) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    queue = await playqueue.move_in_queue(info.context.engine, user_id, from_index, to_index)
    return await _changed(info, user_id, "moved", queue)


@mutation.field("clearQueue")
async def resolve_clear_queue(_: Any, info: Info) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    queue = await playqueue.clear_queue(info.context.engine, user_id)
    return await _changed(info, user_id, "cleared", queue)


@subscription.source("playQueueChanged")
async def play_queue_source(_: Any, info: Info) -> AsyncGenerator[dict[str, Any], None]:
    user_id = info.context.principal.require_user()
    async for event in _events(info, channel(user_id)):
        yield event


@subscription.field("playQueueChanged")
async def resolve_play_queue_changed(event: dict[str, Any], info: Info) -> dict[str, Any]:
    """The queue as it is now: a device that missed an event still ends up current."""
    info.context.loaders = Loaders(info.context.engine)
    return await playqueue.play_queue(info.context.engine, event["data"]["user_id"])


bindables = [query, mutation, subscription]
