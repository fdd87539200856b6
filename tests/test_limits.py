"""Query limits: depth, aliases, tokens, cost and `first`, checked before execution."""

from typing import Any

from graphql import get_introspection_query, specified_rules

from graph.engine import GraphEngine
from server.documents import DocumentCache
from server.graphql_app import build_schema
from server.query_limits import QueryLimits, multiplier_arguments
from tests.support import GraphQLClient, graph_queries

WARM_UP = "{ genres { name } }"

# 11 levels of selection sets below the root; 10 are allowed.
DEEP = """
{ tracks(first: 1) { edges { node { album { artist { albums(first: 1) { edges { node {
  tracks(first: 1) { edges { node { title } } } } } } } } } } } }
"""
# As deep as allowed: the round-trip tests' artist tree goes this far.
AT_DEPTH_LIMIT = """
{ artists(first: 5) { edges { node { albums(first: 5) { edges { node {
  tracks(first: 5) { edges { node { genres { name } } } } } } } } } } }
"""
ALIAS_BOMB = "{ " + " ".join(f"g{i}: genres {{ name }}" for i in range(31)) + " }"
# 16 aliases in a fragment spread under 2 aliased fields: 34 aliases as executed.
ALIASES_THROUGH_FRAGMENTS = (
    '{ a: track(id: "Track_x") { ...Names } b: track(id: "Track_y") { ...Names } }'
    " fragment Names on Track { " + " ".join(f"t{i}: title" for i in range(16)) + " }"
)
MANY_TOKENS = "{ tracks { edges { node { " + " ".join(["title"] * 2000) + " } } } }"
COSTLY = (
    "{ artists(first: 100) { edges { node { albums(first: 100) { edges { node { title } } } } } } }"
)
COST_BY_VARIABLE = """
query Albums($first: Int!) {
  artists(first: $first) { edges { node { albums(first: $first) { edges { node { title } } } } } }
}
"""
FIRST_TOO_LARGE = "{ tracks(first: 1000) { edges { node { title } } } }"
FIRST_WAY_TOO_LARGE = "{ tracks(first: 100000) { edges { node { title } } } }"


async def refused(
    gql: GraphQLClient, engine: GraphEngine, document: str, variables: Any = None
) -> dict[str, Any]:
    """The one error `document` gets, and proof that no resolver touched the graph."""
    before = graph_queries(engine.name)
    body = await gql.raw(document, variables)
    assert graph_queries(engine.name) == before
    assert body.get("data") is None, body
    [error] = body["errors"]
    return error  # type: ignore[no-any-return]


async def warm_up(gql: GraphQLClient) -> None:
    """The first request loads the auth revocation cache: not what is counted."""
    await gql.query(WARM_UP)


async def test_too_deep_is_refused_with_the_figures(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    await warm_up(gql)
    error = await refused(gql, engine, DEEP)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "depth",
        "measured": 11,
        "allowed": 10,
    }
    assert "11" in error["message"] and "10" in error["message"]
    assert (await gql.raw(AT_DEPTH_LIMIT)).get("errors") is None


async def test_alias_bombs_are_refused(gql: GraphQLClient, engine: GraphEngine) -> None:
    await warm_up(gql)
    error = await refused(gql, engine, ALIAS_BOMB)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "aliases",
        "measured": 31,
        "allowed": 30,
    }
    error = await refused(gql, engine, ALIASES_THROUGH_FRAGMENTS)
    assert error["extensions"]["limit"] == "aliases"
    assert error["extensions"]["measured"] == 34


async def test_too_many_tokens_fail_at_parse(gql: GraphQLClient, engine: GraphEngine) -> None:
    await warm_up(gql)
    error = await refused(gql, engine, MANY_TOKENS)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "tokens",
        "measured": 7 + 2000 + 4,
        "allowed": 2000,
    }


async def test_too_costly_is_refused(gql: GraphQLClient, engine: GraphEngine) -> None:
    await warm_up(gql)
    error = await refused(gql, engine, COSTLY)
    # 100 artists, then 100 albums for each of them.
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "cost",
        "measured": 100 + 100 * 100,
        "allowed": 5000,
    }


async def test_cost_follows_the_variables_of_each_request(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    await warm_up(gql)
    assert (await gql.raw(COST_BY_VARIABLE, {"first": 10})).get("errors") is None
    error = await refused(gql, engine, COST_BY_VARIABLE, {"first": 80})
    assert error["extensions"]["measured"] == 80 + 80 * 80
    # The refusal was not remembered for the document.
    assert (await gql.raw(COST_BY_VARIABLE, {"first": 10})).get("errors") is None


async def test_first_is_bounded_before_the_graph(gql: GraphQLClient, engine: GraphEngine) -> None:
    await warm_up(gql)
    error = await refused(gql, engine, FIRST_TOO_LARGE)
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "first"}
    error = await refused(gql, engine, FIRST_WAY_TOO_LARGE)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "cost"


async def test_the_explorers_introspection_query_passes(gql: GraphQLClient) -> None:
    document = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    data = await gql.query(document)
    assert data["__schema"]["queryType"]["name"] == "Query"


def test_per_request_cost_does_not_grow_the_validation_cache() -> None:
    schema = build_schema()
    documents = DocumentCache(8, max_tokens=2000)
    limits = QueryLimits(10, 30, 5000)
    data: dict[str, Any] = {"query": COST_BY_VARIABLE}
    document = documents.parse(None, data)
    outcomes = []
    for first in (1, 90, 2, 95, 3):
        data["variables"] = {"first": first}
        rules = (*specified_rules, *limits.rules(None, document, data))
        outcomes.append(bool(documents.validate(schema, document, rules)))
    assert outcomes == [False, True, False, True, False]
    assert len(documents._validated) == 1


SIMILAR_BY_VARIABLE = """
query Similar($id: ID!, $first: Int) {
  track(id: $id) {
    title similar(first: $first) { score track { similar(first: $first) { score } } }
  }
}
"""
RECOMMENDED_BY_INPUT = """
query Recommended($input: RecommendationInput!) { recommendations(input: $input) { score } }
"""
RECOMMENDED_BY_INNER = """
query Recommended($n: Int, $seed: ID!) {
  recommendations(input: {seedTrackIds: [$seed], first: $n}) { score }
}
"""


def _refusals(
    document: str, variable_sets: list[dict[str, Any]], max_cost: int = 5000
) -> tuple[list[bool], int]:
    """Whether each request of `document` with these variables is refused, validated as
    the server does (the multiplier arguments taken from the schema); and how many
    passes the cache remembers at the end."""
    schema = build_schema()
    documents = DocumentCache(8, max_tokens=2000)
    limits = QueryLimits(10, 30, max_cost, multiplier_arguments(schema))
    data: dict[str, Any] = {"query": document}
    parsed = documents.parse(None, data)
    outcomes = []
    for variables in variable_sets:
        data["variables"] = variables
        rules = (*specified_rules, *limits.rules(None, parsed, data))
        outcomes.append(bool(documents.validate(schema, parsed, rules)))
    return outcomes, len(documents._passed)


def test_the_schema_names_its_multiplier_arguments() -> None:
    assert multiplier_arguments(build_schema()) == {"first", "input", "steps"}


def test_a_cost_is_remembered_for_the_variables_that_multiply_only() -> None:
    # Only $first multiplies: a hundred ids are costed once, and $first is still
    # checked on every request (80 * 80 similar tracks of similar tracks is too many).
    requests = [{"id": f"Track_{i}", "first": 5} for i in range(100)]
    requests += [{"id": "Track_x", "first": 80}, {"id": "Track_y", "first": 5}]
    outcomes, passes = _refusals(SIMILAR_BY_VARIABLE, requests)
    assert outcomes == [False] * 100 + [True, False]
    assert passes == 1


def test_a_multiplier_inside_an_input_object_is_part_of_the_key() -> None:
    # `recommendations` multiplies by input.first (complexity 2 per recommendation).
    small = {"seedTrackIds": ["Track_a"], "first": 10}
    large = {"seedTrackIds": ["Track_a"], "first": 100}
    outcomes, _ = _refusals(RECOMMENDED_BY_INPUT, [{"input": small}, {"input": large}])
    assert outcomes == [False, False]  # 20 and 200: within 5,000 either way
    # At most 150: the large one is refused, and the small one passes again after it.
    by_input: list[dict[str, Any]] = [{"input": small}, {"input": large}, {"input": small}]
    assert _refusals(RECOMMENDED_BY_INPUT, by_input, 150)[0] == [False, True, False]
    inner: list[dict[str, Any]] = [
        {"n": 10, "seed": "a"},
        {"n": 100, "seed": "a"},
        {"n": 10, "seed": "b"},
    ]
    assert _refusals(RECOMMENDED_BY_INNER, inner, 150)[0] == [False, True, False]
