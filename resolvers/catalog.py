"""Catalogue queries and the fields of Track, Artist, Album and Genre.

Plain fields resolve synchronously from the row dicts (snake_case keys); relations
come from prefetching or the per-request loaders.
"""

from typing import Any

from ariadne import InterfaceType, ObjectType, QueryType, UnionType

from graph import catalog
from graph.ids import label_of, require_id
from graph.names import name_key
from graph.queries.catalog import TRACK_SORT_KEYS, TrackFilter
from music.errors import ValidationError
from resolvers._pagination import Shape, connection, decode_cursor, page_size, resolve_total_count
from resolvers._prefetch import (
    node_selections,
    page_projection,
    page_relations,
    prefetch,
    prefetched,
    prefetched_or_load,
    reads,
)
from resolvers.context import Info
from resolvers.loaders import PageKey

query = QueryType()
node_interface = InterfaceType("Node")
search_item = UnionType("SearchItem")
track = ObjectType("Track")
artist = ObjectType("Artist")
album = ObjectType("Album")
connections = [
    ObjectType(name) for name in ("TrackConnection", "ArtistConnection", "AlbumConnection")
]
for conn in connections:
    conn.set_field("totalCount", resolve_total_count)

MAX_TEXT = 200
# The labels `node(id)` serves; other ids (users, keys) are not reachable through it.
NODE_LABELS = frozenset({"Track", "Artist", "Album", "Genre", "Collection"})


def _type_of(obj: dict[str, Any], *_: Any) -> str | None:
    return label_of(obj["id"])


node_interface.set_type_resolver(_type_of)
search_item.set_type_resolver(_type_of)


def _text(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_TEXT:
        raise ValidationError(f"'{field}' must be at most {MAX_TEXT} characters.", field=field)
    return value.strip() or None


def _range(bounds: dict[str, Any] | None) -> tuple[Any, Any]:
    if not bounds:
        return None, None
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None and low > high:
        raise ValidationError("A range's 'min' must not exceed its 'max'.", field="filter")
    return low, high


def _track_filter(raw: dict[str, Any] | None) -> TrackFilter:
    raw = raw or {}
    names = [*(raw.get("genres") or []), *([raw["genre"]] if raw.get("genre") else [])]
    flt = TrackFilter(genre_keys=list(dict.fromkeys(name_key(n) for n in names)))
    if raw.get("artist_id") is not None:
        flt.artist_id = require_id(raw["artist_id"], "Artist", "filter.artistId")
    if raw.get("artist") is not None:
        flt.artist_key = name_key(raw["artist"])
    if raw.get("format") is not None:
        flt.format = str(raw["format"]).strip().lower()
    if raw.get("album_id") is not None:
        flt.album_id = require_id(raw["album_id"], "Album", "filter.albumId")
    flt.year_min, flt.year_max = _range(raw.get("year"))
    flt.duration_min, flt.duration_max = _range(raw.get("duration"))
    flt.text = _text(raw.get("text"), "filter.text")
    return flt


# The keyset positions' shapes: the sort key's parts (an integer key, then for names
# the collation text) and the id that ends each.
TRACK_CURSOR_SHAPES: dict[str, Shape] = {
    "TITLE": (int, str, str),
    "CREATED_AT": (int, str),
    "YEAR": (int, str),
    "DURATION": (int, str),
}
NAME_CURSOR: Shape = (int, str, str)


def _keyset(cursor: str | None, kind: str, shape: Shape) -> list[Any] | None:
    position = decode_cursor(cursor, kind, shape)
    return list(position) if position else None


@query.field("node")
def resolve_node(_: Any, info: Info, id: str) -> Any:
    label = label_of(id)
    if label is None:
        raise ValidationError("'id' is not a valid id.", field="id")
    if label not in NODE_LABELS:
        return None
    # Collections come back only when the caller may see them.
    return info.context.loaders.by_label(label, info.context.principal).load(id)


def _by_id(label: str) -> Any:
    def resolve(_: Any, info: Info, id: str) -> Any:
        return info.context.loaders.by_label(label).load(require_id(id, label))

    return resolve


query.set_field("track", _by_id("Track"))
query.set_field("artist", _by_id("Artist"))
query.set_field("album", _by_id("Album"))


@query.field("genres")
async def resolve_genres(_: Any, info: Info) -> list[dict[str, Any]]:
    return await catalog.all_genres(info.context.engine)


@query.field("tracks")
async def resolve_tracks(
    _: Any,
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: dict[str, Any] | None = None,
    sort: dict[str, Any] | None = None,
) -> dict[str, Any]:
    size = page_size(first)
    flt = _track_filter(filter)
    field = (sort or {}).get("field", "CREATED_AT")
    direction = (sort or {}).get("direction", "ASC")
    if field not in TRACK_SORT_KEYS:
        raise ValidationError("Unknown sort field.", field="sort")
    kind = f"tracks2:{field}:{direction}"
    engine = info.context.engine
    selections = node_selections(info, "TrackConnection")
    rows, keys = await catalog.tracks_page(
        engine,
        flt,
        field,
        direction,
        _keyset(after, kind, TRACK_CURSOR_SHAPES[field]),
        size + 1,
        page_relations(info, selections),
        page_projection(info, selections),
    )
    await prefetch(info, "Track", selections, rows[:size])
    return connection(
        rows,
        keys,
        size,
        kind,
        lambda: catalog.tracks_count(engine, flt),
    )


@query.field("artists")
async def resolve_artists(
    _: Any,
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    size = page_size(first)
    text = _text((filter or {}).get("text"), "filter.text")
    text_key = name_key(text) if text else None
    engine = info.context.engine
    rows, keys = await catalog.artists_page(
        engine, text_key, _keyset(after, "artists2", NAME_CURSOR), size + 1
    )
    return connection(
        rows,
        keys,
        size,
        "artists2",
        lambda: catalog.artists_count(engine, text_key),
    )


@query.field("albums")
async def resolve_albums(
    _: Any,
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    size = page_size(first)
    raw = filter or {}
    artist_id = raw.get("artist_id")
    if artist_id is not None:
        require_id(artist_id, "Artist", "filter.artistId")
    text = _text(raw.get("text"), "filter.text")
    text_key = name_key(text) if text else None
    year_min, year_max = _range(raw.get("year"))
    engine = info.context.engine
    rows, keys = await catalog.albums_page(
        engine,
        artist_id,
        text_key,
        year_min,
        year_max,
        _keyset(after, "albums2", NAME_CURSOR),
        size + 1,
    )
    await prefetch(info, "Album", node_selections(info, "AlbumConnection"), rows[:size])
    return connection(
        rows,
        keys,
        size,
        "albums2",
        lambda: catalog.albums_count(engine, artist_id, text_key, year_min, year_max),
    )


@track.field("tags")
@reads("tags", empty=[])
def resolve_tags(obj: dict[str, Any], *_: Any) -> list[str]:
    return obj.get("tags") or []


@track.field("artists")
@prefetched("artists")
def resolve_track_artists(obj: dict[str, Any], info: Info) -> Any:
    return prefetched_or_load(obj, "artists", info.context.loaders.artists_by_track_id)


@track.field("album")
@prefetched("album")
def resolve_track_album(obj: dict[str, Any], info: Info) -> Any:
    return prefetched_or_load(obj, "album", info.context.loaders.album_by_track_id)


@track.field("genres")
@prefetched("genres")
def resolve_track_genres(obj: dict[str, Any], info: Info) -> Any:
    return prefetched_or_load(obj, "genres", info.context.loaders.genres_by_track_id)


@album.field("artist")
@prefetched("artist")
def resolve_album_artist(obj: dict[str, Any], info: Info) -> Any:
    return prefetched_or_load(obj, "artist", info.context.loaders.artist_by_album_id)


def _nested(
    page_loader: str,
    count_loader: str,
    kind: str,
    shape: Shape,
    child_type: str,
    connection_type: str,
    default: int,
) -> Any:
    async def resolve(
        obj: dict[str, Any],
        info: Info,
        first: int | None = None,
        after: str | None = None,
    ) -> dict[str, Any]:
        size = page_size(first, default)
        position = decode_cursor(after, kind, shape)
        loaders = info.context.loaders
        key = PageKey(obj["id"], position, size + 1)
        rows, keys = await getattr(loaders, page_loader).load(key)
        await prefetch(info, child_type, node_selections(info, connection_type), rows[:size])

        async def count() -> int:
            return await getattr(loaders, count_loader).load(obj["id"])  # type: ignore[no-any-return]

        return connection(rows, keys, size, kind, count)

    return resolve


artist.set_field(
    "tracks",
    _nested(
        "tracks_by_artist_id",
        "track_count_by_artist_id",
        "artist-tracks",
        (str, str),
        "Track",
        "TrackConnection",
        20,
    ),
)
artist.set_field(
    "albums",
    _nested(
        "albums_by_artist_id",
        "album_count_by_artist_id",
        "artist-albums",
        (int, str, str),
        "Album",
        "AlbumConnection",
        20,
    ),
)
album.set_field(
    "tracks",
    _nested(
        "tracks_by_album_id",
        "track_count_by_album_id",
        "album-tracks",
        (int, int, str, str),
        "Track",
        "TrackConnection",
        50,
    ),
)

bindables = [query, node_interface, search_item, track, artist, album, *connections]
