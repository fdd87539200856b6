"""Catalogue reads: plain dicts out, one query per call.

The `*_by_*` functions take a batch of keys and are what the per-request dataloaders
call; their results line up with the keys (None or [] for a missing key).
"""

from collections.abc import Sequence
from typing import Any

from graph import counts, pages, sort_keys
from graph._batch import by_id, grouped
from graph.engine import GraphEngine, Row
from graph.queries import catalog as q
from graph.queries.dialect import FULLTEXT_FIELDS

Page = tuple[list[Row], list[Any]]  # rows, and the sort key of each row


async def tracks_by_id(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    return await by_id(engine, "tracks_by_id", q.TRACKS_BY_ID_QUERY, ids)


async def artists_by_id(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    return await by_id(engine, "artists_by_id", q.ARTISTS_BY_ID_QUERY, ids)


async def albums_by_id(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    return await by_id(engine, "albums_by_id", q.ALBUMS_BY_ID_QUERY, ids)


async def genres_by_id(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    return await by_id(engine, "genres_by_id", q.GENRES_BY_ID_QUERY, ids)


async def artists_by_track(engine: GraphEngine, ids: Sequence[str]) -> list[list[Row]]:
    """The credited artists of each track, in credit order."""
    return await grouped(engine, "artists_by_track", q.ARTISTS_BY_TRACK_QUERY, ids)


async def genres_by_track(engine: GraphEngine, ids: Sequence[str]) -> list[list[Row]]:
    return await grouped(engine, "genres_by_track", q.GENRES_BY_TRACK_QUERY, ids)


async def album_by_track(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    groups = await grouped(engine, "album_by_track", q.ALBUM_BY_TRACK_QUERY, ids)
    return [group[0] if group else None for group in groups]


async def artist_by_album(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    groups = await grouped(engine, "artist_by_album", q.ARTIST_BY_ALBUM_QUERY, ids)
    return [group[0] if group else None for group in groups]


async def all_genres(engine: GraphEngine) -> list[Row]:
    return [row["row"] for row in await engine.read("all_genres", q.ALL_GENRES_QUERY)]


async def _page(engine: GraphEngine, operation: str, query: str, params: dict[str, Any]) -> Page:
    rows = await engine.read(operation, query, params)
    return [row["row"] for row in rows], [row["sort_key"] for row in rows]


def _split(rows: list[Row]) -> Page:
    return [_relations(row["row"]) for row in rows], [row["sort_key"] for row in rows]


def _relations(row: Row) -> Row:
    """A compiled page row's relations as the resolvers' prefetched `_<field>` values."""
    if "rel_artists" in row:
        artists = sorted(row.pop("rel_artists"), key=lambda a: (a["position"], a["name"]))
        row["_artists"] = [{k: v for k, v in a.items() if k != "position"} for a in artists]
    if "rel_album" in row:
        album = row.pop("rel_album")
        if album is not None and "rel_artist" in album:
            album["_artist"] = album.pop("rel_artist")
        row["_album"] = album
    if "rel_genres" in row:
        row["_genres"] = sorted(row.pop("rel_genres"), key=lambda g: g["name"])
    return row


async def tracks_page(
    engine: GraphEngine,
    flt: q.TrackFilter,
    sort: str,
    direction: q.SortDirection,
    after: list[Any] | None,
    limit: int,
    relations: frozenset[str] = frozenset(),
    projection: q.Projection | None = None,
) -> Page:
    """Up to `limit` tracks after the keyset position `after` (the sort key's values,
    then the id): a window scan (graph/pages.py), or for a filter anchored on an artist
    or album, a sort of that node's tracks. `relations` (of q.PAGE_RELATIONS) come in
    the same query, as the rows' `_artists`, `_album` (with `_artist`) and `_genres`;
    `projection` names the properties the rows need (all when None)."""
    if flt.anchored:
        query, params = q.tracks_page(flt, sort, direction, after, limit, relations, projection)
        return _split(await engine.read("tracks_page", query, params))

    def build(near: bool, far: bool) -> tuple[str, dict[str, Any]]:
        return q.tracks_window(flt, sort, direction, after, near, far, relations, projection)

    def exact(position: list[Any] | None) -> tuple[str, dict[str, Any]]:
        return q.tracks_page(flt, sort, direction, position, 0, relations, projection)

    prop = q.TRACK_SORT_KEYS[sort][0]
    signature = f"tracks:{flt!r}"
    rows = await pages.window_page(
        engine,
        "tracks_page",
        "Track",
        prop,
        direction,
        after,
        limit,
        build,
        signature,
        exact,
        _key_range(flt, prop),
    )
    return _split(rows)


def _key_range(flt: q.TrackFilter, prop: str) -> sort_keys.KeyRange:
    """The keys of sort key `prop` that the filter's own bounds allow."""
    if prop == "sk_year":
        return sort_keys.year_key_range(flt.year_min, flt.year_max)
    if prop == "sk_duration":
        return sort_keys.duration_key_range(flt.duration_min, flt.duration_max)
    return None, None


async def tracks_count(engine: GraphEngine, flt: q.TrackFilter) -> int:
    """How many tracks a filter selects; for filters over the whole label, kept for
    COUNT_SECONDS (and dropped on this process's writes) rather than counted per page."""

    async def count() -> int:
        query, params = q.tracks_count(flt)
        rows = await engine.read("tracks_count", query, params)
        return int(rows[0]["total"]) if rows else 0

    if flt.anchored or flt == q.TrackFilter():
        # An artist's or album's tracks are few; a label's count FalkorDB keeps itself.
        return await count()
    return await counts.cached(engine, f"tracks:{flt!r}", count)


async def artists_page(
    engine: GraphEngine, text: str | None, after: list[Any] | None, limit: int
) -> Page:
    def build(near: bool, far: bool) -> tuple[str, dict[str, Any]]:
        params = {"text": text, "after": after}
        return q.artists_window(text is not None, after is not None, near, far), params

    rows = await pages.window_page(
        engine,
        "artists_page",
        "Artist",
        q.ARTIST_SORT[0],
        "ASC",
        after,
        limit,
        build,
        f"artists:{text!r}",
    )
    return _split(rows)


async def artists_count(engine: GraphEngine, text: str | None) -> int:
    async def count() -> int:
        query = q.ARTISTS_TOTAL_QUERY if text is None else q.ARTISTS_COUNT_QUERY
        rows = await engine.read("artists_count", query, {"text": text})
        return int(rows[0]["total"]) if rows else 0

    return (
        await count() if text is None else await counts.cached(engine, f"artists:{text!r}", count)
    )


def _album_params(
    artist_id: str | None, text: str | None, year_min: int | None, year_max: int | None
) -> dict[str, Any]:
    return {"artist_id": artist_id, "text": text, "year_min": year_min, "year_max": year_max}


async def albums_page(
    engine: GraphEngine,
    artist_id: str | None,
    text: str | None,
    year_min: int | None,
    year_max: int | None,
    after: list[Any] | None,
    limit: int,
) -> Page:
    params = _album_params(artist_id, text, year_min, year_max)
    params |= {"after": after}
    if artist_id is not None:
        params["limit"] = limit
        return await _page(engine, "albums_page", q.albums_page(True), params)

    def build(near: bool, far: bool) -> tuple[str, dict[str, Any]]:
        return q.albums_window(near, far), dict(params)

    signature = f"albums:{text!r}:{year_min!r}:{year_max!r}"
    rows = await pages.window_page(
        engine, "albums_page", "Album", q.ALBUM_SORT[0], "ASC", after, limit, build, signature
    )
    return _split(rows)


async def albums_count(
    engine: GraphEngine,
    artist_id: str | None,
    text: str | None,
    year_min: int | None,
    year_max: int | None,
) -> int:
    params = _album_params(artist_id, text, year_min, year_max)

    unfiltered = (artist_id, text, year_min, year_max) == (None, None, None, None)

    async def count() -> int:
        query = q.ALBUMS_TOTAL_QUERY if unfiltered else q.albums_count(artist_id is not None)
        rows = await engine.read("albums_count", query, params)
        return int(rows[0]["total"]) if rows else 0

    if artist_id is not None or (text, year_min, year_max) == (None, None, None):
        return await count()
    return await counts.cached(engine, f"albums:{text!r}:{year_min!r}:{year_max!r}", count)


NESTED_PAGE_QUERIES = {
    "tracks_by_artist": q.TRACKS_BY_ARTIST_PAGE_QUERY,
    "albums_by_artist": q.ALBUMS_BY_ARTIST_PAGE_QUERY,
    "tracks_by_album": q.TRACKS_BY_ALBUM_PAGE_QUERY,
}
NESTED_COUNT_QUERIES = {
    "tracks_by_artist": q.TRACK_COUNT_BY_ARTIST_QUERY,
    "albums_by_artist": q.ALBUM_COUNT_BY_ARTIST_QUERY,
    "tracks_by_album": q.TRACK_COUNT_BY_ALBUM_QUERY,
}


async def nested_pages(
    engine: GraphEngine, relation: str, keys: Sequence[tuple[str, list[Any] | None, int]]
) -> list[Page]:
    """One page per (parent id, after, limit) key of a parent-to-children relation."""
    unique = list(dict.fromkeys((p, tuple(a) if a else None, n) for p, a, n in keys))
    params = {
        "keys": [{"parent": p, "after": list(a) if a else None, "limit": n} for p, a, n in unique]
    }
    rows = await engine.read(relation, NESTED_PAGE_QUERIES[relation], params)
    pages: dict[tuple[str, tuple[Any, ...] | None, int], Page] = {}
    for row in rows:
        after = tuple(row["after"]) if row["after"] else None
        items = row["rows"]
        pages[(row["parent"], after, row["limit"])] = (
            [item["row"] for item in items],
            [item["sort_key"] for item in items],
        )
    return [pages.get((p, tuple(a) if a else None, n), ([], [])) for p, a, n in keys]


async def nested_counts(engine: GraphEngine, relation: str, ids: Sequence[str]) -> list[int]:
    rows = await engine.read(
        relation + "_count", NESTED_COUNT_QUERIES[relation], {"ids": list(dict.fromkeys(ids))}
    )
    counts = {row["key"]: int(row["n"]) for row in rows}
    return [counts.get(i, 0) for i in ids]


async def search(
    engine: GraphEngine, text: str, first: int, kinds: Sequence[str] | None = None
) -> list[Row]:
    """Full-text hits over track titles, artist names and album titles: kind, id, score."""
    fulltext = engine.dialect.fulltext_text(text)
    if fulltext is None:
        return []
    wanted = [k for k in FULLTEXT_FIELDS if not kinds or k in kinds]
    params = {"q": fulltext, "kinds": wanted, "first": first}
    return await engine.read("search", engine.dialect.fulltext_query(wanted), params)
