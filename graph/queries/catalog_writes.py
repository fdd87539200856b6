"""Catalogue writes. Each is one query, so each is one transaction on both engines.

Artists, albums and genres are merged by their keys (graph/names.py); MERGE on a key
with a uniqueness constraint never duplicates, even under concurrent writers. An import
makes the ones it names first (`create_tracks`): on FalkorDB, which runs one write at a
time, by a MATCH on the key and a CREATE of the whole node when none was found.
"""

from graph.queries.catalog import ALBUM_MAP, ARTIST_MAP, TRACK_MAP
from graph.queries.dialect import Dialect


# The relations of a track, as prepared by graph/catalog_writes.py:
#   artists: [{key, name, id, position}], album: [] or [{key, title_key, title, id, year,
#   artist: [] or [{key, name, id}]}], genres: [{key, name, id}].
def _link_relations(new_track: bool) -> str:
    """The clauses that link `t` to `row`'s artists, album and genres (merged by key).

    A `new_track` has no relations yet, so its edges are created with their properties
    in one piece (the refs are distinct by key: graph/catalog_writes.py); an existing
    track's are merged and then set."""
    by = (
        "CREATE (t)-[:BY {position: ar.position, role: 'primary'}]->(a)"
        if new_track
        else "MERGE (t)-[by:BY]->(a)\n  SET by.position = ar.position, by.role = 'primary'"
    )
    on = "CREATE (t)-[:ON]->(b)" if new_track else "MERGE (t)-[:ON]->(b)"
    in_genre = (
        "CREATE (t)-[:IN_GENRE {source: 'user', confidence: 1.0}]->(g)"
        if new_track
        else "MERGE (t)-[ig:IN_GENRE]->(g)\n  SET ig.source = 'user', ig.confidence = 1.0"
    )
    return f"""
FOREACH (ar IN row.artists |
  MERGE (a:Artist {{name_key: ar.key}})
  ON CREATE SET a.id = ar.id, a.name = ar.name, a.created_at = row.now, a.updated_at = row.now,
    a.name_sort = ar.sort, a.sk_name = ar.sk
  {by})
FOREACH (al IN row.album |
  MERGE (b:Album {{key: al.key}})
  ON CREATE SET b.id = al.id, b.title = al.title, b.title_key = al.title_key, b.year = al.year,
    b.created_at = row.now, b.updated_at = row.now, b.title_sort = al.sort, b.sk_title = al.sk
  {on}
  FOREACH (aa IN al.artist |
    MERGE (x:Artist {{name_key: aa.key}})
    ON CREATE SET x.id = aa.id, x.name = aa.name, x.created_at = row.now, x.updated_at = row.now,
      x.name_sort = aa.sort, x.sk_name = aa.sk
    MERGE (b)-[:BY]->(x)))
FOREACH (gn IN row.genres |
  MERGE (g:Genre {{name_key: gn.key}})
  ON CREATE SET g.id = gn.id, g.name = gn.name
  {in_genre})
"""


# Every property a new track can have (graph/catalog_writes.py checks): its fields, the
# facts about its file, its sort keys and genre keys. The creation names them all in
# one map, nulls left out, so the engine builds the node's properties in one piece: set
# one by one (MERGE, then SET), FalkorDB grows each node's property block a property at
# a time, and a page over a freshly imported catalogue read 1.3x slower for the
# scattered memory (README, "Why a page grew with the catalogue").
NEW_TRACK_PROPS = (
    "title",
    "year",
    "duration",
    "track_number",
    "disc_number",
    "tags",
    "file_path",
    "content_hash",
    "file_size",
    "file_mtime_ns",
    "format",
    "analysis_status",
    "missing",
    "title_sort",
    "sk_title",
    "sk_year",
    "sk_duration",
    "sk_created",
    "genre_keys",
)
_NEW_TRACK_MAP = ", ".join(f"{k}: row.props.{k}" for k in NEW_TRACK_PROPS)

_ARTIST_PROPS = (
    "id: ar.id, name: ar.name, created_at: $now, updated_at: $now, name_sort: ar.sort, "
    "sk_name: ar.sk"
)
_ALBUM_PROPS = (
    "id: al.id, title: al.title, title_key: al.title_key, year: al.year, created_at: $now, "
    "updated_at: $now, title_sort: al.sort, sk_title: al.sk"
)


def create_tracks(dialect: Dialect) -> str:
    """New tracks (`$rows`, as prepared by graph/catalog_writes.py), each created with
    all its properties at once, and linked to their artists, album and genres. The
    artists, albums and genres that do not exist yet (`$artists`, `$albums`, `$genres`:
    those the rows name, distinct by key) are made first, each in one piece too on
    FalkorDB (`Dialect.create_missing`); `WITH count(*)` keeps one row going when a
    list is empty or holds only nodes that exist."""
    return (
        "UNWIND $artists AS ar\n"
        f"{dialect.create_missing('ar', 'Artist', 'name_key', _ARTIST_PROPS)}\n"
        "WITH count(*) AS artists\n"
        "UNWIND $albums AS al\n"
        f"{dialect.create_missing('al', 'Album', 'key', _ALBUM_PROPS)}\n"
        "WITH count(*) AS albums\n"
        "UNWIND $genres AS gn\n"
        f"{dialect.create_missing('gn', 'Genre', 'name_key', 'id: gn.id, name: gn.name')}\n"
        "WITH count(*) AS genres\n"
        "UNWIND $rows AS row\n"
        "CREATE (t:Track {id: row.id, created_at: row.now, updated_at: row.now, "
        f"{_NEW_TRACK_MAP}}})\n"
        "WITH t, row\n"
        f"{_link_relations(new_track=True)}"
        f"RETURN t {TRACK_MAP} AS row"
    )


UPDATE_TRACK_QUERY = (
    "MATCH (t:Track {id: $id})\n"
    "SET t += $props, t.updated_at = $now\n"
    "WITH t\n"
    "OPTIONAL MATCH (t)-[r1:BY]->(:Artist) WHERE $replace_artists\n"
    "DELETE r1\n"
    "WITH DISTINCT t\n"
    "OPTIONAL MATCH (t)-[r2:ON]->(:Album) WHERE $replace_album\n"
    "DELETE r2\n"
    "WITH DISTINCT t\n"
    "OPTIONAL MATCH (t)-[r3:IN_GENRE]->(:Genre) WHERE $replace_genres\n"
    "DELETE r3\n"
    "WITH DISTINCT t, $row AS row\n"
    f"{_link_relations(new_track=False)}"
    f"RETURN t {TRACK_MAP} AS row"
)

# A track's Metadata nodes are its alone: they go with it, in the same query.
DELETE_TRACK_QUERY = (
    "MATCH (t:Track {id: $id}) OPTIONAL MATCH (t)-[:HAS_METADATA]->(m:Metadata) "
    "WITH t, t.id AS id, collect(m) AS entries "
    "FOREACH (x IN entries | DETACH DELETE x) "
    "DETACH DELETE t RETURN id"
)
# The Metadata nodes of a list `tracks` (possibly empty: [null] keeps the row), as `m`.
_TRACKS_METADATA = (
    "UNWIND CASE WHEN size(tracks) = 0 THEN [null] ELSE tracks END AS track "
    "OPTIONAL MATCH (track)-[:HAS_METADATA]->(m:Metadata) "
)

MERGE_ARTIST_QUERY = (
    "MERGE (a:Artist {name_key: $key}) "
    "ON CREATE SET a.id = $id, a.name = $name, a.created_at = $now, a.updated_at = $now, "
    "a.name_sort = $sort, a.sk_name = $sk "
    f"RETURN a {ARTIST_MAP} AS row"
)

# A rename changes the artist's key, and with it the keys of the artist's albums.
RENAME_ARTIST_QUERY = (
    "MATCH (a:Artist {id: $id}) "
    "SET a.name = $name, a.name_key = $key, a.updated_at = $now, a.name_sort = $sort, "
    "a.sk_name = $sk "
    "WITH a OPTIONAL MATCH (al:Album)-[:BY]->(a) "
    "SET al.key = $key + $sep + al.title_key "
    f"WITH DISTINCT a RETURN a {ARTIST_MAP} AS row"
)

# What deleting would remove: tracks by the artist and tracks on the artist's albums.
_ARTIST_HOLDINGS = (
    "MATCH (a:Artist {id: $id}) "
    "OPTIONAL MATCH (a)<-[:BY]-(t1:Track) "
    "WITH a, collect(t1) AS direct "
    "OPTIONAL MATCH (a)<-[:BY]-(al:Album) "
    "OPTIONAL MATCH (al)<-[:ON]-(t2:Track) "
    "WITH a, direct, collect(DISTINCT al) AS albums, collect(DISTINCT t2) AS on_albums "
    "WITH a, albums, direct + [x IN on_albums WHERE NOT x IN direct] AS tracks "
)
ARTIST_HOLDINGS_QUERY = _ARTIST_HOLDINGS + "RETURN size(tracks) AS tracks"
DELETE_ARTIST_QUERY = (
    _ARTIST_HOLDINGS + "WHERE $cascade OR size(tracks) = 0 "
    f"{_TRACKS_METADATA}WITH a, albums, tracks, collect(m) AS entries "
    "FOREACH (x IN entries | DETACH DELETE x) "
    "FOREACH (x IN tracks | DETACH DELETE x) "
    "FOREACH (x IN albums | DETACH DELETE x) "
    "WITH a, size(tracks) AS removed DETACH DELETE a RETURN removed"
)

CREATE_ALBUM_QUERY = (
    "MERGE (b:Album {key: $key}) "
    "ON CREATE SET b.id = $id, b.title = $title, b.title_key = $title_key, b.year = $year, "
    "b.created_at = $now, b.updated_at = $now, b.title_sort = $sort, b.sk_title = $sk "
    "WITH b "
    "FOREACH (aa IN $artist | "
    "  MERGE (x:Artist {name_key: aa.key}) "
    "  ON CREATE SET x.id = aa.id, x.name = aa.name, x.created_at = $now, x.updated_at = $now, "
    "  x.name_sort = aa.sort, x.sk_name = aa.sk "
    "  MERGE (b)-[:BY]->(x)) "
    f"RETURN b {ALBUM_MAP} AS row"
)

# The album key is recomputed from its (possibly new) artist key and title.
UPDATE_ALBUM_QUERY = (
    "MATCH (b:Album {id: $id}) "
    "SET b += $props, b.updated_at = $now "
    "WITH b "
    "OPTIONAL MATCH (b)-[r:BY]->(:Artist) WHERE $replace_artist "
    "DELETE r "
    "WITH DISTINCT b "
    "FOREACH (aa IN $artist | "
    "  MERGE (x:Artist {name_key: aa.key}) "
    "  ON CREATE SET x.id = aa.id, x.name = aa.name, x.created_at = $now, x.updated_at = $now, "
    "  x.name_sort = aa.sort, x.sk_name = aa.sk "
    "  MERGE (b)-[:BY]->(x)) "
    "WITH b "
    "OPTIONAL MATCH (b)-[:BY]->(owner:Artist) "
    "WITH b, head(collect(owner.name_key)) AS owner_key "
    "SET b.key = coalesce(owner_key, '') + $sep + b.title_key "
    f"RETURN b {ALBUM_MAP} AS row"
)

_ALBUM_HOLDINGS = (
    "MATCH (b:Album {id: $id}) OPTIONAL MATCH (b)<-[:ON]-(t:Track) WITH b, collect(t) AS tracks "
)
ALBUM_HOLDINGS_QUERY = _ALBUM_HOLDINGS + "RETURN size(tracks) AS tracks"
DELETE_ALBUM_QUERY = (
    _ALBUM_HOLDINGS + "WHERE $cascade OR size(tracks) = 0 "
    f"{_TRACKS_METADATA}WITH b, tracks, collect(m) AS entries "
    "FOREACH (x IN entries | DETACH DELETE x) "
    "FOREACH (x IN tracks | DETACH DELETE x) "
    "WITH b, size(tracks) AS removed DETACH DELETE b RETURN removed"
)

ARTIST_KEYS_QUERY = (
    "UNWIND $ids AS id MATCH (a:Artist {id: id}) RETURN a.id AS id, a.name AS name, "
    "a.name_key AS key"
)
ALBUM_KEYS_QUERY = (
    "UNWIND $ids AS id MATCH (b:Album {id: id}) "
    "OPTIONAL MATCH (b)-[:BY]->(x:Artist) "
    "RETURN b.id AS id, b.key AS key, b.title AS title, b.title_key AS title_key, "
    "b.year AS year, head(collect(x {.id, .name, key: x.name_key})) AS artist"
)

# `t.genre_keys`, the name keys of a track's genres, is set with its other properties by
# the writes that give it genres (graph/catalog_writes.py; the genre model's predictions
# below in genre_model.py), so that a genre-filtered page tests a property instead of
# following an edge per scanned track (about 30 µs each on FalkorDB).
# Migration 9: `genre_keys` for the tracks written before it was kept.
BACKFILL_GENRE_KEYS_QUERY = (
    "MATCH (t:Track) OPTIONAL MATCH (t)-[:IN_GENRE]->(g:Genre) "
    "WITH t, collect(DISTINCT g.name_key) AS genre_keys "
    "SET t.genre_keys = genre_keys"
)
