"""Listening data: `recordPlay`, `history`, `Track.playCount`, `trends` and
`collectionStats`.

Whose plays a caller sees is the `Viewer` of graph/collections.py: their own, or
everybody's for an admin.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from aiodataloader import DataLoader
from ariadne import MutationType, ObjectType, QueryType

from graph import listening
from graph.collection_store import Viewer
from graph.engine import GraphEngine
from graph.ids import require_id
from resolvers._pagination import connection, decode_cursor, page_size, resolve_total_count
from resolvers.context import Info
from resolvers.loaders import MAX_BATCH, Loaders, viewer_of

query = QueryType()
mutation = MutationType()
track = ObjectType("Track")
play_connection = ObjectType("PlayConnection")
play_connection.set_field("totalCount", resolve_total_count)

HISTORY_KIND = "history"


class PlayCountByTrackIdLoader(DataLoader[str, int]):
    """Play counts by track id, in the plays one viewer may see."""

    max_batch_size = MAX_BATCH

    def __init__(self, engine: GraphEngine, viewer: Viewer) -> None:
        super().__init__()
        self.engine = engine
        self.viewer = viewer

    async def batch_load_fn(self, keys: Sequence[str]) -> list[int]:
        return await listening.play_counts(self.engine, self.viewer, keys)


# One loader per request: keyed by the request's Loaders, which a subscription
# replaces for every event.
_play_counts: "WeakKeyDictionary[Loaders, PlayCountByTrackIdLoader]" = WeakKeyDictionary()


def play_count_loader(info: Info) -> PlayCountByTrackIdLoader:
    loaders = info.context.loaders
    loader = _play_counts.get(loaders)
    if loader is None:
        viewer = viewer_of(info.context.principal)
        loader = _play_counts[loaders] = PlayCountByTrackIdLoader(info.context.engine, viewer)
    return loader


@track.field("playCount")
def resolve_play_count(obj: dict[str, Any], info: Info) -> Any:
    return play_count_loader(info).load(obj["id"])


@mutation.field("recordPlay")
async def resolve_record_play(
    _: Any,
    info: Info,
    track_id: str,
    at: datetime | None = None,
    duration_played: float | None = None,
) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    play = await listening.record_play(info.context.engine, user_id, track_id, at, duration_played)
    play_count_loader(info).clear(track_id)
    return play


@query.field("history")
async def resolve_history(
    _: Any, info: Info, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    size = page_size(first)
    position = decode_cursor(after, HISTORY_KIND, (int, str))
    engine = info.context.engine
    rows, keys = await listening.history_page(
        engine, user_id, (position[0], position[1]) if position else None, size + 1
    )
    return connection(
        rows, keys, size, HISTORY_KIND, lambda: listening.history_count(engine, user_id)
    )


@query.field("trends")
async def resolve_trends(
    _: Any, info: Info, period: str, metric: str, last: int = 30
) -> list[dict[str, Any]]:
    viewer = viewer_of(info.context.principal)
    return await listening.trend(info.context.engine, viewer, period, metric, last)


@query.field("collectionStats")
async def resolve_collection_stats(
    _: Any, info: Info, collection_id: str | None = None
) -> dict[str, Any]:
    if collection_id is not None:
        require_id(collection_id, "Collection", "collectionId")
        await info.context.require_visible_collection(collection_id)
    return await listening.collection_stats(info.context.engine, collection_id)


bindables = [query, mutation, track, play_connection]
