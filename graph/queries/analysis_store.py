"""What the analysis worker reads and writes: a track's file, its status, its results in
one write, the vector index, and the catalogue's embeddings page by page for rebuilds.

Builders take the dialect: FalkorDB only indexes vectors stored with `vecf32()`, and each
engine has its own vector search call.
"""

from graph.queries.catalog import TRACK_MAP
from graph.queries.dialect import Dialect

TRACK_FILE_QUERY = (
    "MATCH (t:Track {id: $id}) "
    "RETURN t.file_path AS path, t.analysis_status AS status, t.missing AS missing"
)

SET_ANALYSIS_STATUS_QUERY = (
    "MATCH (t:Track {id: $id}) SET t.analysis_status = $status, "
    "t.analysis_error_code = $code, t.analysis_error = $message RETURN t.id AS id"
)

# Tracks with an audio file that is still there, by id: what `apollonia reanalyze` redoes.
TRACK_FILES_PAGE_QUERY = (
    "MATCH (t:Track) WHERE t.file_path IS NOT NULL AND coalesce(t.missing, false) = false "
    "AND t.id > $after RETURN t.id AS id, t.file_path AS path ORDER BY t.id LIMIT $first"
)

# Tracks with a raw (unstandardised) analysis vector, by id, for refitting and re-embedding.
RAW_EMBEDDINGS_PAGE_QUERY = (
    "MATCH (t:Track) WHERE t.embedding_raw IS NOT NULL AND t.id > $after "
    "RETURN t.id AS id, t.embedding_raw AS raw ORDER BY t.id LIMIT $first"
)

# Tracks whose embedding was derived from API-given features, by id (for re-embedding).
FEATURE_EMBEDDED_PAGE_QUERY = (
    "MATCH (t:Track) WHERE t.embedding_source = 'features' AND t.id > $after "
    "RETURN t.id AS id, t.embedding_source AS source ORDER BY t.id LIMIT $first"
)

# Every track with an audio embedding, by id: the rows a similarity rebuild compares.
EMBEDDINGS_PAGE_QUERY = (
    "MATCH (t:Track) WHERE t.embedding_audio IS NOT NULL AND t.id > $after "
    "RETURN t.id AS id, t.embedding_audio AS vector ORDER BY t.id LIMIT $first"
)

# Whether one derived from API-given features may replace a track's embedding: none yet,
# or a derived one (source "features"). One from its audio (a raw vector) or given
# directly (no source) is kept.
_FEATURES_MAY_REPLACE = (
    "t.embedding_raw IS NULL AND (t.embedding_audio IS NULL "
    "OR coalesce(t.embedding_source = 'features', false))"
)
EMBEDDING_STATE_QUERY = f"MATCH (t:Track {{id: $id}}) RETURN NOT ({_FEATURES_MAY_REPLACE}) AS kept"

# Keep each track's `$k` strongest outgoing edges (reverse edges may push it past k).
TRIM_SIMILAR_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (a:Track {id: id})-[r:SIMILAR_TO]->(:Track)\n"
    "WITH a, r ORDER BY r.score DESC\n"
    "WITH a, collect(r) AS edges\n"
    "UNWIND edges[$k..] AS extra\n"
    "DELETE extra\n"
    "RETURN count(*) AS trimmed"
)


def store_analysis(dialect: Dialect) -> str:
    """Features, both vectors and the ANALYZED status in one write: a reader sees all of
    a track's analysis or none of it."""
    return (
        # The duration sort key follows the duration only where the track had none.
        "MATCH (t:Track {id: $id}) "
        "SET t.sk_duration = CASE WHEN t.duration IS NULL THEN $duration_sk "
        "ELSE t.sk_duration END "
        "SET t += $props, "
        f"t.embedding_audio = {dialect.vector_value('$vector')}, t.embedding_raw = $raw, "
        "t.embedding_version = $version, t.analysis_status = 'ANALYZED', "
        "t.analysis_error_code = null, t.analysis_error = null, t.analyzed_at = $now, "
        "t.duration = coalesce(t.duration, $duration) "
        f"RETURN t {TRACK_MAP} AS row"
    )


# _FEATURES_MAY_REPLACE checked again in the write itself: a job checks first
# (EMBEDDING_STATE_QUERY) and computes, and a vector given directly (upsertEmbedding) or
# analysed from the audio meanwhile must not be lost to it. The SET before the check
# takes the track's write lock first (Neo4j; FalkorDB runs one write at a time), so the
# check reads the last committed embedding.
def _features_may_replace(carried: str = "t") -> str:
    return (
        "SET t.embedding_checked = true SET t.embedding_checked = null "
        f"WITH {carried} WHERE {_FEATURES_MAY_REPLACE} "
    )


def store_feature_embedding(dialect: Dialect) -> str:
    """An embedding derived from API-given features, marked as such, unless the track's
    embedding came from its audio or was given directly: no row then."""
    return (
        "MATCH (t:Track {id: $id}) "
        + _features_may_replace()
        + f"SET t.embedding_audio = {dialect.vector_value('$vector')}, "
        "t.embedding_source = 'features', t.embedding_version = $version RETURN t.id AS id"
    )


def set_embeddings(dialect: Dialect) -> str:
    """Re-embedded vectors of a batch of tracks (after the scaler is refitted)."""
    return (
        "UNWIND $rows AS row MATCH (t:Track {id: row.id}) "
        f"SET t.embedding_audio = {dialect.vector_value('row.vector')}, "
        "t.embedding_version = $version RETURN count(t) AS written"
    )


def set_feature_embeddings(dialect: Dialect) -> str:
    """`set_embeddings` for vectors derived from features: a track whose embedding was
    given or analysed since the batch was read keeps it."""
    return (
        "UNWIND $rows AS row MATCH (t:Track {id: row.id}) "
        + _features_may_replace("t, row")
        + f"SET t.embedding_audio = {dialect.vector_value('row.vector')}, "
        "t.embedding_source = 'features', t.embedding_version = $version "
        "RETURN count(t) AS written"
    )


def vector_neighbours(dialect: Dialect) -> str:
    """The `$k` tracks nearest to `$vector` other than `$id`, by cosine similarity."""
    return (
        f"{dialect.vector_query('Track', 'embedding_audio')} "
        "WHERE node.id <> $id "
        "RETURN node.id AS id, similarity ORDER BY similarity DESC, id LIMIT $k"
    )


def vector_search(dialect: Dialect) -> str:
    """Tracks nearest to `$vector`, as catalogue rows with their similarity."""
    return (
        f"{dialect.vector_query('Track', 'embedding_audio')} "
        f"RETURN node {TRACK_MAP} AS track, similarity ORDER BY similarity DESC LIMIT $k"
    )
