"""Subscriptions: each field reads its channels from the event bus.

Every event is executed with fresh loaders, so that relations of a track reflect the
graph at the time of the event, not at the time the subscription started.
"""

from collections.abc import AsyncGenerator
from typing import Any

from ariadne import ObjectType, SubscriptionType

from events import MEDIA_ADDED, SYSTEM_STATUS, TRACK_DELETED, TRACK_UPDATED
from graph import similarity
from graph.ids import require_id
from music.errors import DomainError
from resolvers.context import Info
from resolvers.loaders import Loaders

subscription = SubscriptionType()


class SlowConsumerError(DomainError):
    code = "SLOW_CONSUMER"


async def _events(info: Info, *channels: str) -> AsyncGenerator[dict[str, Any], None]:
    from events import SlowConsumer

    async with info.context.events_api.subscribe(*channels) as stream:
        try:
            async for event in stream:
                yield event
        except SlowConsumer as e:
            raise SlowConsumerError("You fell too far behind the events; subscribe again.") from e


def _fresh(event: dict[str, Any], info: Info, **_: Any) -> dict[str, Any]:
    info.context.loaders = Loaders(info.context.engine)
    return {"timestamp": event["timestamp"], "type": event["type"], **event["data"]}


@subscription.source("mediaAdded")
async def media_added_source(_: Any, info: Info) -> AsyncGenerator[dict[str, Any], None]:
    async for event in _events(info, MEDIA_ADDED):
        yield event


@subscription.source("trackUpdated")
async def track_updated_source(
    _: Any, info: Info, id: str | None = None
) -> AsyncGenerator[dict[str, Any], None]:
    if id is not None:
        require_id(id, "Track")
    async for event in _events(info, TRACK_UPDATED, TRACK_DELETED):
        if id is None or event["data"].get("track_id") == id:
            yield event


@subscription.source("processingStatus")
async def processing_source(
    _: Any, info: Info, track_id: str
) -> AsyncGenerator[dict[str, Any], None]:
    require_id(track_id, "Track", "trackId")
    async for event in _events(info, f"processing.{track_id}"):
        yield event


@subscription.source("collectionChanged")
async def collection_source(_: Any, info: Info, id: str) -> AsyncGenerator[dict[str, Any], None]:
    require_id(id, "Collection")
    await info.context.require_visible_collection(id)
    async for event in _events(info, f"collection.{id}"):
        yield event


@subscription.source("similarityUpdated")
async def similarity_source(
    _: Any, info: Info, track_id: str
) -> AsyncGenerator[dict[str, Any], None]:
    require_id(track_id, "Track", "trackId")
    async for event in _events(info, f"similarity.{track_id}"):
        yield event


@subscription.source("systemStatus")
async def system_source(_: Any, info: Info) -> AsyncGenerator[dict[str, Any], None]:
    async for event in _events(info, SYSTEM_STATUS):
        yield event


for name in (
    "mediaAdded",
    "trackUpdated",
    "processingStatus",
    "collectionChanged",
    "similarityUpdated",
    "systemStatus",
):
    subscription.set_field(name, _fresh)


similarity_change = ObjectType("SimilarityChange")


@similarity_change.field("neighbours")
async def resolve_neighbours(obj: dict[str, Any], info: Info) -> int:
    """The count the event carries, else the track's edges now (workers publish ids)."""
    if obj.get("neighbours") is not None:
        return int(obj["neighbours"])
    return await similarity.edge_count(info.context.engine, [obj["track_id"]])


bindables = [subscription, similarity_change]
