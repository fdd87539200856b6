"""Audio features, embeddings and analysis status, stored on the Track node.

FalkorDB has no map properties, so each feature is a scalar property `af_<name>` and
each embedding a list property `embedding_<type>`. Property names put into these strings
come only from FEATURE_PROPS and EMBEDDING_TYPES (allow-lists).
"""

import re

from graph.queries.catalog import TRACK_MAP
from graph.queries.dialect import Dialect
from music.features import FEATURE_NAMES

# Feature (snake_case, music/features.py) -> stored property.
FEATURE_PROPS: dict[str, str] = {name: f"af_{name}" for name in FEATURE_NAMES}
FEATURE_MAP = "{" + ", ".join(f".{prop}" for prop in FEATURE_PROPS.values()) + "}"

# Embedding types and their dimension (None: fixed by the first vector stored).
EMBEDDING_TYPES: dict[str, int | None] = {
    "audio": 64,
    "clap": None,
    "musicnn": None,
    "openl3": None,
    "text": None,
}
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
assert all(_TYPE_NAME.match(t) for t in EMBEDDING_TYPES)

# A track that was never analysed reads as PENDING; a write of results makes it ANALYZED.
_ANALYZED = (
    "t.analysis_status = CASE WHEN coalesce(t.analysis_status, 'PENDING') = 'PENDING'"
    " THEN 'ANALYZED' ELSE t.analysis_status END"
)

ANALYSIS_BY_TRACK_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id}) "
    f"RETURN id AS key, t {FEATURE_MAP} AS features, t.analysis_status AS status, "
    "t.analysis_error_code AS error_code, t.analysis_error AS error_message"
)

# `$props` holds every af_ property: null removes a feature the input left out.
SET_FEATURES_QUERY = (
    f"MATCH (t:Track {{id: $id}}) SET t += $props, {_ANALYZED} RETURN t {TRACK_MAP} AS row"
)

SIMILAR_WITH_FEATURES_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (a:Track {id: id})-[r:SIMILAR_TO]->(b:Track)\n"
    "WHERE r.score >= $min_score\n"
    "WITH id, a, r, b\n"
    "ORDER BY r.score DESC, b.id\n"
    f"WITH id, a, collect({{track: b {TRACK_MAP}, features: b {FEATURE_MAP},"
    " score: r.score}) AS found\n"
    f"RETURN id, a {FEATURE_MAP} AS features, found[..$first] AS neighbours"
)

_ANALYSED = "MATCH (t:Track) WHERE t.af_tempo IS NOT NULL "
TOTAL_ANALYSED_QUERY = _ANALYSED + "RETURN count(t) AS total"
TEMPO_HISTOGRAM_QUERY = (
    _ANALYSED + "WITH toInteger(floor(t.af_tempo / 10.0)) AS bucket "
    "RETURN bucket, count(*) AS n ORDER BY bucket"
)
CAMELOT_COUNTS_QUERY = (
    _ANALYSED + "AND t.af_camelot IS NOT NULL "
    "RETURN t.af_camelot AS camelot, count(*) AS n ORDER BY camelot"
)
ENERGY_HISTOGRAM_QUERY = (
    _ANALYSED + "AND t.af_energy IS NOT NULL "
    "WITH toInteger(floor(t.af_energy * 10.0)) AS bucket "
    "RETURN bucket, count(*) AS n ORDER BY bucket"
)


def _prop(embedding_type: str) -> str:
    if embedding_type not in EMBEDDING_TYPES:
        raise ValueError(f"unknown embedding type {embedding_type!r}")
    return f"embedding_{embedding_type}"


def embeddings_by_track(embedding_type: str) -> str:
    """Each track's vector of one type (null when it has none)."""
    prop = _prop(embedding_type)
    return f"UNWIND $ids AS id MATCH (t:Track {{id: id}}) RETURN id AS key, t.{prop} AS vector"


def embedding_dims(embedding_type: str) -> str:
    """The dimension of a stored vector of this type on another track than `$id`."""
    prop = _prop(embedding_type)
    return (
        f"MATCH (t:Track) WHERE t.{prop} IS NOT NULL AND t.id <> $id "
        f"RETURN size(t.{prop}) AS dims LIMIT 1"
    )


def set_embedding(embedding_type: str, dialect: Dialect) -> str:
    """The audio embedding is stored the way the engine's vector index reads it."""
    prop = _prop(embedding_type)
    value = dialect.vector_value("$vector") if embedding_type == "audio" else "$vector"
    # A vector given for audio replaces one derived from features, and is kept.
    source = (
        ", t.embedding_source = null, t.embedding_version = null"
        if embedding_type == "audio"
        else ""
    )
    return (
        f"MATCH (t:Track {{id: $id}}) SET t.{prop} = {value}{source}, {_ANALYZED} "
        f"RETURN t {TRACK_MAP} AS row"
    )


def remove_embedding(embedding_type: str) -> str:
    prop = _prop(embedding_type)
    return f"MATCH (t:Track {{id: $id}}) SET t.{prop} = null RETURN t {TRACK_MAP} AS row"
