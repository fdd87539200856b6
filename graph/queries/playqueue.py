"""The play queue: `(User)-[:QUEUED {position}]->(Track)`, positions 0..n-1, one edge
per entry (a track queued twice has two edges), and on the User `queue_index` (the
entry playing, null when the queue is empty), `queue_position_ms`, `queue_version`
(one up per change) and `queue_updated_at`.

Every change is one query. It checks its own preconditions (the tracks exist, the
indexes are in range, the queue stays within `$max`) before it writes anything that
matters; when it returns no row, a read afterwards tells the caller why. The
entries are read in position order and every change writes all of them back as
0..n-1, so a gap left by a track deleted elsewhere closes on the next change (written
back from the change's place on only, the entries before a gap kept their old
positions, and a later entry could land on one of them or before it).
"""

from graph.queries.catalog import TRACK_MAP

# Setting a property of the user takes its write lock (Neo4j) before the queue is
# read, so concurrent changes to one queue serialise. FalkorDB runs one write at a time.
_LOCK = "SET u.queue_version = coalesce(u.queue_version, 0) "


def _entries(carry: str) -> str:
    """The entries in order as `rels` and `queue` (their tracks), and the entry
    playing as `cur` (null when empty, else clamped into range); `carry` names the
    variables kept, starting with `u`."""
    return (
        "OPTIONAL MATCH (u)-[r:QUEUED]->(x:Track) "
        f"WITH {carry}, r, x ORDER BY r.position "
        f"WITH {carry}, collect(r) AS rels, collect(x) AS queue "
        f"WITH {carry}, rels, queue, CASE WHEN size(rels) = 0 THEN null "
        "WHEN coalesce(u.queue_index, 0) >= size(rels) THEN size(rels) - 1 "
        "ELSE coalesce(u.queue_index, 0) END AS cur "
    )


def _row(tracks: str, index: str) -> str:
    return (
        f"RETURN [t IN {tracks} | t {TRACK_MAP}] AS tracks, {index} AS current_index, "
        "coalesce(u.queue_position_ms, 0) AS position_ms, "
        "coalesce(u.queue_version, 0) AS version, u.queue_updated_at AS updated_at"
    )


def _done(tracks: str, index: str, position: str) -> str:
    """Store the new index and position, count the change, return the queue."""
    return (
        f"SET u.queue_index = {index}, u.queue_position_ms = {position}, "
        "u.queue_version = u.queue_version + 1, u.queue_updated_at = $now "
        f"WITH u, {tracks} AS tracks " + _row("tracks", "u.queue_index")
    )


_USER = "MATCH (u:User {id: $user}) "
_KEEP_POSITION = "coalesce(u.queue_position_ms, 0)"
# `$track_ids` (not empty) as `found`, in order, duplicates kept; no row unless all exist.
_FOUND = (
    f"{_USER}UNWIND range(0, size($track_ids) - 1) AS i "
    "WITH u, i, $track_ids[i] AS tid OPTIONAL MATCH (t:Track {id: tid}) "
    "WITH u, i, t ORDER BY i WITH u, collect(t) AS found "
    "WHERE size(found) = size($track_ids) "
)

PLAY_QUEUE_QUERY = _USER + _entries("u") + _row("queue", "cur")

# Replace every entry; `$index` was checked against the new length already.
SET_QUEUE_QUERY = (
    f"{_FOUND}{_LOCK}WITH u, found "
    "OPTIONAL MATCH (u)-[r:QUEUED]->(:Track) WITH u, found, collect(r) AS rels "
    "FOREACH (r IN rels | DELETE r) "
    "FOREACH (k IN range(0, size(found) - 1) | FOREACH (t IN [found[k]] | "
    "CREATE (u)-[:QUEUED {position: k}]->(t))) " + _done("found", "$index", "$position_ms")
)

# Keep the entries; a null `$index` or `$position_ms` keeps that value.
SEEK_QUERY = (
    f"{_USER}{_LOCK}WITH u "
    + _entries("u")
    + "WHERE $index IS NULL OR $index < size(rels) "
    + _done("queue", "coalesce($index, cur)", f"coalesce($position_ms, {_KEEP_POSITION})")
)

# Insert at `$position` (the end when null); the entries from there move down, and
# so does the index when the entry playing is among them.
ENQUEUE_QUERY = (
    f"{_FOUND}{_LOCK}WITH u, found "
    + _entries("u, found")
    + "WITH u, found, rels, queue, cur, coalesce($position, size(rels)) AS at "
    "WHERE at <= size(rels) AND size(rels) + size(found) <= $max "
    "FOREACH (k IN range(0, size(rels) - 1) | FOREACH (r IN [rels[k]] | "
    "SET r.position = CASE WHEN k < at THEN k ELSE k + size(found) END)) "
    "FOREACH (k IN range(0, size(found) - 1) | FOREACH (t IN [found[k]] | "
    "CREATE (u)-[:QUEUED {position: at + k}]->(t))) "
    + _done(
        "queue[0..at] + found + queue[at..]",
        "CASE WHEN cur IS NULL THEN 0 WHEN at <= cur THEN cur + size(found) ELSE cur END",
        f"CASE WHEN cur IS NULL THEN 0 ELSE {_KEEP_POSITION} END",
    )
)

# Remove the entry at `$index`. Removing the entry playing makes the next one play
# from its start (the previous one when it was the last).
DEQUEUE_QUERY = (
    f"{_USER}{_LOCK}WITH u " + _entries("u") + "WHERE $index < size(rels) "
    "FOREACH (r IN [rels[$index]] | DELETE r) "
    "FOREACH (k IN range(0, size(rels) - 1) | FOREACH (r IN [rels[k]] | "
    "SET r.position = CASE WHEN k < $index THEN k ELSE k - 1 END)) "
    + _done(
        "queue[0..$index] + queue[$index + 1..]",
        "CASE WHEN size(rels) = 1 THEN null "
        "WHEN $index < cur OR ($index = cur AND cur = size(rels) - 1) THEN cur - 1 "
        "ELSE cur END",
        f"CASE WHEN $index = cur THEN 0 ELSE {_KEEP_POSITION} END",
    )
)

# Move the entry at `$source` to `$target`; the index follows the entry playing.
MOVE_QUERY = (
    f"{_USER}{_LOCK}WITH u "
    + _entries("u")
    + "WHERE $source < size(rels) AND $target < size(rels) "
    "WITH u, cur, rels[$source] AS moved, queue[$source] AS track, "
    "rels[0..$source] + rels[$source + 1..] AS rest, "
    "queue[0..$source] + queue[$source + 1..] AS others "
    "WITH u, cur, rest[0..$target] + [moved] + rest[$target..] AS rels, "
    "others[0..$target] + [track] + others[$target..] AS queue "
    "FOREACH (k IN range(0, size(rels) - 1) | FOREACH (r IN [rels[k]] | SET r.position = k)) "
    + _done(
        "queue",
        "CASE WHEN cur = $source THEN $target "
        "WHEN $source < cur AND cur <= $target THEN cur - 1 "
        "WHEN $target <= cur AND cur < $source THEN cur + 1 ELSE cur END",
        _KEEP_POSITION,
    )
)

CLEAR_QUEUE_QUERY = (
    f"{_USER}{_LOCK}WITH u "
    "OPTIONAL MATCH (u)-[r:QUEUED]->(:Track) WITH u, collect(r) AS rels "
    "FOREACH (r IN rels | DELETE r) " + _done("[]", "null", "0")
)

# Why a change matched nothing: only read after a change was refused.
QUEUE_LENGTH_QUERY = f"{_USER}OPTIONAL MATCH (u)-[r:QUEUED]->(:Track) RETURN count(r) AS n"
MISSING_TRACKS_QUERY = (
    "UNWIND $ids AS id OPTIONAL MATCH (t:Track {id: id}) WITH id, t WHERE t IS NULL RETURN id"
)
