"""Catalogue reads: lookups by id, relations by key, pages with keyset cursors, search."""

from collections.abc import Mapping, Sequence
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

# Every sort order is an integer key (graph/sort_keys.py) the range index serves, then
# what orders its ties; the node id ends every order. A keyset position is the list of
# these values. Names come from these allow-lists only.
TRACK_SORT_KEYS: dict[str, tuple[str, ...]] = {
    "TITLE": ("sk_title", "title_sort"),
    "CREATED_AT": ("sk_created",),
    "YEAR": ("sk_year",),
    "DURATION": ("sk_duration",),
}
ARTIST_SORT = ("sk_name", "name_sort")
ALBUM_SORT = ("sk_title", "title_sort")
# (label, integer key) pairs whose min, max and count the windows start from.
SORT_KEY_PROPS = {
    ("Track", "sk_title"),
    ("Track", "sk_created"),
    ("Track", "sk_year"),
    ("Track", "sk_duration"),
    ("Artist", "sk_name"),
    ("Album", "sk_title"),
    ("Collection", "sk_name"),
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

    @property
    def anchored(self) -> bool:
        """Whether the filter starts from one artist or album: a page then sorts only
        that node's tracks, and needs no window over the whole label."""
        return (
            self.album_id is not None or self.artist_id is not None or self.artist_key is not None
        )


# Relations a track page can carry in its own query, when the document asks for them
# (look-ahead in resolvers/catalog.py): one round trip for the page and its relations.
PAGE_RELATIONS = frozenset({"artists", "album", "album_artist", "genres"})

Projection = Mapping[str, frozenset[str]]
"""The properties a page's rows need, by part: "track" (the rows), and "artists",
"album", "album_artist" and "genres" (their relations). A part without an entry gets
its whole map (TRACK_MAP, ARTIST_MAP, ...); one with an entry gets `id` and those of
its map's properties the entry names, and nothing else."""
_FULL = {
    "track": TRACK_MAP,
    "artists": ARTIST_MAP,
    "album": ALBUM_MAP,
    "album_artist": ARTIST_MAP,
    "genres": GENRE_MAP,
}


def _map_fields(projection: str) -> str:
    """`{.a, .b}` -> `.a, .b`, to extend a map projection."""
    return projection.strip()[1:-1]


def _projected(part: str, projection: Projection | None, always: tuple[str, ...] = ()) -> str:
    """The map fields (`.id, .title`) of one part of a page: its whole map, or `id`, the
    properties `projection` asks of it and `always` (what the query itself sorts by)."""
    full = _map_fields(_FULL[part])
    wanted = None if projection is None else projection.get(part)
    if wanted is None:
        return full
    keep = {"id", *wanted, *always}
    return ", ".join(f for f in (f.strip() for f in full.split(",")) if f[1:] in keep)


def _relation_clauses(
    carry: str,
    relations: frozenset[str],
    columns: list[str],
    direction: SortDirection,
    projection: Projection | None = None,
) -> tuple[list[str], str]:
    """Clauses after a page's LIMIT that gather the relations of each row `t`, and the
    extra entries of its row map. Aggregation drops the page order: it is sorted again."""
    clauses: list[str] = []
    extra: list[str] = []
    kept = carry
    if "artists" in relations:
        clauses.append("OPTIONAL MATCH (t)-[rb:BY]->(ra:Artist)")
        clauses.append(
            f"WITH {kept}, collect(ra {{{_projected('artists', projection, ('name',))}, "
            "position: coalesce(rb.position, 0)}) AS rel_artists"
        )
        kept += ", rel_artists"
        extra.append("rel_artists: rel_artists")
    if "album" in relations:
        clauses.append("OPTIONAL MATCH (t)-[:ON]->(ral:Album)")
        owner = ""
        if "album_artist" in relations:
            clauses.append("OPTIONAL MATCH (ral)-[:BY]->(rx:Artist)")
            owner_map = _projected("album_artist", projection)
            clauses.append(f"WITH {kept}, ral, head(collect(rx {{{owner_map}}})) AS rel_owner")
            owner = ", rel_artist: rel_owner"
        clauses.append(
            f"WITH {kept}, head(collect(CASE WHEN ral IS NULL THEN null "
            f"ELSE ral {{{_projected('album', projection)}{owner}}} END)) AS rel_album"
        )
        kept += ", rel_album"
        extra.append("rel_album: rel_album")
    if "genres" in relations:
        clauses.append("OPTIONAL MATCH (t)-[:IN_GENRE]->(rg:Genre)")
        genre_map = _projected("genres", projection, ("name",))
        clauses.append(f"WITH {kept}, collect(rg {{{genre_map}}}) AS rel_genres")
        kept += ", rel_genres"
        extra.append("rel_genres: rel_genres")
    if clauses:
        clauses.append(f"WITH {kept} ORDER BY {_order(columns, direction)}")
    return clauses, "".join(", " + e for e in extra)


def _track_return(
    carry: str,
    relations: frozenset[str],
    columns: list[str],
    direction: SortDirection,
    projection: Projection | None = None,
) -> list[str]:
    clauses, extra = _relation_clauses(carry, relations, columns, direction, projection)
    scanned = "scanned, edge, " if carry.startswith("scanned") else ""
    map_ = f"t {{{_projected('track', projection)}{extra}}}"
    return [*clauses, f"RETURN {scanned}{map_} AS row, [{', '.join(columns)}] AS sort_key"]


def _columns(var: str, props: tuple[str, ...]) -> list[str]:
    return [f"{var}.{p}" for p in props] + [f"{var}.id"]


def _order(columns: list[str], direction: SortDirection) -> str:
    return ", ".join(f"{c} {direction}" for c in columns)


def _keyset(columns: list[str], direction: SortDirection) -> str:
    op = ">" if direction == "ASC" else "<"
    return f"[{', '.join(columns)}] {op} $after"


def bounded(bounds: Sequence[tuple[str, str, Any]], params: dict[str, Any]) -> list[str]:
    """The conditions of `(condition, param, value)` bounds whose value is given; their
    values go into `params`."""
    where = []
    for condition, name, value in bounds:
        if value is not None:
            where.append(condition)
            params[name] = value
    return where


def _indexed_conditions(flt: TrackFilter, params: dict[str, Any]) -> list[str]:
    """The filter's conditions on properties with a range index (format, year and
    duration bounds): FalkorDB answers them in the same index scan as a window's keys."""
    where = []
    if flt.format:  # the index holds no empty string: "" is tested as other conditions
        where.append("t.format = $format")
        params["format"] = flt.format
    bounds = (
        ("t.year >= $year_min", "year_min", flt.year_min),
        ("t.year <= $year_max", "year_max", flt.year_max),
        ("t.duration >= $duration_min", "duration_min", flt.duration_min),
        ("t.duration <= $duration_max", "duration_max", flt.duration_max),
    )
    return where + bounded(bounds, params)


def _other_conditions(flt: TrackFilter, params: dict[str, Any]) -> list[str]:
    """The filter's conditions that no index answers: tested on each scanned track."""
    where = []
    if flt.format == "":
        where.append("t.format = $format")
        params["format"] = flt.format
    if flt.text:
        where.append("toLower(t.title) CONTAINS $text")
        params["text"] = flt.text.lower()
    return where


def _track_match(flt: TrackFilter) -> tuple[list[str], list[str], dict[str, Any], bool]:
    """MATCH clauses, WHERE conditions and params for a filter; whether rows may repeat."""
    matches = ["MATCH (t:Track)"]
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
    where = _indexed_conditions(flt, params) + _other_conditions(flt, params)
    if flt.genre_keys:
        params["genre_keys"] = flt.genre_keys
        if where and not flt.anchored and genre_keys_indexed(flt.genre_keys):
            # With other conditions, one index scan answers them all (100k tracks, one
            # genre and a year bound: 3 ms, against 108 ms from the year index across
            # IN_GENRE); a genre alone is counted fastest from its node (1.4 against 5 ms).
            where.append(_genre_test(flt.genre_keys))
        else:
            matches.append("MATCH (t)-[:IN_GENRE]->(fg:Genre)")
            where.append("fg.name_key IN $genre_keys")
            distinct = len(flt.genre_keys) > 1
    return matches, where, params, distinct


def _genre_test(keys: Sequence[str]) -> str:
    """Whether `t` has any of `$genre_keys`, in the form FalkorDB's index answers."""
    return f"({' OR '.join(f'$genre_keys[{i}] IN t.genre_keys' for i in range(len(keys)))})"


def tracks_page(
    flt: TrackFilter,
    sort: str,
    direction: SortDirection,
    after: list[Any] | None,
    limit: int,
    relations: frozenset[str] = frozenset(),
    projection: Projection | None = None,
) -> tuple[str, dict[str, Any]]:
    """One page of tracks in a sort order, after the keyset position `after`, sorting
    every track the filter selects: for filters anchored on an artist or album (their
    tracks only), and the last resort of a window scan.

    Ties are broken by id, so the position is exact whatever was inserted meanwhile.
    """
    columns = _columns("t", TRACK_SORT_KEYS[sort])
    matches, where, params, distinct = _track_match(flt)
    if after is not None:
        where.append(_keyset(columns, direction))
        params["after"] = after
    clauses = [*matches]
    if where:
        clauses.append("WHERE " + " AND ".join(where))
    if distinct:
        clauses.append("WITH DISTINCT t")
    clauses.append(f"WITH t ORDER BY {_order(columns, direction)} LIMIT $limit")
    clauses += _track_return("t", relations, columns, direction, projection)
    params["limit"] = limit
    return "\n".join(clauses), params


def _window_scan(
    var: str,
    label: str,
    prop: str,
    direction: SortDirection,
    near: bool,
    far: bool,
    indexed: Sequence[str] = (),
) -> list[str]:
    """`window_scan` over the nodes `var` of `label`, whose integer key is `prop`."""
    return window_scan(f"({var}:{label})", (var,), f"{var}.{prop}", direction, near, far, indexed)


def window_scan(
    pattern: str,
    variables: Sequence[str],
    key: str,
    direction: SortDirection,
    near: bool,
    far: bool,
    indexed: Sequence[str] = (),
) -> list[str]:
    """Up to $budget matches of `pattern` whose integer `key` lies in the window, as
    `scanned` (how many), `edge` (the lowest key among them, or the highest for DESC: a
    window cut short at the budget holds a match this far along, so the next one can end
    there) and, bound again to `variables`, the matches and one null (so that a window
    whose matches all fail the filter still returns its count). `indexed` are filter
    conditions the range index answers in the same scan: the window then counts, and
    reads, only the matches that pass them. graph/pages.py reads these columns."""
    bounds = list(indexed)
    if near:
        bounds.append(f"{key} {'>=' if direction == 'ASC' else '<='} $near")
    if far:
        bounds.append(f"{key} {'<' if direction == 'ASC' else '>'} $far")
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    names = ", ".join(variables)
    if len(variables) == 1:
        collected, unwind = names, f"UNWIND candidates AS {names}"
    else:  # a match of several variables is collected as a list of them
        bound = ", ".join(f"c[{i}] AS {v}" for i, v in enumerate(variables))
        collected, unwind = f"[{names}]", f"UNWIND candidates AS c WITH scanned, edge, {bound}"
    return [
        f"MATCH {pattern}{where}",
        f"WITH {names} LIMIT $budget",
        f"WITH collect({collected}) AS window, {'min' if direction == 'ASC' else 'max'}"
        f"({key}) AS edge",
        "WITH size(window) AS scanned, edge, window + [null] AS candidates",
        unwind,
    ]


MAX_INDEXED_GENRES = 8


def genre_keys_indexed(keys: Sequence[str]) -> bool:
    """Whether a window scan asks the index for these genre keys (see `tracks_window`).
    FalkorDB's index holds no empty string, and no genre's key is one; a filter on one
    is tested on the scanned tracks instead, so the answer never depends on that."""
    return 0 < len(keys) <= MAX_INDEXED_GENRES and all(keys)


def tracks_window(
    flt: TrackFilter,
    sort: str,
    direction: SortDirection,
    after: list[Any] | None,
    near: bool,
    far: bool,
    relations: frozenset[str] = frozenset(),
    projection: Projection | None = None,
) -> tuple[str, dict[str, Any]]:
    """The first `$limit` tracks of a window of the sort key (`$near` inclusive to `$far`
    exclusive, each optional) that pass the filter, after `$after`; every row also
    carries `scanned`, the window's node count, capped at `$budget`, and `edge` (the window is then
    cut short and must shrink: graph/pages.py). Filters anchored on a node use
    `tracks_page` instead."""
    props = TRACK_SORT_KEYS[sort]
    columns = _columns("t", props)
    params: dict[str, Any] = {}
    # Conditions on indexed properties are part of the window's scan: the window then
    # counts and reads only the tracks that pass them (see `_window_scan`).
    indexed = _indexed_conditions(flt, params)
    where = _other_conditions(flt, params)
    if flt.genre_keys:
        # The track's own list of genre keys (graph/queries/catalog_writes.py keeps it):
        # a property test, where following IN_GENRE costs ~30 µs a scanned track.
        params["genre_keys"] = flt.genre_keys
        if genre_keys_indexed(flt.genre_keys):
            # `$k IN t.genre_keys` with the window's bounds is one scan of FalkorDB's
            # range index (it indexes each element of a list): the window holds only
            # the genre's tracks, however small a share of the catalogue they are.
            indexed.append(_genre_test(flt.genre_keys))
        else:
            where.append("any(k IN t.genre_keys WHERE k IN $genre_keys)")
    clauses = _window_scan("t", "Track", props[0], direction, near, far, indexed)
    if after is not None:
        where.append(_keyset(columns, direction))
        params["after"] = after
    if where:
        clauses.append(f"WITH scanned, edge, t WHERE t IS NULL OR ({' AND '.join(where)})")
    clauses.append(f"WITH scanned, edge, t ORDER BY {_order(columns, direction)} LIMIT $limit")
    clauses += _track_return("scanned, edge, t", relations, columns, direction, projection)
    return "\n".join(clauses), params


def tracks_count(flt: TrackFilter) -> tuple[str, dict[str, Any]]:
    """How many tracks a filter selects."""
    matches, where, params, distinct = _track_match(flt)
    clauses = [*matches]
    if where:
        clauses.append("WHERE " + " AND ".join(where))
    clauses.append("RETURN count(DISTINCT t) AS total" if distinct else "RETURN count(t) AS total")
    return "\n".join(clauses), params


def sort_key_stats(label: str, prop: str) -> str:
    """The lowest and highest integer sort key of a label, and its node count."""
    if (label, prop) not in SORT_KEY_PROPS:
        raise ValueError(f"no sort key {label}.{prop}")
    return (
        f"MATCH (n:{label}) RETURN min(n.{prop}) AS low, max(n.{prop}) AS high, count(n) AS total"
    )


def artists_window(text: bool, after: bool, near: bool, far: bool) -> str:
    """A window of artists by name (see `tracks_window`), optionally whose folded name
    contains `$text`."""
    columns = _columns("a", ARTIST_SORT)
    clauses = _window_scan("a", "Artist", ARTIST_SORT[0], "ASC", near, far)
    where = ["a.name_key CONTAINS $text"] if text else []
    if after:
        where.append(_keyset(columns, "ASC"))
    if where:
        clauses.append(f"WITH scanned, edge, a WHERE a IS NULL OR ({' AND '.join(where)})")
    clauses.append(f"WITH scanned, edge, a ORDER BY {_order(columns, 'ASC')} LIMIT $limit")
    clauses.append(
        f"RETURN scanned, edge, a {ARTIST_MAP} AS row, [{', '.join(columns)}] AS sort_key"
    )
    return "\n".join(clauses)


# Nodes written before sort keys existed, a batch at a time, and their keys set.
TRACKS_WITHOUT_SORT_KEYS_QUERY = (
    "MATCH (t:Track) WHERE t.sk_created IS NULL "
    "RETURN t.id AS id, t.title AS title, t.year AS year, t.duration AS duration, "
    "coalesce(t.created_at, 0) AS created_at LIMIT $limit"
)
ARTISTS_WITHOUT_SORT_KEYS_QUERY = (
    "MATCH (a:Artist) WHERE a.sk_name IS NULL RETURN a.id AS id, a.name AS name LIMIT $limit"
)
ALBUMS_WITHOUT_SORT_KEYS_QUERY = (
    "MATCH (a:Album) WHERE a.sk_title IS NULL RETURN a.id AS id, a.title AS name LIMIT $limit"
)
SET_TRACK_SORT_KEYS_QUERY = "UNWIND $rows AS row MATCH (t:Track {id: row.id}) SET t += row.keys"
SET_ARTIST_SORT_KEYS_QUERY = (
    "UNWIND $rows AS row MATCH (a:Artist {id: row.id}) "
    "SET a.name_sort = row.sort, a.sk_name = row.sk"
)
SET_ALBUM_SORT_KEYS_QUERY = (
    "UNWIND $rows AS row MATCH (a:Album {id: row.id}) "
    "SET a.title_sort = row.sort, a.sk_title = row.sk"
)

# A label's whole count: FalkorDB answers it from its own statistics (no scan).
ARTISTS_TOTAL_QUERY = "MATCH (a:Artist) RETURN count(a) AS total"
ALBUMS_TOTAL_QUERY = "MATCH (a:Album) RETURN count(a) AS total"
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
_ALBUM_COLUMNS = _columns("a", ALBUM_SORT)


def albums_page(by_artist: bool) -> str:
    """A page of albums by title, sorting all it selects: an artist's (`$artist_id`),
    or, as the last resort of a window scan, all."""
    match = _ALBUM_BY_ARTIST_MATCH if by_artist else _ALBUM_MATCH
    return (
        f"{match} WHERE {_ALBUM_FILTER} "
        f"AND ($after IS NULL OR {_keyset(_ALBUM_COLUMNS, 'ASC')}) "
        f"WITH a ORDER BY {_order(_ALBUM_COLUMNS, 'ASC')} LIMIT $limit "
        f"RETURN a {ALBUM_MAP} AS row, [{', '.join(_ALBUM_COLUMNS)}] AS sort_key"
    )


def albums_window(near: bool, far: bool) -> str:
    """A window of albums by title (see `tracks_window`), with the album filter."""
    clauses = _window_scan("a", "Album", ALBUM_SORT[0], "ASC", near, far)
    clauses.append(
        f"WITH scanned, edge, a WHERE a IS NULL OR ({_ALBUM_FILTER} "
        f"AND ($after IS NULL OR {_keyset(_ALBUM_COLUMNS, 'ASC')}))"
    )
    clauses.append(f"WITH scanned, edge, a ORDER BY {_order(_ALBUM_COLUMNS, 'ASC')} LIMIT $limit")
    clauses.append(
        f"RETURN scanned, edge, a {ALBUM_MAP} AS row, [{', '.join(_ALBUM_COLUMNS)}] AS sort_key"
    )
    return "\n".join(clauses)


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
