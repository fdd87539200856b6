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
# Neo4j's full-text analyzer, chosen deliberately: the standard tokenizer (Unicode word
# breaks: `don't`, `r.e.m`, `4.5` stay one token; CJK text is split per character),
# lower-cased, with no stop words, so titles such as "Let It Be" or "The The" keep every
# word. It is also Neo4j 5's default, so indexes created before it was named are equal.
NEO4J_FULLTEXT_ANALYZER = "standard-no-stop-words"
# Hits read from Neo4j's one full-text index when only some kinds are wanted (the kinds
# are filtered after the read); with every kind, `$first` is the limit.
FULLTEXT_LIMIT = 1000

_WORD_RE = re.compile(r"\w+", re.UNICODE)
# Lucene's query syntax characters; `&&`/`||` are covered by `&` and `|`. Operators
# (AND, OR, NOT, TO) are capitals only, and user words are lower-cased first.
_LUCENE_SPECIAL_RE = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
# Shorter words match too much one edit away ("cat": bat, car, cut...).
FUZZY_MIN_LENGTH = 4


@dataclass(frozen=True)
class IndexSpec:
    """One schema object: a uniqueness constraint, a range index, or a full-text index."""

    kind: IndexKind
    label: str  # a node label, or a relationship type when `relationship`
    properties: tuple[str, ...]
    dimension: int = 0  # vector indexes only (cosine similarity)
    relationship: bool = False  # range indexes only

    def pattern(self, var: str = "n") -> str:
        """What the index is FOR: `(n:Label)` or `()-[n:TYPE]-()`."""
        return f"()-[{var}:{self.label}]-()" if self.relationship else f"({var}:{self.label})"


def fulltext_terms(text: str) -> list[str]:
    """Split user text into plain words; every query-syntax character is dropped."""
    return _WORD_RE.findall(text.lower())[:16]


def lucene_terms(text: str) -> list[str]:
    """Split user text on white space only and escape Lucene's syntax in each word, so
    that the index's analyzer, not this function, decides what a token is."""
    words = [w for w in text.lower().split() if _WORD_RE.search(w)][:16]
    return [_LUCENE_SPECIAL_RE.sub(r"\\\1", w) for w in words]


@dataclass(frozen=True)
class Dialect:
    name: str

    def ddl(self, spec: IndexSpec) -> list[str]:
        """The Cypher statements that create `spec`, idempotently where the engine can."""
        raise NotImplementedError

    def drop_ddl(self, spec: IndexSpec) -> list[str]:
        """The Cypher statements that drop what `ddl(spec)` created (nothing if absent
        where the engine can say so)."""
        raise NotImplementedError

    def fulltext_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        """A query with params `$q` (engine syntax), `$kinds` and `$first`; rows: kind, id,
        score. Only nodes whose label is in `kinds` (a subset of FULLTEXT_FIELDS) count."""
        raise NotImplementedError

    def fulltext_count_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        """A query with params `$q`, `$kinds`, `$ids` (a list, or null for every node) and
        `$cap`; one row `n`: how many `kinds` nodes match `$q`, counted up to `$cap`."""
        raise NotImplementedError

    def fulltext_text(self, text: str) -> str | None:
        """User text as this engine's full-text query string (prefix match on the last word)."""
        raise NotImplementedError

    def fuzzy_fulltext_text(self, text: str) -> str | None:
        """User text as a typo-tolerant full-text query string: every word also matches
        words one edit away (Levenshtein distance 1, words of FUZZY_MIN_LENGTH letters
        or more), and the last word may be a prefix. For `fulltext_query`'s `$q`."""
        raise NotImplementedError

    def out_degree(self, var: str, rel_type: str) -> str:
        """How many `rel_type` relationships leave node `var`: a degree both engines keep
        per node (FalkorDB in its adjacency matrices, Neo4j in its degree store), read
        without walking the relationships."""
        raise NotImplementedError

    def vector_value(self, param: str) -> str:
        """The expression that stores list parameter `param` so the vector index sees it."""
        raise NotImplementedError

    def vector_query(self, label: str, prop: str) -> str:
        """`CALL ... YIELD node, score` for the `$k` nearest `label` nodes to `$vector` by
        property `prop`, followed by `WITH node, <cosine> AS similarity`: every engine
        reports its own score, and callers see cosine similarity (-1..1) on both."""
        raise NotImplementedError

    def create_missing(self, var: str, label: str, key: str, props: str) -> str:
        """Clauses after `UNWIND ... AS var` that make a `label` node whose `key` is
        `var.key` unless one exists, with the properties `props` (map entries) when it is
        new; they end on a `CREATE` or `SET`, so a `WITH` must follow."""
        raise NotImplementedError


class FalkorDBDialect(Dialect):
    def create_missing(self, var: str, label: str, key: str, props: str) -> str:
        # The node is created with all its properties in one map: FalkorDB grows a
        # node's property block a property at a time when they are SET after MERGE,
        # and the blocks of an import's nodes end up scattered (graph/queries/
        # catalog_writes.py). Writes run one at a time on FalkorDB, so nothing can
        # create the node between the MATCH and the CREATE.
        return (
            f"OPTIONAL MATCH (found:{label} {{{key}: {var}.key}})\n"
            f"WITH {var}, found WHERE found IS NULL\n"
            f"CREATE (:{label} {{{key}: {var}.key, {props}}})"
        )

    def ddl(self, spec: IndexSpec) -> list[str]:
        props = ", ".join(f"n.{p}" for p in spec.properties)
        if spec.kind == "range":
            return [f"CREATE INDEX FOR {spec.pattern()} ON ({props})"]
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

    def drop_ddl(self, spec: IndexSpec) -> list[str]:
        props = ", ".join(f"n.{p}" for p in spec.properties)
        if spec.kind == "fulltext":
            return [f"CALL db.idx.fulltext.drop('{spec.label}')"]
        if spec.kind == "vector":
            return [f"DROP VECTOR INDEX FOR (n:{spec.label}) ON ({props})"]
        # A unique constraint is dropped by command (the engine does it), then its index.
        return [f"DROP INDEX FOR {spec.pattern()} ON ({props})"]

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

    def fulltext_count_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        parts = [
            f"CALL db.idx.fulltext.queryNodes('{label}', $q) YIELD node RETURN node.id AS id"
            for label in FULLTEXT_FIELDS
            if label in kinds
        ]
        union = " UNION ALL ".join(parts)
        return (
            f"CALL {{ {union} }} WITH id WHERE $ids IS NULL OR id IN $ids "
            "WITH id LIMIT $cap RETURN count(id) AS n"
        )

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

    def out_degree(self, var: str, rel_type: str) -> str:
        return f"outdegree({var}, '{rel_type}')"

    def vector_value(self, param: str) -> str:
        # Only vecf32 values are indexed; a plain list is stored but never found.
        return f"vecf32({param})"

    def vector_query(self, label: str, prop: str) -> str:
        # FalkorDB yields the cosine distance (1 - cosine).
        return (
            f"CALL db.idx.vector.queryNodes('{label}', '{prop}', $k, vecf32($vector)) "
            "YIELD node, score WITH node, 1.0 - score AS similarity"
        )


def neo4j_name(spec: IndexSpec) -> str | None:
    """The name Neo4j knows `spec` by (None: a full-text spec other than Track's, which
    the one catalogue index covers)."""
    suffix = f"{spec.label.lower()}_{'_'.join(spec.properties)}"
    if spec.kind == "unique":
        return f"{suffix}_unique"
    if spec.kind == "range":
        return suffix
    if spec.kind == "vector":
        return f"{suffix}_vector"
    return NEO4J_FULLTEXT_INDEX if spec.label == "Track" else None


class Neo4jDialect(Dialect):
    def create_missing(self, var: str, label: str, key: str, props: str) -> str:
        # MERGE on the key's uniqueness constraint: concurrent writers never duplicate.
        return f"MERGE (n:{label} {{{key}: {var}.key}})\nON CREATE SET n += {{{props}}}"

    def ddl(self, spec: IndexSpec) -> list[str]:
        props = ", ".join(f"n.{p}" for p in spec.properties)
        name = neo4j_name(spec)
        if name is None:  # one full-text index spans the three labels, made for Track
            return []
        if spec.kind == "unique":
            return [
                f"CREATE CONSTRAINT {name} IF NOT EXISTS "
                f"FOR (n:{spec.label}) REQUIRE ({props}) IS UNIQUE"
            ]
        if spec.kind == "range":
            return [f"CREATE INDEX {name} IF NOT EXISTS FOR {spec.pattern()} ON ({props})"]
        if spec.kind == "vector":
            return [
                f"CREATE VECTOR INDEX {name} IF NOT EXISTS "
                f"FOR (n:{spec.label}) ON ({props}) OPTIONS {{indexConfig: {{"
                f"`vector.dimensions`: {spec.dimension}, "
                "`vector.similarity_function`: 'cosine'}}"
            ]
        labels = "|".join(FULLTEXT_FIELDS)
        fields = ", ".join(f"n.{p}" for p in sorted(set(FULLTEXT_FIELDS.values())))
        return [
            f"CREATE FULLTEXT INDEX {name} IF NOT EXISTS "
            f"FOR (n:{labels}) ON EACH [{fields}] OPTIONS {{indexConfig: {{"
            f"`fulltext.analyzer`: '{NEO4J_FULLTEXT_ANALYZER}', "
            "`fulltext.eventually_consistent`: false}}"
        ]

    def drop_ddl(self, spec: IndexSpec) -> list[str]:
        name = neo4j_name(spec)
        if name is None:
            return []
        if spec.kind == "unique":
            return [f"DROP CONSTRAINT {name} IF EXISTS"]
        return [f"DROP INDEX {name} IF EXISTS"]

    def fulltext_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        # The index spans three labels: with fewer kinds wanted, read a bounded pool
        # from it, then keep the kinds asked for.
        limit = "$first" if set(FULLTEXT_FIELDS) <= set(kinds) else str(FULLTEXT_LIMIT)
        return (
            f"CALL db.index.fulltext.queryNodes('{NEO4J_FULLTEXT_INDEX}', $q, {{limit: {limit}}}) "
            "YIELD node, score "
            "WITH node, score, CASE WHEN node:Track THEN 'Track' WHEN node:Artist THEN 'Artist' "
            "WHEN node:Album THEN 'Album' END AS kind "
            "WHERE kind IN $kinds "
            "RETURN kind, node.id AS id, score ORDER BY score DESC, id LIMIT $first"
        )

    def fulltext_count_query(self, kinds: Sequence[str] = tuple(FULLTEXT_FIELDS)) -> str:
        # The index's own limit bounds the read; the kinds and ids are kept from it.
        return (
            f"CALL db.index.fulltext.queryNodes('{NEO4J_FULLTEXT_INDEX}', $q, {{limit: $cap}}) "
            "YIELD node "
            "WITH node, CASE WHEN node:Track THEN 'Track' WHEN node:Artist THEN 'Artist' "
            "WHEN node:Album THEN 'Album' END AS kind "
            "WHERE kind IN $kinds AND ($ids IS NULL OR node.id IN $ids) "
            "RETURN count(node) AS n"
        )

    def fulltext_text(self, text: str) -> str | None:
        terms = lucene_terms(text)
        if not terms:
            return None
        # Lucene syntax: all words required. A word goes to the analyzer whole (it may
        # give several tokens: CJK per character); the last word may also be a prefix,
        # which Lucene does not analyze, hence both forms.
        return " AND ".join([*terms[:-1], f"({terms[-1]} OR {terms[-1]}*)"])

    def fuzzy_fulltext_text(self, text: str) -> str | None:
        terms = lucene_terms(text)
        if not terms:
            return None
        # Lucene: `word~1` is the word or one edit away (not analyzed either).
        words = [f"({t} OR {t}~1)" if len(t) >= FUZZY_MIN_LENGTH else t for t in terms[:-1]]
        last = terms[-1]
        fuzzy = (
            f"({last} OR {last}~1 OR {last}*)"
            if len(last) >= FUZZY_MIN_LENGTH
            else f"({last} OR {last}*)"
        )
        return " AND ".join([*words, fuzzy])

    def out_degree(self, var: str, rel_type: str) -> str:
        return f"COUNT {{ ({var})-[:{rel_type}]->() }}"

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
