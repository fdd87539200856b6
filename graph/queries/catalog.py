"""Catalogue reads: lookups by id, relations by key, pages with keyset cursors, search."""

from dataclasses import dataclass, field
from typing import Any, Literal

TRACK_MAP = (
    "{.id, .title, .duration, .year, .track_number, .disc_number, .tags, .format,"
    " .file_size, .missing, .created_at, .updated_at}"
)
ARTIST_MAP = "{.id, .name, .created_at, .updated_at}"
ALBUM_MAP = "{.id, .title, .year, .created_at, .updated_at}"
GENRE_MAP = "{.id, .name}"

TRACKS_BY_ID_QUERY = f"UNWIND $ids AS id MATCH (t:Track {{id: id}}) RETURN t {TRACK_MAP} AS row"
ARTISTS_BY_ID_QUERY = f"UNWIND $ids AS id MATCH (a:Artist {{id: id}}) RETURN a {ARTIST_MAP} AS row"
ALBUMS_BY_ID_QUERY = f"UNWIND $ids AS id MATCH (a:Album {{id: id}}) RETURN a {ALBUM_MAP} AS row"
GENRES_BY_ID_QUERY = f"UNWIND $ids AS id MATCH (g:Genre {{id: id}}) RETURN g {GENRE_MAP} AS row"

ARTISTS_BY_TRACK_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id})-[b:BY]->(a:Artist) "
    f"RETURN id AS key, a {ARTIST_MAP} AS row ORDER BY key, coalesce(b.position, 0), a.name"
)
ALBUM_BY_TRACK_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id})-[:ON]->(a:Album) "
    f"RETURN id AS key, a {ALBUM_MAP} AS row"
)
GENRES_BY_TRACK_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id})-[:IN_GENRE]->(g:Genre) "
    f"RETURN id AS key, g {GENRE_MAP} AS row ORDER BY key, g.name"
)
ARTIST_BY_ALBUM_QUERY = (
    "UNWIND $ids AS id MATCH (al:Album {id: id})-[:BY]->(a:Artist) "
    f"RETURN id AS key, a {ARTIST_MAP} AS row"
)
ALL_GENRES_QUERY = f"MATCH (g:Genre) RETURN g {GENRE_MAP} AS row ORDER BY g.name_key"

SortDirection = Literal["ASC", "DESC"]

# Sort keys by GraphQL enum value. Nullable keys are coalesced so that keyset
# comparisons never meet a null.
TRACK_SORT_KEYS: dict[str, str] = {
    "TITLE": "t.title",
    "CREATED_AT": "t.created_at",
    "YEAR": "coalesce(t.year, -1)",
    "DURATION": "coalesce(t.duration, -1.0)",
}


@dataclass
class TrackFilter:
    """Validated filter values for a track page (see schema/catalog.graphql)."""

    genre_keys: list[str] = field(default_factory=list)
    artist_id: str | None = None
    # An artist by name (its merge key), for clients that know names, not ids.
    artist_key: str | None = None
    # The audio format ("mp3", "flac", ...), as stored on the track.
    format: str | None = None
    album_id: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    duration_min: float | None = None
    duration_max: float | None = None
    text: str | None = None


def _track_match(flt: TrackFilter) -> tuple[list[str], list[str], dict[str, Any], bool]:
    """MATCH clauses, WHERE conditions and params for a filter; whether rows may repeat."""
    matches = ["MATCH (t:Track)"]
    where: list[str] = []
    params: dict[str, Any] = {}
    distinct = False
    if flt.album_id is not None:
        matches = ["MATCH (:Album {id: $album_id})<-[:ON]-(t:Track)"]
        params["album_id"] = flt.album_id
    if flt.artist_id is not None:
        matches.append("MATCH (t)-[:BY]->(:Artist {id: $artist_id})")
        params["artist_id"] = flt.artist_id
    if flt.artist_key is not None:
        matches.append("MATCH (t)-[:BY]->(:Artist {name_key: $artist_key})")
        params["artist_key"] = flt.artist_key
    if flt.format is not None:
        where.append("t.format = $format")
        params["format"] = flt.format
    if flt.genre_keys:
        matches.append("MATCH (t)-[:IN_GENRE]->(fg:Genre)")
        where.append("fg.name_key IN $genre_keys")
        params["genre_keys"] = flt.genre_keys
        distinct = len(flt.genre_keys) > 1
    bounds = (
        ("t.year >= $year_min", "year_min", flt.year_min),
        ("t.year <= $year_max", "year_max", flt.year_max),
        ("t.duration >= $duration_min", "duration_min", flt.duration_min),
        ("t.duration <= $duration_max", "duration_max", flt.duration_max),
    )
    for condition, name, value in bounds:
        if value is not None:
            where.append(condition)
            params[name] = value
    if flt.text:
        where.append("toLower(t.title) CONTAINS $text")
        params["text"] = flt.text.lower()
    return matches, where, params, distinct


def tracks_page(
    flt: TrackFilter,
    sort: str,
    direction: SortDirection,
    after: tuple[Any, str] | None,
    limit: int,
) -> tuple[str, dict[str, Any]]:
    """One page of tracks ordered by (sort key, id), starting after the cursor `after`.

    Ties are broken by id, so the position is exact whatever was inserted meanwhile.
    """
    key = TRACK_SORT_KEYS[sort]
    matches, where, params, distinct = _track_match(flt)
    if after is not None:
        # A list comparison, which no index serves: FalkorDB 4.22 ignores `<` on an
        # indexed string property (FalkorDB#2239), and for `>` its index scan returns
        # every row after the cursor before sorting them, 5x slower than this at 10k.
        op = ">" if direction == "ASC" else "<"
        where.append(f"[{key}, t.id] {op} [$after_key, $after_id]")
        params["after_key"], params["after_id"] = after
    clauses = [*matches]
    if where:
        clauses.append("WHERE " + " AND ".join(where))
    if distinct:
        clauses.append("WITH DISTINCT t")
    clauses.append(
        f"WITH t, {key} AS sort_key ORDER BY sort_key {direction}, t.id {direction} LIMIT $limit"
    )
    clauses.append(f"RETURN t {TRACK_MAP} AS row, sort_key")
    params["limit"] = limit
    return "\n".join(clauses), params


def tracks_count(flt: TrackFilter) -> tuple[str, dict[str, Any]]:
    """How many tracks a filter selects."""
    matches, where, params, distinct = _track_match(flt)
    clauses = [*matches]
    if where:
        clauses.append("WHERE " + " AND ".join(where))
    clauses.append("RETURN count(DISTINCT t) AS total" if distinct else "RETURN count(t) AS total")
    return "\n".join(clauses), params


ARTISTS_PAGE_QUERY = (
    "MATCH (a:Artist) WHERE ($text IS NULL OR a.name_key CONTAINS $text) "
    "AND ($after_key IS NULL OR [a.name_key, a.id] > [$after_key, $after_id]) "
    f"WITH a ORDER BY a.name_key, a.id LIMIT $limit RETURN a {ARTIST_MAP} AS row, "
    "a.name_key AS sort_key"
)
ARTISTS_COUNT_QUERY = (
    "MATCH (a:Artist) WHERE ($text IS NULL OR a.name_key CONTAINS $text) RETURN count(a) AS total"
)

_ALBUM_FILTER = (
    "($text IS NULL OR a.title_key CONTAINS $text) "
    "AND ($year_min IS NULL OR a.year >= $year_min) "
    "AND ($year_max IS NULL OR a.year <= $year_max)"
)
_ALBUM_MATCH = "MATCH (a:Album)"
_ALBUM_BY_ARTIST_MATCH = "MATCH (:Artist {id: $artist_id})<-[:BY]-(a:Album)"


def albums_page(by_artist: bool) -> str:
    """A page of albums by title, optionally of one artist (`$artist_id`)."""
    match = _ALBUM_BY_ARTIST_MATCH if by_artist else _ALBUM_MATCH
    return (
        f"{match} WHERE {_ALBUM_FILTER} "
        "AND ($after_key IS NULL OR [a.title_key, a.id] > [$after_key, $after_id]) "
        f"WITH a ORDER BY a.title_key, a.id LIMIT $limit RETURN a {ALBUM_MAP} AS row, "
        "a.title_key AS sort_key"
    )


def albums_count(by_artist: bool) -> str:
    """How many albums the same filter selects."""
    match = _ALBUM_BY_ARTIST_MATCH if by_artist else _ALBUM_MATCH
    return f"{match} WHERE {_ALBUM_FILTER} RETURN count(a) AS total"


# Nested connections: one query pages every parent of the batch. Each key carries its
# own cursor and page size; the ORDER BY before collect() fixes the order inside a group.
TRACKS_BY_ARTIST_PAGE_QUERY = (
    "UNWIND $keys AS k MATCH (:Artist {id: k.parent})<-[:BY]-(t:Track) "
    "WITH k, t, [t.title, t.id] AS sort_key "
    "WHERE k.after IS NULL OR sort_key > k.after "
    "WITH k, t, sort_key ORDER BY sort_key "
    f"WITH k, collect({{row: t {TRACK_MAP}, sort_key: sort_key}}) AS rows "
    "RETURN k.parent AS parent, k.after AS after, k.limit AS limit, rows[0..k.limit] AS rows"
)
ALBUMS_BY_ARTIST_PAGE_QUERY = (
    "UNWIND $keys AS k MATCH (:Artist {id: k.parent})<-[:BY]-(a:Album) "
    "WITH k, a, [coalesce(a.year, 0), a.title_key, a.id] AS sort_key "
    "WHERE k.after IS NULL OR sort_key > k.after "
    "WITH k, a, sort_key ORDER BY sort_key "
    f"WITH k, collect({{row: a {ALBUM_MAP}, sort_key: sort_key}}) AS rows "
    "RETURN k.parent AS parent, k.after AS after, k.limit AS limit, rows[0..k.limit] AS rows"
)
TRACKS_BY_ALBUM_PAGE_QUERY = (
    "UNWIND $keys AS k MATCH (:Album {id: k.parent})<-[:ON]-(t:Track) "
    "WITH k, t, [coalesce(t.disc_number, 1), coalesce(t.track_number, 0), t.title, t.id]"
    " AS sort_key "
    "WHERE k.after IS NULL OR sort_key > k.after "
    "WITH k, t, sort_key ORDER BY sort_key "
    f"WITH k, collect({{row: t {TRACK_MAP}, sort_key: sort_key}}) AS rows "
    "RETURN k.parent AS parent, k.after AS after, k.limit AS limit, rows[0..k.limit] AS rows"
)
TRACK_COUNT_BY_ARTIST_QUERY = (
    "UNWIND $ids AS id MATCH (:Artist {id: id})<-[:BY]-(t:Track) RETURN id AS key, count(t) AS n"
)
ALBUM_COUNT_BY_ARTIST_QUERY = (
    "UNWIND $ids AS id MATCH (:Artist {id: id})<-[:BY]-(a:Album) RETURN id AS key, count(a) AS n"
)
TRACK_COUNT_BY_ALBUM_QUERY = (
    "UNWIND $ids AS id MATCH (:Album {id: id})<-[:ON]-(t:Track) RETURN id AS key, count(t) AS n"
)
