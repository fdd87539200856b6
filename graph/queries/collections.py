"""Collections: `(User)-[:OWNS]->(Collection)-[:CONTAINS {position, added_at}]->(Track)`.

Who may see what is decided here, in the queries, never by filtering rows afterwards:
a collection is visible to the caller (`$viewer`, a user id or null, and `$admin`)
when it is public, theirs, or the caller is an admin; only the owner or an admin may
change it. Every membership write renumbers the positions 0..n-1 in the order they
had, so gaps left by a track deleted elsewhere close on the next write.
"""

from graph.queries.catalog import TRACK_MAP, window_scan

# `o` is always the owner; the row carries its id for `Collection.owner`.
COLLECTION_ROW = "c {.id, .name, .description, .public, .created_at, .updated_at, owner_id: o.id}"
_VISIBLE = "(c.public OR o.id = $viewer OR $admin)"
_OWNED = "MATCH (c:Collection {id: $id})<-[:OWNS]-(o:User) WHERE o.id = $viewer OR $admin "
# Setting a property of the collection takes its write lock (Neo4j) before the
# membership is read, so concurrent writes to one collection serialise and never
# number positions from a stale read. FalkorDB runs one write at a time anyway.
_LOCK = "SET c.updated_at = $now "

COLLECTIONS_BY_ID_QUERY = (
    "UNWIND $ids AS id MATCH (c:Collection {id: id})<-[:OWNS]-(o:User) "
    f"WHERE {_VISIBLE} RETURN {COLLECTION_ROW} AS row"
)
COLLECTIONS_BY_TRACK_QUERY = (
    "UNWIND $ids AS id MATCH (:Track {id: id})<-[:CONTAINS]-(c:Collection)<-[:OWNS]-(o:User) "
    f"WHERE {_VISIBLE} "
    f"RETURN id AS key, {COLLECTION_ROW} AS row ORDER BY key, c.name_key, c.id"
)

# The list is the caller's own collections and the public ones, for admins too (an
# admin reaches other private collections by id). Ordered by folded name, then id.
_LISTED = "(c.public OR o.id = $viewer)"
# The list's order: the folded name's integer key and collation text (graph/sort_keys.py,
# as artists), then the id. A page is a window of `sk_name` (graph/pages.py): it reads
# the collections whose key lies in the window, public or not, and keeps the listed ones.
COLLECTION_SORT = ("sk_name", "name_sort")
_LIST_COLUMNS = [f"c.{p}" for p in COLLECTION_SORT] + ["c.id"]


def collections_window(after: bool, near: bool, far: bool) -> str:
    """A window of the viewer's list of collections by name (`$viewer`; see
    graph/queries/catalog.py `tracks_window`): the scan's count, its edge, the listed
    collections of the window after the keyset position `$after`, and one null row."""
    clauses = window_scan("(c:Collection)", ("c",), "c.sk_name", "ASC", near, far)
    clauses.append("OPTIONAL MATCH (c)<-[:OWNS]-(o:User)")
    where = [f"o IS NOT NULL AND {_LISTED}"]
    if after:
        where.append(f"[{', '.join(_LIST_COLUMNS)}] > $after")
    clauses.append(f"WITH scanned, edge, c, o WHERE c IS NULL OR ({' AND '.join(where)})")
    order = ", ".join(f"{column} ASC" for column in _LIST_COLUMNS)
    clauses.append(f"WITH scanned, edge, c, o ORDER BY {order} LIMIT $limit")
    clauses.append(
        f"RETURN scanned, edge, {COLLECTION_ROW} AS row, [{', '.join(_LIST_COLUMNS)}] AS sort_key"
    )
    return "\n".join(clauses)


COLLECTIONS_COUNT_QUERY = (
    f"MATCH (c:Collection)<-[:OWNS]-(o:User) WHERE {_LISTED} RETURN count(c) AS total"
)

# Pages of the tracks of many collections at once, in position order. The parent
# collections were read through a visibility check already. Each key reads a window of
# positions, `k.from` inclusive to `k.to` exclusive, from the index on the edges'
# (cid, position) (migration 10): a page of a 10k-track collection reads its page, not
# the whole collection. `c.span` bounds the positions (every membership write numbers
# them 0..span-1; a track deleted elsewhere leaves a gap until the next write), so a
# window that came short before `span` is followed by one over the rest
# (graph/collection_store.py). Only the page's tracks are made into rows.
TRACKS_BY_COLLECTION_PAGE_QUERY = (
    "UNWIND $keys AS k MATCH (c:Collection {id: k.parent}) "
    "OPTIONAL MATCH (c)-[r:CONTAINS]->(t:Track) "
    "WHERE r.cid = k.parent AND r.position >= k.from AND r.position < k.to "
    "AND (k.after IS NULL OR [r.position, t.id] > k.after) "
    "WITH k, c, t, r ORDER BY r.position, t.id "
    "WITH k, c, collect(CASE WHEN r IS NULL THEN null ELSE {t: t, r: r} END)[0..k.limit] "
    "AS picked "
    "UNWIND (CASE WHEN size(picked) = 0 THEN [null] ELSE picked END) AS p "
    "WITH k, c, p.t AS t, p.r AS r ORDER BY r.position, t.id "
    "WITH k, c, collect(CASE WHEN t IS NULL THEN null ELSE {row: t "
    f"{TRACK_MAP}, sort_key: [r.position, t.id], added_at: r.added_at}} END) AS rows "
    "RETURN k.parent AS parent, k.after AS after, k.limit AS limit, c.span AS span, rows"
)
TRACK_COUNT_BY_COLLECTION_QUERY = (
    "UNWIND $ids AS id MATCH (:Collection {id: id})-[:CONTAINS]->(t:Track) "
    "RETURN id AS key, count(t) AS n"
)

CREATE_COLLECTION_QUERY = (
    "MATCH (o:User {id: $viewer}) "
    "CREATE (o)-[:OWNS]->(c:Collection {id: $id, name: $name, name_key: $name_key, "
    "name_sort: $name_sort, sk_name: $sk_name, description: $description, public: $public, "
    "created_at: $now, updated_at: $now, span: 0}) "
    f"RETURN {COLLECTION_ROW} AS row"
)
UPDATE_COLLECTION_QUERY = (
    f"{_OWNED}SET c += $props, c.updated_at = $now RETURN {COLLECTION_ROW} AS row"
)
DELETE_COLLECTION_QUERY = f"{_OWNED}WITH c, c.id AS id DETACH DELETE c RETURN id"

# Every track must exist, else nothing is written. Tracks already in the collection
# stay where they are; the others go, in the order given, at `$position` (the end
# when null or past it), and the tracks from there on move down.
ADD_TRACKS_QUERY = (
    f"{_OWNED}"
    "UNWIND range(0, size($track_ids) - 1) AS i "
    "WITH c, o, i, $track_ids[i] AS tid "
    "OPTIONAL MATCH (t:Track {id: tid}) "
    "WITH c, o, i, t ORDER BY i "
    "WITH c, o, collect(t) AS found "
    "WHERE size(found) = size($track_ids) "
    f"{_LOCK}WITH c, o, found "
    "OPTIONAL MATCH (c)-[r:CONTAINS]->(x:Track) "
    "WITH c, o, found, r, x ORDER BY r.position, x.id "
    "WITH c, o, found, collect(r) AS rels, collect(x.id) AS present "
    "WITH c, o, rels, [t IN found WHERE NOT t.id IN present] AS fresh, "
    "CASE WHEN $position IS NULL OR $position > size(rels) THEN size(rels) "
    "ELSE $position END AS at "
    "FOREACH (k IN range(0, size(rels) - 1) | FOREACH (r IN [rels[k]] | "
    "SET r.position = CASE WHEN k < at THEN k ELSE k + size(fresh) END)) "
    "FOREACH (k IN range(0, size(fresh) - 1) | FOREACH (t IN [fresh[k]] | "
    "CREATE (c)-[:CONTAINS {cid: c.id, position: at + k, added_at: $now}]->(t))) "
    "SET c.span = size(rels) + size(fresh) "
    f"RETURN {COLLECTION_ROW} AS row, size(rels) + size(fresh) AS track_count, "
    "[t IN fresh | t.id] AS changed"
)
# Ids that are not in the collection are ignored.
REMOVE_TRACKS_QUERY = (
    f"{_OWNED}{_LOCK}WITH c, o "
    "OPTIONAL MATCH (c)-[r:CONTAINS]->(x:Track) "
    "WITH c, o, r, x ORDER BY r.position, x.id "
    "WITH c, o, collect(r) AS rels, collect(x.id) AS ids "
    "WITH c, o, ids, "
    "[k IN range(0, size(rels) - 1) WHERE ids[k] IN $track_ids | rels[k]] AS gone, "
    "[k IN range(0, size(rels) - 1) WHERE NOT ids[k] IN $track_ids | rels[k]] AS kept "
    "FOREACH (r IN gone | DELETE r) "
    "FOREACH (k IN range(0, size(kept) - 1) | FOREACH (r IN [kept[k]] | SET r.position = k)) "
    "SET c.span = size(kept) "
    f"RETURN {COLLECTION_ROW} AS row, size(kept) AS track_count, "
    "[x IN ids WHERE x IN $track_ids] AS changed"
)
# The track must be in the collection; a position past the end means the last one.
MOVE_TRACK_QUERY = (
    f"{_OWNED}"
    "MATCH (c)-[:CONTAINS]->(:Track {id: $track_id}) "
    f"{_LOCK}WITH c, o "
    "MATCH (c)-[r:CONTAINS]->(x:Track) "
    "WITH c, o, r, x ORDER BY r.position, x.id "
    "WITH c, o, collect(r) AS rels, collect(x.id) AS ids "
    "WITH c, o, rels, "
    "[k IN range(0, size(rels) - 1) WHERE ids[k] <> $track_id | rels[k]] AS rest, "
    "head([k IN range(0, size(rels) - 1) WHERE ids[k] = $track_id | rels[k]]) AS moved, "
    "CASE WHEN $position >= size(rels) THEN size(rels) - 1 ELSE $position END AS at "
    "FOREACH (k IN range(0, size(rest) - 1) | FOREACH (r IN [rest[k]] | "
    "SET r.position = CASE WHEN k < at THEN k ELSE k + 1 END)) "
    "SET moved.position = at "
    f"RETURN {COLLECTION_ROW} AS row, size(rels) AS track_count, [$track_id] AS changed"
)

# Migration 10: each membership edge carries its collection's id, which the page index
# pairs with the position, and each collection the span of its positions.
BACKFILL_MEMBERSHIP_QUERY = "MATCH (c:Collection)-[r:CONTAINS]->() SET r.cid = c.id"
BACKFILL_SPAN_QUERY = (
    "MATCH (c:Collection) OPTIONAL MATCH (c)-[r:CONTAINS]->() "
    "WITH c, max(r.position) AS top SET c.span = coalesce(top + 1, 0)"
)

# Why a write matched nothing: only read after a write was refused.
COLLECTION_ACCESS_QUERY = (
    "MATCH (c:Collection {id: $id})<-[:OWNS]-(o:User) RETURN c.public AS public, o.id AS owner_id"
)
MISSING_TRACKS_QUERY = (
    "UNWIND $ids AS id OPTIONAL MATCH (t:Track {id: id}) WITH id, t WHERE t IS NULL RETURN id"
)

# Collections written before their sort keys (migration 11), a batch at a time.
COLLECTIONS_WITHOUT_SORT_KEYS_QUERY = (
    "MATCH (c:Collection) WHERE c.sk_name IS NULL RETURN c.id AS id, c.name AS name LIMIT $limit"
)
SET_COLLECTION_SORT_KEYS_QUERY = (
    "UNWIND $rows AS row MATCH (c:Collection {id: row.id}) "
    "SET c.name_sort = row.sort, c.sk_name = row.sk"
)
