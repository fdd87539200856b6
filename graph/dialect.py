"""What really differs between the engines: DDL, full-text search, and its syntax.

Everything else is written once in the openCypher subset both engines run
(graph/queries/). The schema objects are declared once in graph/migrations.py as
`IndexSpec`s; a dialect turns each spec into its engine's statements.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

IndexKind = Literal["unique", "range", "fulltext", "vector"]

# The labels that take part in catalogue full-text search, and the property searched.
FULLTEXT_FIELDS: dict[str, str] = {"Track": "title", "Artist": "name", "Album": "title"}
NEO4J_FULLTEXT_INDEX = "catalog_fulltext"

_WORD_RE = re.compile(r"\w+", re.UNICODE)
# Shorter words match too much one edit away ("cat": bat, car, cut...).
FUZZY_MIN_LENGTH = 4


@dataclass(frozen=True)
class IndexSpec:
    """One schema object: a uniqueness constraint, a range index, or a full-text index."""

    kind: IndexKind
    label: str
    properties: tuple[str, ...]
    dimension: int = 0  # vector indexes only (cosine similarity)


def fulltext_terms(text: str) -> list[str]:
    """Split user text into plain words; every query-syntax character is dropped."""
    return _WORD_RE.findall(text.lower())[:16]


@dataclass(frozen=True)
class Dialect:
    name: str

    def ddl(self, spec: IndexSpec) -> list[str]:
        """The Cypher statements that create `spec`, idempotently where the engine can."""
        raise NotImplementedError

    def fulltext_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        """A query with params `$q` (engine syntax), `$kinds` and `$first`; rows: kind, id,
        score. Only nodes whose label is in `kinds` (a subset of FULLTEXT_FIELDS) count."""
        raise NotImplementedError

    def fulltext_text(self, text: str) -> str | None:
        """User text as this engine's full-text query string (prefix match on the last word)."""
        raise NotImplementedError

    def fuzzy_fulltext_text(self, text: str) -> str | None:
        """User text as a typo-tolerant full-text query string: every word also matches
        words one edit away (Levenshtein distance 1, words of FUZZY_MIN_LENGTH letters
        or more), and the last word may be a prefix. For `fulltext_query`'s `$q`."""
        raise NotImplementedError

    def vector_value(self, param: str) -> str:
        """The expression that stores list parameter `param` so the vector index sees it."""
        raise NotImplementedError

    def vector_query(self, label: str, prop: str) -> str:
        """`CALL ... YIELD node, score` for the `$k` nearest `label` nodes to `$vector` by
        property `prop`, followed by `WITH node, <cosine> AS similarity`: every engine
        reports its own score, and callers see cosine similarity (-1..1) on both."""
        raise NotImplementedError


class FalkorDBDialect(Dialect):
    def ddl(self, spec: IndexSpec) -> list[str]:
        props = ", ".join(f"n.{p}" for p in spec.properties)
        if spec.kind == "range":
            return [f"CREATE INDEX FOR (n:{spec.label}) ON ({props})"]
        if spec.kind == "fulltext":
            args = ", ".join(f"'{p}'" for p in spec.properties)
            return [f"CALL db.idx.fulltext.createNodeIndex('{spec.label}', {args})"]
        if spec.kind == "vector":
            return [
                f"CREATE VECTOR INDEX FOR (n:{spec.label}) ON ({props}) "
                f"OPTIONS {{dimension: {spec.dimension}, similarityFunction: 'cosine'}}"
            ]
        # Unique constraints are a command (GRAPH.CONSTRAINT), not Cypher, on FalkorDB;
        # they need a range index on the same property first.
        return [f"CREATE INDEX FOR (n:{spec.label}) ON ({props})"]

    def fulltext_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        # One index per label: query only the labels asked for (names from the allow-list).
        parts = [
            f"CALL db.idx.fulltext.queryNodes('{label}', $q) YIELD node, score "
            f"RETURN '{label}' AS kind, node.id AS id, score"
            for label in FULLTEXT_FIELDS
            if label in kinds
        ]
        union = " UNION ALL ".join(parts)
        return f"CALL {{ {union} }} RETURN kind, id, score ORDER BY score DESC, id LIMIT $first"

    def fulltext_text(self, text: str) -> str | None:
        terms = fulltext_terms(text)
        if not terms:
            return None
        # RediSearch syntax: words are ANDed; the last one may be a prefix.
        return " ".join([*terms[:-1], f"{terms[-1]}*"])

    def fuzzy_fulltext_text(self, text: str) -> str | None:
        terms = fulltext_terms(text)
        if not terms:
            return None
        # RediSearch: `%word%` is the word or one edit away; `(a|b)` is either.
        words = [f"%{t}%" if len(t) >= FUZZY_MIN_LENGTH else t for t in terms[:-1]]
        last = terms[-1]
        fuzzy = f"(%{last}%|{last}*)" if len(last) >= FUZZY_MIN_LENGTH else f"{last}*"
        return " ".join([*words, fuzzy])

    def vector_value(self, param: str) -> str:
        # Only vecf32 values are indexed; a plain list is stored but never found.
        return f"vecf32({param})"

    def vector_query(self, label: str, prop: str) -> str:
        # FalkorDB yields the cosine distance (1 - cosine).
        return (
            f"CALL db.idx.vector.queryNodes('{label}', '{prop}', $k, vecf32($vector)) "
            "YIELD node, score WITH node, 1.0 - score AS similarity"
        )


class Neo4jDialect(Dialect):
    def ddl(self, spec: IndexSpec) -> list[str]:
        props = ", ".join(f"n.{p}" for p in spec.properties)
        lowered = spec.label.lower()
        suffix = "_".join(spec.properties)
        if spec.kind == "unique":
            return [
                f"CREATE CONSTRAINT {lowered}_{suffix}_unique IF NOT EXISTS "
                f"FOR (n:{spec.label}) REQUIRE ({props}) IS UNIQUE"
            ]
        if spec.kind == "range":
            return [
                f"CREATE INDEX {lowered}_{suffix} IF NOT EXISTS FOR (n:{spec.label}) ON ({props})"
            ]
        if spec.kind == "vector":
            return [
                f"CREATE VECTOR INDEX {lowered}_{suffix}_vector IF NOT EXISTS "
                f"FOR (n:{spec.label}) ON ({props}) OPTIONS {{indexConfig: {{"
                f"`vector.dimensions`: {spec.dimension}, "
                "`vector.similarity_function`: 'cosine'}}"
            ]
        # One full-text index spans the three labels; it is created once, for Track.
        if spec.label != "Track":
            return []
        labels = "|".join(FULLTEXT_FIELDS)
        fields = ", ".join(f"n.{p}" for p in sorted(set(FULLTEXT_FIELDS.values())))
        return [
            f"CREATE FULLTEXT INDEX {NEO4J_FULLTEXT_INDEX} IF NOT EXISTS "
            f"FOR (n:{labels}) ON EACH [{fields}]"
        ]

    def fulltext_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        return (
            f"CALL db.index.fulltext.queryNodes('{NEO4J_FULLTEXT_INDEX}', $q) YIELD node, score "
            "WITH node, score, CASE WHEN node:Track THEN 'Track' WHEN node:Artist THEN 'Artist' "
            "WHEN node:Album THEN 'Album' END AS kind "
            "WHERE kind IN $kinds "
            "RETURN kind, node.id AS id, score ORDER BY score DESC, id LIMIT $first"
        )

    def fulltext_text(self, text: str) -> str | None:
        terms = fulltext_terms(text)
        if not terms:
            return None
        # Lucene syntax: all words required; the last one may be a prefix.
        return " AND ".join([*terms[:-1], f"{terms[-1]}*"])

    def fuzzy_fulltext_text(self, text: str) -> str | None:
        terms = fulltext_terms(text)
        if not terms:
            return None
        # Lucene: `word~1` is the word or one edit away.
        words = [f"{t}~1" if len(t) >= FUZZY_MIN_LENGTH else t for t in terms[:-1]]
        last = terms[-1]
        fuzzy = f"({last}~1 OR {last}*)" if len(last) >= FUZZY_MIN_LENGTH else f"{last}*"
        return " AND ".join([*words, fuzzy])

    def vector_value(self, param: str) -> str:
        return param

    def vector_query(self, label: str, prop: str) -> str:
        # Neo4j yields (1 + cosine) / 2 for a cosine index.
        index = f"{label.lower()}_{prop}_vector"
        return (
            f"CALL db.index.vector.queryNodes('{index}', $k, $vector) "
            "YIELD node, score WITH node, 2.0 * score - 1.0 AS similarity"
        )


FALKORDB = FalkorDBDialect("falkordb")
NEO4J = Neo4jDialect("neo4j")
