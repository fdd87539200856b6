"""Track metadata (key/value facts by source) and what the catalogue lacks.

`(Track)-[:HAS_METADATA]->(Metadata {source, key, value, updated_at})`: one node per
track, source and key, deleted with its track (graph/queries/catalog_writes.py).
Statistics and searches go through the track. Feature and embedding property names come
from the allow-lists in graph/queries/analysis.py.
"""

from graph.queries.analysis import EMBEDDING_TYPES, FEATURE_PROPS
from graph.queries.catalog import TRACK_MAP

ENTRY_MAP = "{.source, .key, .value, .updated_at}"

METADATA_BY_TRACK_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id})-[:HAS_METADATA]->(m:Metadata) "
    f"RETURN id AS key, m {ENTRY_MAP} AS row ORDER BY key, m.source, m.key"
)

# Idempotent: a retried write finds the nodes the first try made.
SET_METADATA_QUERY = (
    "MATCH (t:Track {id: $id}) "
    "UNWIND $rows AS row "
    "MERGE (t)-[:HAS_METADATA]->(m:Metadata {source: row.source, key: row.key}) "
    "SET m.value = row.value, m.updated_at = $now "
    f"RETURN m {ENTRY_MAP} AS row"
)

DELETE_METADATA_QUERY = (
    "MATCH (t:Track {id: $id})-[:HAS_METADATA]->(m:Metadata {key: $key}) "
    "WHERE $source IS NULL OR m.source = $source "
    "DETACH DELETE m RETURN count(*) AS deleted"
)

_SEARCH_WHERE = (
    "WHERE ($source IS NULL OR m.source = $source) AND ($key IS NULL OR m.key = $key) "
    "AND ($value IS NULL OR toLower(m.value) CONTAINS $value) "
)

SEARCH_METADATA_QUERY = (
    "MATCH (t:Track)-[:HAS_METADATA]->(m:Metadata) "
    f"{_SEARCH_WHERE}"
    f"RETURN t {TRACK_MAP} AS track, m {ENTRY_MAP} AS entry "
    "ORDER BY t.id, m.source, m.key SKIP $skip LIMIT $first"
)

SEARCH_METADATA_COUNT_QUERY = (
    f"MATCH (t:Track)-[:HAS_METADATA]->(m:Metadata) {_SEARCH_WHERE}RETURN count(m) AS total"
)

# `$id` null: the whole catalogue.
METADATA_BY_SOURCE_QUERY = (
    "MATCH (t:Track)-[:HAS_METADATA]->(m:Metadata) WHERE $id IS NULL OR t.id = $id "
    "RETURN m.source AS name, count(m) AS n, count(DISTINCT t) AS tracks ORDER BY n DESC, name"
)

METADATA_TOP_KEYS_QUERY = (
    "MATCH (t:Track)-[:HAS_METADATA]->(m:Metadata) WHERE $id IS NULL OR t.id = $id "
    "RETURN m.key AS name, count(m) AS n ORDER BY n DESC, name LIMIT $first"
)

METADATA_TRACKS_QUERY = (
    "MATCH (t:Track)-[:HAS_METADATA]->(:Metadata) WHERE $id IS NULL OR t.id = $id "
    "RETURN count(DISTINCT t) AS n"
)

TRACK_EXISTS_QUERY = "MATCH (t:Track {id: $id}) RETURN t.id AS id"

# What a track may lack, as a filter on `t` (fixed strings, no client text).
MISSING: dict[str, str] = {
    "METADATA": "NOT (t)-[:HAS_METADATA]->(:Metadata)",
    "EMBEDDING": "t.embedding_audio IS NULL",
    "AUDIO_FEATURES": f"t.{FEATURE_PROPS['tempo']} IS NULL",
}


def tracks_missing(data: str) -> tuple[str, str]:
    """The page and count queries of tracks lacking `data` (a key of MISSING), by id."""
    where = MISSING[data]
    return (
        f"MATCH (t:Track) WHERE {where} "
        f"RETURN t {TRACK_MAP} AS row ORDER BY t.id SKIP $skip LIMIT $first",
        f"MATCH (t:Track) WHERE {where} RETURN count(t) AS total",
    )


EMBEDDING_COUNTS_QUERY = "MATCH (t:Track) RETURN count(t) AS total, " + ", ".join(
    f"count(t.embedding_{name}) AS {name}" for name in EMBEDDING_TYPES
)

_TEMPO = FEATURE_PROPS["tempo"]
_FEATURE_WHERE = (
    f"WHERE t.{_TEMPO} IS NOT NULL "
    f"AND ($tempo_min IS NULL OR t.{_TEMPO} >= $tempo_min) "
    f"AND ($tempo_max IS NULL OR t.{_TEMPO} <= $tempo_max) "
    f"AND ($key IS NULL OR t.{FEATURE_PROPS['key']} = $key) "
    f"AND ($mode IS NULL OR t.{FEATURE_PROPS['mode']} = $mode) "
    f"AND ($camelot IS NULL OR t.{FEATURE_PROPS['camelot']} = $camelot) "
    f"AND ($energy_min IS NULL OR t.{FEATURE_PROPS['energy']} >= $energy_min) "
    f"AND ($energy_max IS NULL OR t.{FEATURE_PROPS['energy']} <= $energy_max) "
    f"AND ($dance_min IS NULL OR t.{FEATURE_PROPS['danceability']} >= $dance_min) "
    f"AND ($dance_max IS NULL OR t.{FEATURE_PROPS['danceability']} <= $dance_max) "
)

FEATURE_SEARCH_QUERY = (
    f"MATCH (t:Track) {_FEATURE_WHERE}"
    f"RETURN t {TRACK_MAP} AS row ORDER BY t.{_TEMPO}, t.id SKIP $skip LIMIT $first"
)

FEATURE_SEARCH_COUNT_QUERY = f"MATCH (t:Track) {_FEATURE_WHERE}RETURN count(t) AS total"

# An embedding made from API-given features (`embedding_source = 'features'`) goes with
# them, and so do the SIMILAR_TO edges computed from it (both ways), in this one write;
# an embedding analysed from the audio stays, with its edges. count(*) collapses the
# deletions to one row (also when nothing matched).
CLEAR_FEATURES_QUERY = (
    "MATCH (t:Track {id: $id}) WITH t, coalesce(t.embedding_source = 'features', false) AS derived "
    "OPTIONAL MATCH (t)-[r:SIMILAR_TO]-(:Track) WHERE derived "
    "DELETE r "
    "WITH t, derived, count(*) AS cleared "
    "SET "
    + ", ".join(f"t.{prop} = null" for prop in FEATURE_PROPS.values())
    + ", t.embedding_audio = CASE WHEN derived THEN null ELSE t.embedding_audio END"
    ", t.embedding_version = CASE WHEN derived THEN null ELSE t.embedding_version END"
    ", t.embedding_source = CASE WHEN derived THEN null ELSE t.embedding_source END"
    f" RETURN t {TRACK_MAP} AS row"
)
