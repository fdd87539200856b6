"""Track metadata (key/value facts by source), feature search, and the catalogue's gaps:
tracks without metadata, embeddings or features, and how many have each."""

import re
from collections.abc import Sequence
from typing import Any

from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.queries import metadata as q
from graph.queries.analysis import EMBEDDING_TYPES
from music.errors import NotFoundError, ValidationError
from music.text import check_text

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")
MAX_VALUE = 10_000
MAX_ENTRIES = 100
MAX_SKIP = 10_000


def check_key(key: str, field: str = "key") -> str:
    if not KEY_RE.match(key):
        raise ValidationError(
            f"'{field}' must be 1 to 100 letters, digits or _ . : - (starting with a letter "
            "or digit).",
            field=field,
        )
    return key


def check_source(source: str, field: str = "source") -> str:
    if not SOURCE_RE.match(source):
        raise ValidationError(
            f"'{field}' must be 1 to 50 lower-case letters, digits or _ . -.", field=field
        )
    return source


def check_skip(skip: int) -> int:
    if not 0 <= skip <= MAX_SKIP:
        raise ValidationError(f"'offset' must be between 0 and {MAX_SKIP}.", field="offset")
    return skip


async def metadata_by_track(engine: GraphEngine, ids: Sequence[str]) -> list[list[Row]]:
    """Every entry of each track, by source then key; lines up with `ids`."""
    rows = await engine.read("metadata_by_track", q.METADATA_BY_TRACK_QUERY, {"ids": list(ids)})
    found: dict[str, list[Row]] = {}
    for r in rows:
        found.setdefault(r["key"], []).append(dict(r["row"]))
    return [found.get(track_id, []) for track_id in ids]


async def set_metadata(engine: GraphEngine, track_id: str, entries: Sequence[Row]) -> list[Row]:
    """Write entries (`key`, `value`, `source`) of a track, replacing the values of the same
    source and key; NOT_FOUND for a track that does not exist."""
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise ValidationError(f"Give 1 to {MAX_ENTRIES} entries.", field="entries")
    rows: dict[tuple[str, str], Row] = {}
    for entry in entries:
        key = check_key(str(entry["key"]))
        source = check_source(str(entry.get("source") or "user"))
        value = check_text(str(entry["value"]), "value", multiline=True)
        if len(value) > MAX_VALUE:
            raise ValidationError(f"'value' is over {MAX_VALUE} characters.", field="value")
        rows[(source, key)] = {"source": source, "key": key, "value": value}
    written = await engine.write(
        "set_metadata",
        q.SET_METADATA_QUERY,
        {"id": track_id, "rows": list(rows.values()), "now": now_ms()},
    )
    if not written:
        raise NotFoundError("No such track.", id=track_id)
    return [dict(r["row"]) for r in written]


async def delete_metadata(engine: GraphEngine, track_id: str, key: str, source: str | None) -> int:
    """Remove a track's entries of `key` (of one source, or of all); NOT_FOUND if none."""
    check_key(key)
    if source is not None:
        check_source(source)
    rows = await engine.write(
        "delete_metadata",
        q.DELETE_METADATA_QUERY,
        {"id": track_id, "key": key, "source": source},
    )
    deleted = int(rows[0]["deleted"]) if rows else 0
    if not deleted:
        raise NotFoundError("The track has no such metadata entry.", id=track_id, key=key)
    return deleted


async def search(
    engine: GraphEngine,
    source: str | None,
    key: str | None,
    value: str | None,
    first: int,
    skip: int,
) -> tuple[list[Row], int]:
    """Entries matching every filter given (`value`: a case-insensitive substring),
    with their tracks, and how many there are in all."""
    params = {
        "source": check_source(source) if source is not None else None,
        "key": check_key(key) if key is not None else None,
        "value": value.lower() if value else None,
    }
    rows = await engine.read(
        "metadata_search",
        q.SEARCH_METADATA_QUERY,
        {**params, "first": first, "skip": check_skip(skip)},
    )
    total = await engine.read("metadata_search_count", q.SEARCH_METADATA_COUNT_QUERY, params)
    items = [{"track": dict(r["track"]), "entry": dict(r["entry"])} for r in rows]
    return items, int(total[0]["total"]) if total else 0


async def statistics(engine: GraphEngine, track_id: str | None, top_keys: int = 20) -> Row:
    """Entries by source and the most used keys, of one track or of the catalogue."""
    if track_id is not None:
        found = await engine.read("track_exists", q.TRACK_EXISTS_QUERY, {"id": track_id})
        if not found:
            raise NotFoundError("No such track.", id=track_id)
    sources = await engine.read("metadata_by_source", q.METADATA_BY_SOURCE_QUERY, {"id": track_id})
    keys = await engine.read(
        "metadata_top_keys", q.METADATA_TOP_KEYS_QUERY, {"id": track_id, "first": top_keys}
    )
    tracks = await engine.read("metadata_tracks", q.METADATA_TRACKS_QUERY, {"id": track_id})
    return {
        "total_entries": sum(int(r["n"]) for r in sources),
        "tracks_with_metadata": int(tracks[0]["n"]) if tracks else 0,
        "by_source": [
            {"name": r["name"], "count": int(r["n"]), "tracks": int(r["tracks"])} for r in sources
        ],
        "top_keys": [{"name": r["name"], "count": int(r["n"])} for r in keys],
    }


async def tracks_missing(
    engine: GraphEngine, data: str, first: int, skip: int
) -> tuple[list[Row], int]:
    """Tracks without `data` (METADATA, EMBEDDING or AUDIO_FEATURES), by id; and the count."""
    if data not in q.MISSING:
        raise ValidationError("Unknown kind of track data.", field="data")
    page, count = q.tracks_missing(data)
    rows = await engine.read("tracks_missing", page, {"first": first, "skip": check_skip(skip)})
    total = await engine.read("tracks_missing_count", count)
    return [dict(r["row"]) for r in rows], int(total[0]["total"]) if total else 0


async def embedding_statistics(engine: GraphEngine) -> Row:
    """How many tracks there are and how many hold an embedding of each type."""
    [row] = await engine.read("embedding_counts", q.EMBEDDING_COUNTS_QUERY)
    return {
        "total_tracks": int(row["total"]),
        "by_type": [
            {"type": name, "count": int(row[name]), "dimension": dims}
            for name, dims in EMBEDDING_TYPES.items()
        ],
    }


async def search_features(
    engine: GraphEngine, filters: dict[str, Any], first: int, skip: int
) -> tuple[list[Row], int]:
    """Analysed tracks within the given tempo, energy and danceability ranges and of the
    given key, mode or Camelot code, by tempo; and how many there are."""
    names = (
        "tempo_min",
        "tempo_max",
        "key",
        "mode",
        "camelot",
        "energy_min",
        "energy_max",
        "dance_min",
        "dance_max",
    )
    params = {name: filters.get(name) for name in names}
    rows = await engine.read(
        "feature_search",
        q.FEATURE_SEARCH_QUERY,
        {**params, "first": first, "skip": check_skip(skip)},
    )
    total = await engine.read("feature_search_count", q.FEATURE_SEARCH_COUNT_QUERY, params)
    return [dict(r["row"]) for r in rows], int(total[0]["total"]) if total else 0


async def clear_features(engine: GraphEngine, track_id: str) -> Row:
    """Remove a track's audio features, and the embedding made from them if that is
    where it came from, with the similarity edges computed from it, in one write (an
    embedding analysed from the audio stays, with its edges)."""
    rows = await engine.write("clear_audio_features", q.CLEAR_FEATURES_QUERY, {"id": track_id})
    if not rows:
        raise NotFoundError("No such track.", id=track_id)
    return dict(rows[0]["row"])
