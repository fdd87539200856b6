"""The executor's plain-field path (server/plain_fields.py) answers exactly as graphql-core.

Every document here runs twice over the same rows: through graphql-core's own executor
and through the server's, and the two results (data, errors with their messages, paths
and locations) must be equal. The rows hold what the plain path must hand back to
graphql-core: nulls under non-null types, values a scalar refuses, callables, objects
that are not dicts, lists with null items. Then hypothesis writes documents from the
schema (hypothesis-graphql) and rows of random values, and the two must still agree.
"""

from enum import Enum
from typing import Any

import pytest
from ariadne import EnumType, ObjectType, QueryType, ScalarType, make_executable_schema
from graphql import (
    ExecutionResult,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLResolveInfo,
    default_field_resolver,
    execute,
    parse,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from resolvers._prefetch import prefetched, prefetched_or_load, reads
from server.graphql_app import PlainFirstExecutor, build_schema
from server.plain_fields import COMPOSITE, LEAF, FieldPlan, field_plan

SDL = """
scalar Stamp
scalar Raw
enum Mood { HAPPY SAD }
type Query { items: [Item!]! maybe: [Item] one: Item first: Item! byArg(n: Int): Int }
type Item {
  id: ID!
  name: String
  trackNumber: Int
  score: Float!
  flag: Boolean
  mood: Mood
  stamp: Stamp
  tags: [String!]
  parts: [Part!]!
  part: Part
  computed: String
  related: [Part!]
  labels: [String!]!
  raw: Raw
}
type Part { label: String! weight: Int kind: Mood }
"""


class Weather(Enum):
    HAPPY = "happy"
    SAD = "sad"


class Loader:
    """Stands in for a relation's DataLoader: what `related` loads without a prefetch."""

    def load(self, key: Any) -> list[dict[str, Any]]:
        return [{"label": f"loaded {key}"}]


def _related(obj: Any, _info: Any) -> Any:
    return prefetched_or_load(obj, "related", Loader())


def _labels(obj: Any, _info: Any) -> Any:
    return (obj.get("labels") if isinstance(obj, dict) else None) or []


def _schema() -> Any:
    query = QueryType()
    item = ObjectType("Item")
    item.set_field(
        "computed", lambda obj, *_: f"<{obj.get('name') if isinstance(obj, dict) else ''}>"
    )
    item.set_field("related", prefetched("related")(_related))
    item.set_field("labels", reads("labels", empty=[])(_labels))
    stamp = ScalarType("Stamp", serializer=lambda v: f"t{int(v)}")
    raw = ScalarType("Raw", serializer=lambda v: v)  # hands back anything, callables too
    mood = EnumType("Mood", Weather)
    for name in ("items", "maybe", "one", "first"):
        query.set_field(name, lambda root, _info, _name=name: root[_name])
    query.set_field("byArg", lambda _root, _info, n=None: n)
    return make_executable_schema(SDL, query, item, stamp, raw, mood, convert_names_case=True)


SCHEMA = _schema()


class Row:
    """A source that is not a dict: the plain path must leave it to graphql-core."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _item(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "i1",
        "name": "Blue",
        "track_number": 3,
        "score": 0.5,
        "flag": True,
        "mood": Weather.HAPPY,
        "stamp": 12,
        "tags": ["a", "b"],
        "parts": [{"label": "x", "weight": 1, "kind": Weather.SAD}],
        "part": {"label": "p", "weight": None},
    }
    return base | overrides


def _run(executor: type[IncrementalExecutor], document: str, root: Any) -> dict[str, Any]:
    result = execute(SCHEMA, parse(document), root, executor_class=executor)
    assert isinstance(result, ExecutionResult)
    return dict(result.formatted)


def _same(document: str, root: Any) -> dict[str, Any]:
    expected = _run(IncrementalExecutor, document, root)
    assert _run(PlainFirstExecutor, document, root) == expected
    return expected


FULL = """{ items { id name trackNumber score flag mood stamp tags computed __typename
  parts { label weight kind __typename } part { label weight } related { label } labels raw }
  maybe { id name part { label } } one { n: name name t: __typename } }"""

# FULL less `computed`: every object of `items` is then plain, and read in one step.
PLAIN_ONLY = FULL.replace(" computed", "")

ROOTS: dict[str, dict[str, Any]] = {
    "plain": {
        "items": [
            _item(_related=[{"label": "r"}], labels=["l"]),
            _item(id="i2", _related=None, labels=None),
        ],
        "maybe": [_item(), None],
        "one": _item(),
    },
    "null under a non-null leaf": {
        "items": [_item(), _item(score=None)],
        "maybe": [_item(parts=[{"label": None}])],
        "one": None,
    },
    "values a scalar refuses": {
        "items": [_item(track_number="three"), _item(flag="maybe")],
        "maybe": [_item(mood="ANGRY"), _item(score=float("nan"))],
        "one": _item(track_number=2**40),
    },
    "callables, exceptions and objects": {
        "items": [
            _item(name=lambda info: "called", raw=lambda info: ["called"]),
            _item(part=Row(label="o", weight=2), raw=KeyError("raised")),
        ],
        "maybe": [Row(**_item()), _item(name=ValueError("boom"))],
        "one": _item(parts=[Row(label="r", weight=None, kind=None)]),
    },
    "a callable or an error a scalar would hand back": {
        "items": [
            _item(raw=lambda info: ["called"], _related=None),
            _item(raw=KeyError("raised"), _related=None),
        ],
        "maybe": [_item(raw=ValueError("raised"))],
        "one": _item(raw=lambda info: "called"),
    },
    "null items": {
        "items": [_item(parts=[None]), _item(_related=[None])],
        "maybe": [None, None],
        "one": _item(tags=["a", None]),
    },
    "wrong shapes": {
        "items": [_item(parts={"label": "not a list"}), _item(part=["not", "an", "object"])],
        "maybe": "not a list",
        "one": _item(stamp="x"),
    },
}


@pytest.mark.parametrize("case", sorted(ROOTS))
def test_the_plain_path_answers_as_graphql_core(case: str) -> None:
    _same(PLAIN_ONLY, ROOTS[case])
    result = _same(FULL, ROOTS[case])
    if case == "plain":
        assert "errors" not in result
        assert result["data"]["items"][0]["parts"] == [
            {"label": "x", "weight": 1, "kind": "SAD", "__typename": "Part"}
        ]
        assert result["data"]["one"] == {"n": "Blue", "name": "Blue", "t": "Item"}
        items = result["data"]["items"]
        assert [item["related"] for item in items] == [[{"label": "r"}], None]
        assert [item["labels"] for item in items] == [["l"], []]
    else:
        assert result["errors"], case  # each of these rows holds a field error


def test_aliases_fragments_directives_and_arguments() -> None:
    document = """query($yes: Boolean = true, $no: Boolean = false) {
      items { ...F name @skip(if: $yes) other: name @include(if: $yes) gone: id @include(if: $no) }
      first { ... on Item { id score } parts { l: label label } }
      byArg(n: 4)
    }
    fragment F on Item { id trackNumber part { weight } }"""
    root = {"items": [_item()], "first": _item()}
    assert _same(document, root)["data"] == {
        "items": [{"id": "i1", "trackNumber": 3, "part": {"weight": None}, "other": "Blue"}],
        "first": {"id": "i1", "score": 0.5, "parts": [{"l": "x", "label": "x"}]},
        "byArg": 4,
    }


class Counting(PlainFirstExecutor):
    """Counts the resolve-info records graphql-core builds: one per field it executes."""

    built = 0

    def build_resolve_info(self, *args: Any) -> GraphQLResolveInfo[Any]:
        Counting.built += 1
        return super().build_resolve_info(*args)


def test_plain_leaves_skip_graphql_cores_field_machinery() -> None:
    """Fifty items of eleven plain leaves and two lists of plain objects: graphql-core
    executes only the fields that need it, not the 1,000 others."""
    prefetched = {"_related": [{"label": "p"}]}
    root = {"items": [_item(id=f"i{n}") | (prefetched if n % 2 else {}) for n in range(50)]}
    document = """{ items { id name trackNumber score flag mood stamp tags computed
      parts { label weight kind } part { label weight } related { label } } }"""
    Counting.built = 0
    result = _run(Counting, document, root)
    assert _run(IncrementalExecutor, document, root) == result
    assert len(result["data"]["items"]) == 50
    assert result["data"]["items"][0]["related"] == [{"label": "loaded i0"}]
    assert result["data"]["items"][1]["related"] == [{"label": "p"}]
    # `items`, each item's `computed`, and `related` where it was not prefetched
    assert Counting.built == 1 + 50 + 25


def test_the_servers_schema_has_plain_leaves() -> None:
    """The server's own schema: a track's snake_case properties are read by the plain
    path (Ariadne's name conversion), and its prefetched relations from their keys
    (falling back to their loaders without them); the fields with other resolvers of
    ours are not."""
    track = build_schema().get_type("Track")
    assert isinstance(track, GraphQLObjectType)
    plans = {
        name: field_plan(name, field, default_field_resolver)
        for name, field in track.fields.items()
    }
    assert plans["trackNumber"] == FieldPlan(
        "track_number", LEAF, track.fields["trackNumber"].type, False, GraphQLInt.serialize
    )
    assert plans["title"] is not None and plans["title"].key == "title"
    for relation in ("artists", "album", "genres"):
        plan = plans[relation]
        assert plan is not None and plan.kind == COMPOSITE, relation
        assert (plan.key, plan.required) == ("_" + relation, True)
    tags = plans["tags"]
    assert tags is not None and (tags.key, tags.required, tags.empty) == ("tags", False, [])
    for resolved in ("similar", "streamUrl", "playCount", "audioFeatures"):
        assert plans[resolved] is None, resolved


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.sampled_from([Weather.HAPPY, Weather.SAD, "HAPPY"]),
)
PARTS = st.fixed_dictionaries({}, optional={"label": VALUES, "weight": VALUES, "kind": VALUES})
ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "id": VALUES,
        "name": VALUES,
        "track_number": VALUES,
        "score": VALUES,
        "flag": VALUES,
        "mood": VALUES,
        "stamp": st.one_of(st.integers(0, 10**6), VALUES),
        "tags": st.one_of(VALUES, st.lists(VALUES, max_size=3)),
        "parts": st.one_of(st.none(), st.lists(st.one_of(st.none(), PARTS), max_size=3)),
        "part": st.one_of(st.none(), PARTS),
        "_related": st.one_of(st.none(), st.lists(st.one_of(st.none(), PARTS), max_size=2)),
        "labels": st.one_of(VALUES, st.lists(VALUES, max_size=2)),
    },
)
ROOT = st.fixed_dictionaries(
    {
        "items": st.lists(st.one_of(ITEMS, st.none()), max_size=4),
        "maybe": st.one_of(st.none(), st.lists(st.one_of(ITEMS, st.none()), max_size=3)),
        "one": st.one_of(st.none(), ITEMS),
        "first": ITEMS,
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=queries(SDL), root=ROOT)
def test_any_document_over_any_rows_answers_as_graphql_core(
    document: str, root: dict[str, Any]
) -> None:
    _same(document, root)


def test_an_is_type_of_check_is_graphql_cores() -> None:
    """A type with `is_type_of` is completed by graphql-core, which runs the check."""
    global SCHEMA
    schema = _schema()
    part = schema.get_type("Part")
    assert isinstance(part, GraphQLObjectType)
    part.is_type_of = lambda value, _info: value.get("label") != "bad"
    saved, SCHEMA = SCHEMA, schema
    try:
        root = {"items": [_item(parts=[{"label": "good"}, {"label": "bad"}])]}
        result = _same("{ items { id parts { label } } }", root)
    finally:
        SCHEMA = saved
    assert result["data"] is None
    assert "Expected value of type 'Part'" in result["errors"][0]["message"]
