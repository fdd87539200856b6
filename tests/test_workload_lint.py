"""The whole-run Cypher lint maps FalkorDB statements to what Neo4j would be sent, and
reports a FalkorDB-only statement that has no Neo4j variant."""

from graph.queries import analysis_store as store_queries
from graph.queries.dialect import FALKORDB, NEO4J
from tests import _workload_lint


def test_dialect_statements_are_linted_as_their_neo4j_variant() -> None:
    falkor, neo = store_queries.vector_search(FALKORDB), store_queries.vector_search(NEO4J)
    plain = "MATCH (t:Track {id: $id}) RETURN t.id AS id"
    sent = _workload_lint._SENT["falkordb"]
    added = {falkor, plain} - sent
    sent |= added
    try:
        statements, unmapped = _workload_lint.neo4j_statements()
    finally:
        sent -= added
    assert {neo, plain} <= statements
    assert falkor not in statements and not unmapped


def test_falkordb_only_syntax_without_a_variant_is_reported() -> None:
    odd = "MATCH (t:Track) SET t.v = vecf32($v) RETURN 1 AS one"
    sent = _workload_lint._SENT["falkordb"]
    added = {odd} - sent
    sent |= added
    try:
        statements, unmapped = _workload_lint.neo4j_statements()
    finally:
        sent -= added
    assert unmapped == {odd} and odd not in statements
