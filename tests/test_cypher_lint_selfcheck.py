"""Self-check of the Cypher linter in ``tests/_cypher_lint.py``.

Proves that Neo4j's parser (``@neo4j-cypher/language-support``) really runs and
really rejects bad Cypher, and pins down what it does and does not flag, so tests
that lint the project's queries can trust a clean result. All queries are linted
in one Node process per mode (package load dominates the cost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests._cypher_lint import Diagnostic, is_acceptable, lint
else:
    try:  # tests/ is a package (tests/__init__.py) ...
        from tests._cypher_lint import Diagnostic, is_acceptable, lint
    except ModuleNotFoundError:  # ... or, without __init__.py, tests/ is on sys.path.
        from _cypher_lint import Diagnostic, is_acceptable, lint

# Neo4j 5 statements of the kind the project runs: must lint clean (apart from
# "Parameter $x is not defined.").
CLEAN: dict[str, str] = {
    "good_match": "MATCH (t:Track {id: $id}) RETURN t.title AS title",
    "constraint": ("CREATE CONSTRAINT track_id IF NOT EXISTS FOR (n:Track) REQUIRE n.id IS UNIQUE"),
    "constraint_cypher5_prefix": (
        "CYPHER 5 CREATE CONSTRAINT track_id IF NOT EXISTS FOR (n:Track) REQUIRE n.id IS UNIQUE"
    ),
    "constraint_cypher25_prefix": (
        "CYPHER 25 CREATE CONSTRAINT track_id IF NOT EXISTS FOR (n:Track) REQUIRE n.id IS UNIQUE"
    ),
    "fulltext_index": (
        "CREATE FULLTEXT INDEX catalog_fulltext IF NOT EXISTS "
        "FOR (n:Track|Artist|Album) ON EACH [n.title, n.name]"
    ),
    "fulltext_query": (
        "CALL db.index.fulltext.queryNodes('catalog_fulltext', $q) YIELD node, score "
        "RETURN node.id AS id, score"
    ),
    "foreach_merge": "FOREACH (x IN $xs | MERGE (a:Artist {name_key: x.key}))",
    "set_plus_equals": "MATCH (t:Track {id: $id}) SET t += $props RETURN t",
    "order_skip_limit": (
        "MATCH (t:Track) RETURN t.title AS title ORDER BY title DESC SKIP $skip LIMIT $limit"
    ),
    "unwind_merge": (
        "UNWIND $rows AS row MERGE (a:Artist {id: row.id}) "
        "ON CREATE SET a.name = row.name ON MATCH SET a.updated = timestamp() "
        "RETURN count(a) AS n"
    ),
    "call_scoped_subquery": (
        "MATCH (a:Artist) CALL (a) { MATCH (a)-->(t:Track) RETURN count(t) AS c } RETURN a, c"
    ),
    "builtin_functions": (
        "RETURN toLower('A') AS a, coalesce(null, 1) AS b, elementId($n) AS c, "
        "vector.similarity.cosine([1.0], [1.0]) AS d"
    ),
    "multi_statement": "RETURN 1 AS one; RETURN 2 AS two",
}

# Cypher that Neo4j 5 rejects: each must get an unacceptable diagnostic whose
# message contains the given text.
REJECTED: dict[str, tuple[str, str]] = {
    "syntax_error": ("MATCH (t:Track RETURN t", "Invalid input 'RETURN'"),
    "undefined_variable": (
        "MATCH (t:Track)\nWHERE t.id = $id\nRETURN u",
        "Variable `u` not defined",
    ),
    "limit_before_skip": (
        "MATCH (t:Track) RETURN t LIMIT 5 SKIP 2",
        "`ORDER BY`, `SKIP` and `LIMIT` can only be used in this order",
    ),
    "falkordb_index_syntax": (
        "CREATE INDEX ON :Track(id)",
        "Invalid create index syntax, use `CREATE INDEX FOR ...` instead.",
    ),
    "neo4j4_constraint_syntax": (
        "CREATE CONSTRAINT ON (n:Track) ASSERT n.id IS UNIQUE",
        "Invalid constraint syntax, ON and ASSERT should not be used.",
    ),
    "property_exists_function": (
        "MATCH (a:Artist) WHERE exists(a.name) RETURN a",
        "is no longer supported",
    ),
    "duplicate_column": (
        "MATCH (t:Track) RETURN t.title AS title, t.title AS title",
        "Multiple result columns with the same name are not supported",
    ),
    "bad_cypher_version": (
        "CYPHER 4 MATCH (n) RETURN n",
        "is not a valid option for cypher version",
    ),
    # A deprecation warning (severity "warning") is unacceptable too.
    "deprecated_id_function": (
        "MATCH (n) WHERE id(n) = $id RETURN n",
        "The query used a deprecated function.",
    ),
    "unscoped_call_subquery": (
        "MATCH (a:Artist) CALL { WITH a MATCH (a)-->(t:Track) RETURN count(t) AS c } RETURN a, c",
        "CALL subquery without a variable scope clause is deprecated.",
    ),
}

# FalkorDB-only calls: Neo4j's grammar accepts any namespaced procedure/function
# name, so with an empty schema these lint clean (only "Parameter $q ..."). They
# are caught only with check_builtins=True.
FALKORDB_ONLY: dict[str, tuple[str, str]] = {
    "falkordb_fulltext_query": (
        "CALL db.idx.fulltext.queryNodes('Track', $q) YIELD node RETURN node",
        "Procedure db.idx.fulltext.queryNodes is not present in the database.",
    ),
    "falkordb_vecf32": (
        "RETURN vecf32([1.0])",
        "Function vecf32 is not present in the database.",
    ),
}

ALL_QUERIES: dict[str, str] = {
    **CLEAN,
    **{name: query for name, (query, _) in REJECTED.items()},
    **{name: query for name, (query, _) in FALKORDB_ONLY.items()},
}


def _unacceptable(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if not is_acceptable(d)]


@pytest.fixture(scope="module")
def plain() -> dict[str, list[Diagnostic]]:
    """Diagnostics of every query, linted with the default (empty) schema."""
    names = list(ALL_QUERIES)
    return dict(zip(names, lint([ALL_QUERIES[n] for n in names]), strict=True))


@pytest.fixture(scope="module")
def builtins() -> dict[str, list[Diagnostic]]:
    """Diagnostics of every query, linted with Neo4j's functions/procedures known."""
    names = list(ALL_QUERIES)
    results = lint([ALL_QUERIES[n] for n in names], check_builtins=True)
    return dict(zip(names, results, strict=True))


def test_good_query_reports_only_undefined_parameter(plain: dict[str, list[Diagnostic]]) -> None:
    assert plain["good_match"] == [
        {"message": "Parameter $id is not defined.", "severity": "error", "line": 1, "column": 21}
    ]
    assert all(is_acceptable(d) for d in plain["good_match"])


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_neo4j5_statements_lint_clean(name: str, plain: dict[str, list[Diagnostic]]) -> None:
    assert _unacceptable(plain[name]) == []


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_neo4j5_statements_lint_clean_with_builtins(
    name: str, builtins: dict[str, list[Diagnostic]]
) -> None:
    assert _unacceptable(builtins[name]) == []


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_invalid_cypher_is_rejected(name: str, plain: dict[str, list[Diagnostic]]) -> None:
    _, expected = REJECTED[name]
    bad = _unacceptable(plain[name])
    assert any(expected in d["message"] for d in bad), bad


def test_positions_are_one_based(plain: dict[str, list[Diagnostic]]) -> None:
    undefined = [d for d in plain["undefined_variable"] if "Variable" in d["message"]]
    assert undefined == [
        {"message": "Variable `u` not defined", "severity": "error", "line": 3, "column": 8}
    ]


@pytest.mark.parametrize("name", sorted(FALKORDB_ONLY))
def test_falkordb_only_calls_pass_without_builtins(
    name: str, plain: dict[str, list[Diagnostic]]
) -> None:
    assert _unacceptable(plain[name]) == []


@pytest.mark.parametrize("name", sorted(FALKORDB_ONLY))
def test_falkordb_only_calls_flagged_with_builtins(
    name: str, builtins: dict[str, list[Diagnostic]]
) -> None:
    _, expected = FALKORDB_ONLY[name]
    bad = _unacceptable(builtins[name])
    assert any(d["message"].startswith(expected) for d in bad), bad


@pytest.mark.parametrize(
    ("message", "acceptable"),
    [
        ("Parameter $x is not defined.", True),
        ("Parameter $`my id` is not defined.", True),
        ("Parameter $0 is not defined.", True),
        ("Variable `x` not defined", False),
        ("Parameter $x is not defined. Also something else", False),
        ("Function vecf32 is not present in the database.", False),
    ],
)
def test_is_acceptable(message: str, acceptable: bool) -> None:
    diag: Diagnostic = {"message": message, "severity": "error", "line": 1, "column": 1}
    assert is_acceptable(diag) is acceptable


def test_empty_input_does_not_start_node() -> None:
    assert lint([]) == []
