"""Exploring the similarity graph: neighbourhoods, sonic paths and recommendations.

SIMILAR_TO is stored from a track to its nearest neighbours, but similarity is
symmetric: the expansions read edges both ways, and a pair linked both ways counts
once, with its better score. Results come back as parallel lists, which the FalkorDB
client parses faster than lists of maps.
"""

from graph.queries.analysis import FEATURE_MAP
from graph.queries.catalog import TRACK_MAP
from graph.queries.dialect import NEO4J, Dialect

TRACKS_EXIST_QUERY = "UNWIND $ids AS id MATCH (t:Track {id: id}) RETURN id"

# The `$fanout` strongest edges (either way, score >= $min_score) of each track of `$ids`.
EXPAND_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (:Track {id: id})-[r:SIMILAR_TO]-(b:Track)\n"
    "WHERE r.score >= $min_score\n"
    "WITH id, b.id AS other, max(r.score) AS score\n"
    "ORDER BY score DESC, other\n"
    "WITH id, collect(other) AS others, collect(score) AS scores\n"
    "RETURN id, others[..$fanout] AS others, scores[..$fanout] AS scores"
)

# The tracks of a neighbourhood, with their outgoing edges to one another.
NEIGHBORHOOD_ROWS_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (a:Track {id: id})\n"
    "OPTIONAL MATCH (a)-[r:SIMILAR_TO]->(b:Track)\n"
    "WHERE r.score >= $min_score AND b.id IN $ids\n"
    "WITH id, a, collect(b.id) AS targets, collect(r.score) AS scores\n"
    f"RETURN id, a {TRACK_MAP} AS row, targets, scores"
)

# What a harmonic transition needs to know of each track.
MIX_KEYS_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id}) "
    "RETURN id, t.af_tempo AS tempo, t.af_camelot AS camelot, "
    "t.af_key_confidence AS key_confidence"
)

TRACK_ROWS_WITH_FEATURES_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id}) "
    f"RETURN id, t {TRACK_MAP} AS row, t {FEATURE_MAP} AS features"
)

# Up to `$per_seed` tracks of each seed artist / genre (by folded name); a row per seed
# that exists, so a missing one is told apart from one without tracks.
ARTIST_TRACKS_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (a:Artist {id: id})\n"
    "OPTIONAL MATCH (a)<-[:BY]-(t:Track)\n"
    "WITH id, collect(t.id) AS tracks\n"
    "RETURN id, tracks[..$per_seed] AS tracks"
)
GENRE_TRACKS_QUERY = (
    "UNWIND $keys AS key\n"
    "MATCH (g:Genre {name_key: key})\n"
    "OPTIONAL MATCH (g)<-[:IN_GENRE]-(t:Track)\n"
    "WITH key, collect(t.id) AS tracks\n"
    "RETURN key AS id, tracks[..$per_seed] AS tracks"
)

SEED_VECTORS_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id}) "
    "WHERE t.embedding_audio IS NOT NULL RETURN t.embedding_audio AS vector"
)

# Tracks that share collections with the seeds: public ones, or the caller's own.
# The owner is matched after the seeds' collections: in one pattern, FalkorDB plans a
# scan of every User first (100x slower at 100k tracks).
CO_COLLECTED_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (:Track {id: id})<-[:CONTAINS]-(c:Collection)\n"
    "WITH DISTINCT c\n"
    "MATCH (c)<-[:OWNS]-(o:User)\n"
    "WHERE c.public OR o.id = $viewer\n"
    "MATCH (c)-[:CONTAINS]->(t:Track)\n"
    "WITH t.id AS id, count(c) AS n\n"
    "ORDER BY n DESC, id\n"
    "LIMIT $limit\n"
    "RETURN id, n"
)

# Tracks played by the listeners of the seeds (`n`: how many of them).
CO_PLAYED_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (:Track {id: id})<-[:PLAYED]-(u:User)\n"
    "WITH DISTINCT u\n"
    "MATCH (u)-[:PLAYED]->(t:Track)\n"
    "WITH t.id AS id, count(DISTINCT u) AS n\n"
    "ORDER BY n DESC, id\n"
    "LIMIT $limit\n"
    "RETURN id, n"
)

PLAYED_BY_VIEWER_QUERY = (
    "UNWIND $ids AS id MATCH (:User {id: $viewer})-[:PLAYED]->(t:Track {id: id}) RETURN DISTINCT id"
)

# Cosine similarity (-1..1) of a track's audio embedding with `$centroid`, per engine:
# FalkorDB stores the vector as vecf32 and gives a distance, Neo4j gives (1 + cos) / 2.
_COSINE: dict[str, str] = {
    "falkordb": "1.0 - vec.cosineDistance(t.embedding_audio, vecf32($centroid))",
    "neo4j": "2.0 * vector.similarity.cosine(t.embedding_audio, $centroid) - 1.0",
}


def candidates(dialect: Dialect) -> str:
    """The attributes recommendations filter and aim on, and the cosine of each track's
    audio embedding with `$centroid`, computed in the engine so the vectors stay there."""
    return (
        "UNWIND $ids AS id\n"
        "MATCH (t:Track {id: id})\n"
        "RETURN id, t.af_tempo AS tempo, t.af_energy AS energy,"
        " t.af_danceability AS danceability, t.af_loudness AS loudness, t.af_key AS key,"
        " t.af_mode AS mode, t.duration AS duration,\n"
        " CASE WHEN $centroid IS NULL OR t.embedding_audio IS NULL THEN null"
        f" ELSE {_COSINE[dialect.name]} END AS cosine"
    )


def nearest(dialect: Dialect) -> str:
    """The `$k` tracks whose audio embedding is nearest to `$vector` (the vector index)."""
    return f"{dialect.vector_query('Track', 'embedding_audio')} RETURN node.id AS id, similarity"


# What the Neo4j engine is sent, for the linter.
CANDIDATES_NEO4J_QUERY = candidates(NEO4J)
NEAREST_NEO4J_QUERY = nearest(NEO4J)
