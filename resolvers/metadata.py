"""Track metadata, feature search and the catalogue's gaps (schema/metadata.graphql)."""

from typing import Any

from ariadne import MutationType, ObjectType, QueryType

from graph import metadata
from graph.ids import require_id
from resolvers._pagination import page_size
from resolvers.context import Info

query = QueryType()
mutation = MutationType()
track = ObjectType("Track")


@track.field("metadata")
async def resolve_track_metadata(
    obj: dict[str, Any], info: Info, source: str | None = None, key: str | None = None
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await info.context.loaders.metadata_by_track_id.load(obj["id"])
    return [
        e
        for e in entries
        if (source is None or e["source"] == source) and (key is None or e["key"] == key)
    ]


@query.field("metadataSearch")
async def resolve_metadata_search(
    _: Any,
    info: Info,
    source: str | None = None,
    key: str | None = None,
    value: str | None = None,
    first: int | None = 20,
    offset: int = 0,
) -> dict[str, Any]:
    items, total = await metadata.search(
        info.context.engine, source, key, value, page_size(first), offset
    )
    return {"items": items, "total": total}


@query.field("metadataStatistics")
async def resolve_metadata_statistics(
    _: Any, info: Info, track_id: str | None = None
) -> dict[str, Any]:
    if track_id is not None:
        require_id(track_id, "Track", "trackId")
    return await metadata.statistics(info.context.engine, track_id)


@query.field("embeddingStatistics")
async def resolve_embedding_statistics(_: Any, info: Info) -> dict[str, Any]:
    return await metadata.embedding_statistics(info.context.engine)


@query.field("tracksWithout")
async def resolve_tracks_without(
    _: Any, info: Info, data: str, first: int | None = 20, offset: int = 0
) -> dict[str, Any]:
    items, total = await metadata.tracks_missing(
        info.context.engine, data, page_size(first), offset
    )
    return {"items": items, "total": total}


def _range(value: dict[str, Any] | None, name: str) -> dict[str, Any]:
    value = value or {}
    return {f"{name}_min": value.get("min"), f"{name}_max": value.get("max")}


@query.field("audioFeatureSearch")
async def resolve_audio_feature_search(
    _: Any,
    info: Info,
    tempo: dict[str, Any] | None = None,
    key: str | None = None,
    mode: str | None = None,
    camelot: str | None = None,
    energy: dict[str, Any] | None = None,
    danceability: dict[str, Any] | None = None,
    first: int | None = 20,
    offset: int = 0,
) -> dict[str, Any]:
    filters = {
        **_range(tempo, "tempo"),
        **_range(energy, "energy"),
        **_range(danceability, "dance"),
        "key": key,
        "mode": mode.lower() if mode else None,
        "camelot": camelot.upper() if camelot else None,
    }
    items, total = await metadata.search_features(
        info.context.engine, filters, page_size(first), offset
    )
    return {"items": items, "total": total}


def _forget(info: Info, track_id: str) -> None:
    info.context.loaders.metadata_by_track_id.clear(track_id)


@mutation.field("setMetadata")
async def resolve_set_metadata(
    _: Any, info: Info, track_id: str, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    require_id(track_id, "Track", "trackId")
    written = await metadata.set_metadata(info.context.engine, track_id, entries)
    _forget(info, track_id)
    return written


@mutation.field("deleteMetadata")
async def resolve_delete_metadata(
    _: Any, info: Info, track_id: str, key: str, source: str | None = None
) -> int:
    require_id(track_id, "Track", "trackId")
    deleted = await metadata.delete_metadata(info.context.engine, track_id, key, source)
    _forget(info, track_id)
    return deleted


@mutation.field("clearAudioFeatures")
async def resolve_clear_audio_features(_: Any, info: Info, track_id: str) -> dict[str, Any]:
    require_id(track_id, "Track", "trackId")
    row = await metadata.clear_features(info.context.engine, track_id)
    loaders = info.context.loaders
    loaders.analysis_by_track_id.clear(track_id)
    loaders.prime("Track", row)
    return row


bindables = [query, mutation, track]
