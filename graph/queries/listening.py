"""Listening data: `(User)-[:PLAYED {at, duration_played}]->(Track)`, one edge per play.

`at` is epoch milliseconds and `duration_played` seconds. A user plays a track at a
given millisecond at most once, so recording the same play again (a client retrying)
changes nothing, and `[at, track id]` orders a user's history without ties.

Whose plays a statistic counts is `$user`: one user's id, or null for everybody's.
"""

from graph.queries.catalog import GENRE_MAP, TRACK_MAP, window_scan
from graph.queries.dialect import Dialect

PLAY_ROW = f"{{at: p.at, duration_played: p.duration_played, track: t {TRACK_MAP}}}"

RECORD_PLAY_QUERY = (
    "MATCH (u:User {id: $user}) MATCH (t:Track {id: $track_id}) "
    "MERGE (u)-[p:PLAYED {at: $at}]->(t) SET p.duration_played = $duration_played "
    f"RETURN {PLAY_ROW} AS row"
)

# Newest first. The list comparison rather than `p.at < $after_at OR …`: see
# graph/queries/catalog.py on FalkorDB and keyset predicates.
HISTORY_PAGE_QUERY = (
    "MATCH (:User {id: $user})-[p:PLAYED]->(t:Track) "
    "WHERE $after_at IS NULL OR [p.at, t.id] < [$after_at, $after_id] "
    "WITH p, t ORDER BY p.at DESC, t.id DESC LIMIT $limit "
    f"RETURN {PLAY_ROW} AS row, [p.at, t.id] AS sort_key"
)
# A page of history is a window of `p.at` (graph/pages.py, newest first), which the range
# index on PLAYED.at (migration 10) serves: a user with 100k plays pays for the window,
# not for sorting every play. HISTORY_PAGE_QUERY is the last resort (`exact`).
HISTORY_STATS_QUERY = (
    "MATCH (:User {id: $user})-[p:PLAYED]->(:Track) "
    "RETURN min(p.at) AS low, max(p.at) AS high, count(p) AS total"
)


def history_window(after: bool, near: bool, far: bool) -> str:
    """Up to `$limit` of a user's plays in a window of `p.at` (`$near` inclusive down to
    `$far` exclusive, each optional), newest first, before `[$after_at, $after_id]`;
    every row carries `scanned` and `edge`, and one row is null (`window_scan`)."""
    clauses = window_scan(
        "(:User {id: $user})-[p:PLAYED]->(t:Track)", ("p", "t"), "p.at", "DESC", near, far
    )
    if after:
        clauses.append(
            "WITH scanned, edge, p, t WHERE p IS NULL OR [p.at, t.id] < [$after_at, $after_id]"
        )
    return "\n".join(
        [
            *clauses,
            "WITH scanned, edge, p, t ORDER BY p.at DESC, t.id DESC LIMIT $limit",
            f"RETURN scanned, edge, CASE WHEN p IS NULL THEN null ELSE {PLAY_ROW} END AS row, "
            "[p.at, t.id] AS sort_key",
        ]
    )


def history_count(dialect: Dialect) -> str:
    """How many plays user `$user` has: the user's out-degree in PLAYED (every PLAYED
    edge ends at a track), which neither engine counts edge by edge (a user with 100k
    plays: 5.3 ms counting the edges on FalkorDB, 0.11 ms reading the degree)."""
    return f"MATCH (u:User {{id: $user}}) RETURN {dialect.out_degree('u', 'PLAYED')} AS total"


PLAY_COUNTS_QUERY = (
    "UNWIND $ids AS id MATCH (u:User)-[p:PLAYED]->(:Track {id: id}) "
    "WHERE $user IS NULL OR u.id = $user RETURN id AS key, count(p) AS n"
)

# Trends: `$bounds` are the starts of the buckets and the end of the last one.
# Fixed-width periods (`$width` ms) find their bucket by arithmetic; calendar ones
# (months, years) by counting the starts at or before the value.
_BUCKET = (
    "CASE WHEN $width IS NULL THEN size([b IN $bounds WHERE b <= x]) - 1 "
    "ELSE toInteger((x - $start) / $width) END AS bucket"
)
TREND_UPLOADS_QUERY = (
    "MATCH (t:Track) WHERE t.created_at >= $start AND t.created_at < $end "
    f"WITH t.created_at AS x WITH {_BUCKET} RETURN bucket, toFloat(count(*)) AS value"
)
# `$durations`: the seconds played rather than the number of plays.
TREND_PLAYS_QUERY = (
    "MATCH (u:User)-[p:PLAYED]->(:Track) "
    "WHERE ($user IS NULL OR u.id = $user) AND p.at >= $start AND p.at < $end "
    "WITH p.at AS x, CASE WHEN $durations THEN p.duration_played ELSE 1.0 END AS v "
    f"WITH {_BUCKET}, v RETURN bucket, sum(v) AS value"
)

# Catalogue statistics over every track, or over the tracks of one collection.
_ALL = "MATCH (t:Track) "
_IN = "MATCH (:Collection {id: $collection})-[:CONTAINS]->(t:Track) "
_TOTALS = "RETURN count(t) AS tracks, sum(coalesce(t.duration, 0.0)) AS duration"
# A track has few artists and genres, so the row product per track stays small.
_DISTINCT = (
    "OPTIONAL MATCH (t)-[:BY]->(a:Artist) OPTIONAL MATCH (t)-[:ON]->(b:Album) "
    "RETURN count(DISTINCT a) AS artists, count(DISTINCT b) AS albums"
)
_GENRES = (
    f"MATCH (t)-[:IN_GENRE]->(g:Genre) WITH g, count(t) AS n "
    f"RETURN g {GENRE_MAP} AS genre, n ORDER BY n DESC, g.name"
)
_KEYS = "WHERE t.af_camelot IS NOT NULL RETURN t.af_camelot AS key, count(*) AS n ORDER BY key"
_TEMPO = (
    "WHERE t.af_tempo IS NOT NULL WITH toInteger(floor(t.af_tempo / 10.0)) AS bucket "
    "RETURN bucket, count(*) AS n ORDER BY bucket"
)
STATS_TOTALS_QUERY = _ALL + _TOTALS
STATS_DISTINCT_QUERY = _ALL + _DISTINCT
STATS_GENRES_QUERY = _ALL + _GENRES
STATS_KEYS_QUERY = _ALL + _KEYS
STATS_TEMPO_QUERY = _ALL + _TEMPO
COLLECTION_STATS_TOTALS_QUERY = _IN + _TOTALS
COLLECTION_STATS_DISTINCT_QUERY = _IN + _DISTINCT
COLLECTION_STATS_GENRES_QUERY = _IN + _GENRES
COLLECTION_STATS_KEYS_QUERY = _IN + _KEYS
COLLECTION_STATS_TEMPO_QUERY = _IN + _TEMPO
