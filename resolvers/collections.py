"""Collections: `collection`, `collections`, the Collection fields, `Track.collections`
and the collection mutations.

Every read goes through a loader or graph function that takes the caller as a
`Viewer`, so what a caller may not see never leaves the graph.
"""

from typing import Any

from ariadne import MutationType, ObjectType, QueryType

from graph import collection_store as graph_collections
from graph.collection_store import Change, Viewer
from graph.ids import require_id
from resolvers._pagination import connection, decode_cursor, page_size, resolve_total_count
from resolvers._prefetch import node_selections, prefetch
from resolvers.context import Info
from resolvers.loaders import PageKey, viewer_of

query = QueryType()
mutation = MutationType()
collection = ObjectType("Collection")
track = ObjectType("Track")
connections = [ObjectType(name) for name in ("CollectionConnection", "CollectionTrackConnection")]
for conn in connections:
    conn.set_field("totalCount", resolve_total_count)

LIST_KIND = "collections"
TRACKS_KIND = "collection-tracks"
EVENT_TYPE = "collection.changed"


def _viewer(info: Info) -> Viewer:
    return viewer_of(info.context.principal)


@query.field("collection")
async def resolve_collection(_: Any, info: Info, id: str) -> dict[str, Any]:
    loader = info.context.loaders.collection_by_id(_viewer(info))
    row = await loader.load(require_id(id, "Collection"))
    if row is None:
        raise graph_collections.not_found(id)
    return row  # type: ignore[no-any-return]


@query.field("collections")
async def resolve_collections(
    _: Any, info: Info, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    size = page_size(first)
    position = decode_cursor(after, LIST_KIND, (int, str, str))
    viewer = _viewer(info)
    engine = info.context.engine
    rows, keys = await graph_collections.collections_page(
        engine, viewer, list(position) if position else None, size + 1
    )
    return connection(
        rows,
        keys,
        size,
        LIST_KIND,
        lambda: graph_collections.collections_count(engine, viewer),
    )


@collection.field("owner")
def resolve_owner(obj: dict[str, Any], info: Info) -> Any:
    return info.context.loaders.user_by_id.load(obj["owner_id"])


@collection.field("trackCount")
def resolve_track_count(obj: dict[str, Any], info: Info) -> Any:
    return info.context.loaders.track_count_by_collection_id.load(obj["id"])


@collection.field("tracks")
async def resolve_tracks(
    obj: dict[str, Any], info: Info, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    size = page_size(first, 50)
    position = decode_cursor(after, TRACKS_KIND, (int, str))
    loaders = info.context.loaders
    rows, keys, added = await loaders.tracks_by_collection_id.load(
        PageKey(obj["id"], position, size + 1)
    )
    await prefetch(info, "Track", node_selections(info, "CollectionTrackConnection"), rows[:size])

    async def count() -> int:
        return await loaders.track_count_by_collection_id.load(obj["id"])  # type: ignore[no-any-return]

    result = connection(rows, keys, size, TRACKS_KIND, count)
    for edge, key, added_at in zip(result["edges"], keys, added, strict=False):
        edge["position"], edge["added_at"] = key[0], added_at
    return result


@track.field("collections")
def resolve_track_collections(obj: dict[str, Any], info: Info) -> Any:
    return info.context.loaders.collections_by_track_id(_viewer(info)).load(obj["id"])


def _wrote(info: Info, row: dict[str, Any], track_count: int | None = None) -> dict[str, Any]:
    """Forget what this request read about collections, and keep what was written."""
    loaders = info.context.loaders
    viewer = _viewer(info)
    loaders.collection_by_id(viewer).clear(row["id"]).prime(row["id"], row)
    loaders.collections_by_track_id(viewer).clear_all()
    loaders.tracks_by_collection_id.clear_all()
    loaders.track_count_by_collection_id.clear(row["id"])
    if track_count is not None:
        loaders.track_count_by_collection_id.prime(row["id"], track_count)
    return row


async def publish_change(info: Info, collection_id: str, action: str, track_ids: list[str]) -> None:
    """Tell the collection's subscribers what changed, once the change has committed."""
    data = {"collection_id": collection_id, "action": action, "track_ids": track_ids}
    await info.context.publish(f"collection.{collection_id}", EVENT_TYPE, data)


async def _changed(info: Info, change: Change, action: str) -> dict[str, Any]:
    row = _wrote(info, change.row, change.track_count)
    if change.track_ids:
        await publish_change(info, row["id"], action, change.track_ids)
    return row


@mutation.field("createCollection")
async def resolve_create_collection(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    owner_id = info.context.principal.require_user()
    row = await graph_collections.create_collection(info.context.engine, owner_id, input)
    return _wrote(info, row, 0)


@mutation.field("updateCollection")
async def resolve_update_collection(
    _: Any, info: Info, id: str, input: dict[str, Any]
) -> dict[str, Any]:
    row = await graph_collections.update_collection(info.context.engine, _viewer(info), id, input)
    await publish_change(info, id, "updated", [])
    return _wrote(info, row)


@mutation.field("deleteCollection")
async def resolve_delete_collection(_: Any, info: Info, id: str) -> dict[str, Any]:
    deleted = await graph_collections.delete_collection(info.context.engine, _viewer(info), id)
    loaders = info.context.loaders
    loaders.collection_by_id(_viewer(info)).clear(deleted)
    loaders.collections_by_track_id(_viewer(info)).clear_all()
    await publish_change(info, deleted, "deleted", [])
    return {"deleted_id": deleted}


@mutation.field("addToCollection")
async def resolve_add_to_collection(
    _: Any, info: Info, id: str, track_ids: list[str], position: int | None = None
) -> dict[str, Any]:
    change = await graph_collections.add_tracks(
        info.context.engine, _viewer(info), id, track_ids, position
    )
    return await _changed(info, change, "added")


@mutation.field("removeFromCollection")
async def resolve_remove_from_collection(
    _: Any, info: Info, id: str, track_ids: list[str]
) -> dict[str, Any]:
    change = await graph_collections.remove_tracks(
        info.context.engine, _viewer(info), id, track_ids
    )
    return await _changed(info, change, "removed")


@mutation.field("moveInCollection")
async def resolve_move_in_collection(
    _: Any, info: Info, id: str, track_id: str, position: int
) -> dict[str, Any]:
    change = await graph_collections.move_track(
        info.context.engine, _viewer(info), id, track_id, position
    )
    return await _changed(info, change, "moved")


bindables = [query, mutation, collection, track, *connections]
