"""Every Cypher statement the test run sends, linted with Neo4j's parser at the end.

`start()` wraps `read`, `write` and `write_batches` of both engines (the real methods
still run) and records each statement that code outside tests/ sends: repositories,
resolvers, workers, the server. `finish()` turns each statement sent to FalkorDB into
what the Neo4j engine would send for it (the dialect-built statements, paired by
building each with both dialects), lints with Neo4j's own parser those that the
enumeration of tests/test_cypher_neo4j_lint.py (which lints its own) does not list
(tests/_cypher_lint.py; results are cached by pytest per statement), and fails the run
if any is refused or has FalkorDB-only syntax with no Neo4j variant. `make test`
therefore lints the whole suite's workload once per run. The statements missing from
the enumeration are written to .pytest_cache/d/apollonia/workload-missed.txt.
"""

import functools
import hashlib
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.migrations import MIGRATIONS
from graph.queries.dialect import FALKORDB, FULLTEXT_FIELDS, NEO4J, Dialect

_SENT: dict[str, set[str]] = {"falkordb": set(), "neo4j": set()}
_CACHE_KEY = "apollonia/cypher-lint-v1"
_LINT_TIMEOUT_S = 600.0
# Statements of the FalkorDB engine itself (index waits): never sent to Neo4j.
_FALKORDB_ONLY_PREFIXES = ("CALL db.indexes()", "CALL db.constraints()")
_FALKORDB_MARKERS = ("vecf32(", "db.idx.", "vec.", "outdegree(", "indegree(")


def enabled() -> bool:
    return os.environ.get("APOLLONIA_WORKLOAD_LINT", "1") != "0"


def _record(engine_name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    # Not async: the caller's frame is the one that called, whatever awaits it later.
    @functools.wraps(method)
    def recording(self: Any, operation: str, query: str, *args: Any, **kw: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if not caller.startswith("tests."):
            _SENT[engine_name].add(query)
        return method(self, operation, query, *args, **kw)

    return recording


def start() -> None:
    """Record what both engines are sent from now on."""
    from graph.engine.falkordb import FalkorDBEngine
    from graph.engine.neo4j import Neo4jEngine

    for cls, name in ((FalkorDBEngine, "falkordb"), (Neo4jEngine, "neo4j")):
        for method in ("read", "write", "write_batches"):
            setattr(cls, method, _record(name, getattr(cls, method)))


def _dialect_statements(dialect: Dialect) -> Iterator[str]:
    """Every dialect-built statement, in a fixed order (so both dialects pair up)."""
    from graph.queries import analysis as analysis_queries
    from graph.queries import analysis_store as store_queries
    from graph.queries import catalog_writes as write_queries
    from graph.queries import exploration as exploration_queries
    from graph.queries import listening as listening_queries

    for size in range(1, len(FULLTEXT_FIELDS) + 1):
        for kinds in itertools.combinations(FULLTEXT_FIELDS, size):
            yield dialect.fulltext_query(kinds)
            yield dialect.fulltext_count_query(kinds)
    for kind in analysis_queries.EMBEDDING_TYPES:
        yield analysis_queries.set_embedding(kind, dialect)
    for build in (
        store_queries.store_analysis,
        store_queries.store_feature_embedding,
        store_queries.set_embeddings,
        store_queries.set_feature_embeddings,
        store_queries.vector_neighbours,
        store_queries.vector_search,
        exploration_queries.candidates,
        exploration_queries.nearest,
        listening_queries.history_count,
        write_queries.create_tracks,
    ):
        yield build(dialect)


def neo4j_variant() -> dict[str, str]:
    """FalkorDB statement -> the statement the Neo4j engine sends in its place."""
    pairs = dict(zip(_dialect_statements(FALKORDB), _dialect_statements(NEO4J), strict=True))
    for migration in MIGRATIONS:
        for spec in (*migration.create, *migration.drop):
            for falkor, neo in zip(FALKORDB.ddl(spec), NEO4J.ddl(spec), strict=False):
                pairs.setdefault(falkor, neo)
    return pairs


def neo4j_statements() -> tuple[set[str], set[str]]:
    """The Neo4j statements the run amounts to, and the FalkorDB statements that have
    FalkorDB-only syntax and no known Neo4j variant (a dialect builder is missing)."""
    variants = neo4j_variant()
    statements = set(_SENT["neo4j"])
    unmapped: set[str] = set()
    for query in _SENT["falkordb"]:
        if query.startswith(_FALKORDB_ONLY_PREFIXES):
            continue
        if query in variants:
            statements.add(variants[query])
        elif any(marker in query for marker in _FALKORDB_MARKERS):
            unmapped.add(query)
        else:
            statements.add(query)
    return statements, unmapped


def _digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:24]


def finish(session: pytest.Session) -> None:
    """Lint what the run sent; fail the session on any refused statement."""
    if not enabled() or not (_SENT["falkordb"] or _SENT["neo4j"]):
        return
    from tests._cypher_lint import CypherLintError, is_acceptable, lint
    from tests.test_cypher_neo4j_lint import neo4j_queries

    statements, unmapped = neo4j_statements()
    # The enumerated statements are linted by tests/test_cypher_neo4j_lint.py itself.
    enumerated = set(neo4j_queries())
    missed = statements - enumerated
    cache = getattr(session.config, "cache", None)
    passed: list[str] = list(cache.get(_CACHE_KEY, [])) if cache is not None else []
    known = set(passed)
    todo = sorted(q for q in missed if _digest(q) not in known)
    failures: dict[str, list[str]] = {}
    writer = session.config.get_terminal_writer()
    try:
        # Generous: at the end of a full run on a busy 2-core machine, Node starts slowly.
        results = lint(todo, check_builtins=True, timeout=_LINT_TIMEOUT_S + 2.0 * len(todo))
    except CypherLintError as e:
        writer.line(f"Cypher workload lint could not run: {e}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    for query, diagnostics in zip(todo, results, strict=True):
        bad = [d["message"] for d in diagnostics if not is_acceptable(d)]
        if bad:
            failures[query] = bad
        else:
            passed.append(_digest(query))
    if cache is not None:
        cache.set(_CACHE_KEY, sorted(set(passed)))
        # One statement after another, each ended by a line holding only `;`.
        report = Path(str(cache.mkdir("apollonia"))) / "workload-missed.txt"
        report.write_text("".join(f"{q}\n;\n" for q in sorted(missed)))
    writer.line(
        f"Cypher workload lint: {len(statements)} Neo4j statements from this run, "
        f"{len(missed)} not in the enumeration, {len(todo)} linted now, {len(failures)} "
        f"refused, {len(unmapped)} without a Neo4j variant"
    )
    for query, messages in {**failures, **{q: ["no Neo4j variant"] for q in unmapped}}.items():
        writer.line(f"  {query}\n    -> {messages}", red=True)
    if failures or unmapped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
