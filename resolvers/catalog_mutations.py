"""Catalogue mutations: read the input, call graph/, prime the loaders, return."""

from typing import Any

from ariadne import MutationType

from events import MEDIA_ADDED, TRACK_DELETED, TRACK_UPDATED, media_added_data
from graph import catalog_writes
from resolvers.context import Info

mutation = MutationType()


async def _media_added(info: Info, rows: list[dict[str, Any]]) -> None:
    """Announce new tracks once they are committed (the write has returned), with their
    first artist (one batched read)."""
    loader = info.context.loaders.artists_by_track_id
    artists = await loader.load_many([row["id"] for row in rows])
    for row, credited in zip(rows, artists, strict=True):
        artist = credited[0]["name"] if credited else None
        await info.context.publish(MEDIA_ADDED, MEDIA_ADDED, media_added_data(row, artist))


def _prime(info: Info, label: str, row: dict[str, Any]) -> dict[str, Any]:
    info.context.loaders.prime(label, row)
    return row


@mutation.field("createTrack")
async def resolve_create_track(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    rows = await catalog_writes.create_tracks(info.context.engine, [input])
    await _media_added(info, rows)
    return _prime(info, "Track", rows[0])


@mutation.field("importTracks")
async def resolve_import_tracks(_: Any, info: Info, input: list[dict[str, Any]]) -> dict[str, Any]:
    rows = await catalog_writes.create_tracks(info.context.engine, input)
    await _media_added(info, rows)
    return {"count": len(rows), "tracks": [_prime(info, "Track", row) for row in rows]}


@mutation.field("updateTrack")
async def resolve_update_track(
    _: Any, info: Info, id: str, input: dict[str, Any]
) -> dict[str, Any]:
    row = await catalog_writes.update_track(info.context.engine, id, input)
    await info.context.publish(TRACK_UPDATED, TRACK_UPDATED, {"track_id": id, "track": row})
    return _prime(info, "Track", row)


@mutation.field("deleteTrack")
async def resolve_delete_track(_: Any, info: Info, id: str) -> dict[str, Any]:
    deleted = await catalog_writes.delete_track(info.context.engine, id)
    info.context.loaders.track_by_id.clear(deleted)
    await info.context.publish(TRACK_DELETED, TRACK_DELETED, {"track_id": deleted})
    return {"deleted_id": deleted, "tracks_deleted": 1}


@mutation.field("createArtist")
async def resolve_create_artist(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    row = await catalog_writes.create_artist(info.context.engine, input["name"])
    return _prime(info, "Artist", row)


@mutation.field("updateArtist")
async def resolve_update_artist(
    _: Any, info: Info, id: str, input: dict[str, Any]
) -> dict[str, Any]:
    row = await catalog_writes.update_artist(info.context.engine, id, input["name"])
    return _prime(info, "Artist", row)


@mutation.field("deleteArtist")
async def resolve_delete_artist(
    _: Any, info: Info, id: str, cascade: bool = False
) -> dict[str, Any]:
    removed = await catalog_writes.delete_artist(info.context.engine, id, bool(cascade))
    info.context.loaders.artist_by_id.clear(id)
    return {"deleted_id": id, "tracks_deleted": removed}


@mutation.field("createAlbum")
async def resolve_create_album(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    row = await catalog_writes.create_album(info.context.engine, input)
    return _prime(info, "Album", row)


@mutation.field("updateAlbum")
async def resolve_update_album(
    _: Any, info: Info, id: str, input: dict[str, Any]
) -> dict[str, Any]:
    row = await catalog_writes.update_album(info.context.engine, id, input)
    return _prime(info, "Album", row)


@mutation.field("deleteAlbum")
async def resolve_delete_album(
    _: Any, info: Info, id: str, cascade: bool = False
) -> dict[str, Any]:
    removed = await catalog_writes.delete_album(info.context.engine, id, bool(cascade))
    info.context.loaders.album_by_id.clear(id)
    return {"deleted_id": id, "tracks_deleted": removed}


bindables = [mutation]
