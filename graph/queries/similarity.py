"""Similarity edges: `(a:Track)-[:SIMILAR_TO {score, method, computed_at}]->(b:Track)`.

Rows are `{source, target, score}` (track ids); `$method` and `$now` apply to a batch.
"""

from graph.queries.catalog import TRACK_MAP

# MERGE, so writing the same rows twice leaves one edge per pair.
WRITE_SIMILAR_QUERY = (
    "UNWIND $rows AS row\n"
    "MATCH (a:Track {id: row.source})\n"
    "MATCH (b:Track {id: row.target})\n"
    "MERGE (a)-[r:SIMILAR_TO]->(b)\n"
    "SET r.score = row.score, r.method = $method, r.computed_at = $now\n"
    "RETURN count(r) AS written"
)

# One transaction per batch of sources: their old outgoing edges go and the new ones
# come in together, so no reader sees a source of the batch without edges.
# count(*) collapses the deletions to one row (also when nothing matched).
REPLACE_SIMILAR_QUERY = (
    "UNWIND $sources AS sid\n"
    "MATCH (s:Track {id: sid})\n"
    "OPTIONAL MATCH (s)-[old:SIMILAR_TO]->(:Track)\n"
    "DELETE old\n"
    "WITH count(*) AS cleared\n"
    "UNWIND $rows AS row\n"
    "MATCH (a:Track {id: row.source})\n"
    "MATCH (b:Track {id: row.target})\n"
    "CREATE (a)-[r:SIMILAR_TO]->(b)\n"
    "SET r.score = row.score, r.method = $method, r.computed_at = $now\n"
    "RETURN count(r) AS written"
)

NEIGHBOURS_QUERY = (
    "UNWIND $ids AS id\n"
    "MATCH (a:Track {id: id})-[r:SIMILAR_TO]->(b:Track)\n"
    "WHERE r.score >= $min_score\n"
    "WITH id, r, b\n"
    "ORDER BY r.score DESC, b.id\n"
    f"WITH id, collect({{track: b {TRACK_MAP}, score: r.score, method: r.method,"
    " computed_at: r.computed_at}) AS found\n"
    "RETURN id, found[..$first] AS neighbours"
)

COUNT_SIMILAR_QUERY = (
    "UNWIND $ids AS id\nMATCH (a:Track {id: id})-[r:SIMILAR_TO]->(:Track)\nRETURN count(r) AS edges"
)
