"""Every Cypher string lives under graph/queries/: a string anywhere else in the code that
reads like Cypher fails this test (docstrings and comments aside)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("music", "events", "taskqueue", "graph", "resolvers", "server", "workers")
ALLOWED = ROOT / "graph" / "queries"

CYPHER = re.compile(
    r"\bMATCH\s*\(|\bMERGE\s*\(|\bUNWIND\s+\$|\bCALL\s+db\.|\bDETACH\s+DELETE\b"
    r"|\bRETURN\s+(\d|\w+\s+AS\b|count\(|max\()|\bCREATE\s+(INDEX|CONSTRAINT|VECTOR)"
    r"|\bDROP\s+(INDEX|CONSTRAINT|VECTOR)|\bOPTIONAL\s+MATCH\b"
)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def cypher_outside_queries() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if ALLOWED in path.parents:
                continue
            tree = ast.parse(path.read_text(), str(path))
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docs
                    and CYPHER.search(node.value)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    return found


def test_no_cypher_outside_graph_queries() -> None:
    assert cypher_outside_queries() == []


def test_the_pattern_catches_cypher() -> None:
    for text in (
        "MATCH (t:Track {id: $id}) RETURN t.id AS id",
        "UNWIND $rows AS row MERGE (a:Artist {id: row.id})",
        "CALL db.indexes() YIELD status RETURN status",
        "RETURN 1",
        "CREATE INDEX FOR (n:Track) ON (n.id)",
    ):
        assert CYPHER.search(text), text
    for text in ("CREATED_AT", "DELETE", "Match the track by id", "return it"):
        assert not CYPHER.search(text), text
