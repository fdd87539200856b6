"""`neighborhood`: a track's surroundings in the similarity graph, over GraphQL."""

import itertools
from typing import Any

import pytest

from graph import catalog_writes, similarity
from graph.engine import GraphEngine
from tests.support import GraphQLClient, graph_queries

NEIGHBORHOOD = """
query Around($id: ID!, $depth: Int, $first: Int, $minScore: Float) {
  neighborhood(trackId: $id, depth: $depth, first: $first, minScore: $minScore) {
    nodes { distance track { id title } }
    edges { source target score }
  }
}
"""
EXPENSIVE = """
query Expensive($id: ID!) {
  neighborhood(trackId: $id, first: 200) {
    nodes { track { id artists { name } album { title } similar(first: 100) { score } } }
  }
}
"""
MISSING_TRACK = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
FAMILIES, SIZE = 4, 8


async def _families(engine: GraphEngine) -> list[list[str]]:
    """FAMILIES families of SIZE tracks: every pair within a family is similar (0.8 to
    0.95), and the first track of each family is weakly similar (0.4) to the first of
    the next family, so that the families form a chain."""
    inputs = [{"title": f"F{f} T{i}"} for f in range(FAMILIES) for i in range(SIZE)]
    rows = await catalog_writes.create_tracks(engine, inputs)
    ids = [r["id"] for r in rows]
    families = [ids[f * SIZE : (f + 1) * SIZE] for f in range(FAMILIES)]
    edges: list[dict[str, Any]] = []
    for family in families:
        for i, source in enumerate(family):
            for j, target in enumerate(family):
                if i != j:
                    score = 0.95 - 0.02 * abs(i - j)
                    edges.append({"source": source, "target": target, "score": score})
    for here, there in itertools.pairwise(families):
        edges.append({"source": here[0], "target": there[0], "score": 0.4})
    await similarity.write_edges(engine, edges, "exact")
    return families


def _family_of(families: list[list[str]], track_id: str) -> int:
    return next(f for f, family in enumerate(families) if track_id in family)


async def _around(gql: GraphQLClient, track_id: str, **args: Any) -> dict[str, Any]:
    data = await gql.query(NEIGHBORHOOD, {"id": track_id, **args})
    return data["neighborhood"]  # type: ignore[no-any-return]


async def test_depth_one_is_the_family_with_its_edges(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    families = await _families(engine)
    centre = families[1][3]
    result = await _around(gql, centre, depth=1)
    nodes = result["nodes"]
    assert nodes[0] == {"distance": 0, "track": {"id": centre, "title": "F1 T3"}}
    assert {n["track"]["id"] for n in nodes} == set(families[1])
    assert all(n["distance"] == 1 for n in nodes[1:])
    # One edge per pair of the family (both directions are stored), the better score.
    assert len(result["edges"]) == SIZE * (SIZE - 1) // 2
    pairs = {frozenset((e["source"], e["target"])) for e in result["edges"]}
    assert len(pairs) == len(result["edges"])
    scores = [e["score"] for e in result["edges"]]
    assert scores == sorted(scores, reverse=True)


async def test_neighbourhoods_stay_within_the_family_first(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    families = await _families(engine)
    for family in families:
        for centre in (family[0], family[5]):
            result = await _around(gql, centre, depth=3, first=SIZE)
            got = [n["track"]["id"] for n in result["nodes"]]
            assert sorted(got) == sorted(family), centre
    # Given room, depth 3 reaches the neighbouring families along the chain, later.
    result = await _around(gql, families[1][0], depth=3, first=200)
    nodes = [n["track"]["id"] for n in result["nodes"]]
    distance = {n["track"]["id"]: n["distance"] for n in result["nodes"]}
    assert sorted(nodes) == sorted(t for family in families for t in family)
    assert sorted(nodes[:SIZE]) == sorted(families[1])
    assert (distance[families[2][0]], distance[families[2][1]]) == (1, 2)
    assert (distance[families[3][0]], distance[families[3][1]]) == (2, 3)
    assert [distance[t] for t in nodes] == sorted(distance[t] for t in nodes)
    assert all(e["source"] in distance and e["target"] in distance for e in result["edges"])


async def test_min_score_cuts_weak_edges(engine: GraphEngine, gql: GraphQLClient) -> None:
    families = await _families(engine)
    result = await _around(gql, families[0][0], depth=3, first=200, minScore=0.5)
    assert {n["track"]["id"] for n in result["nodes"]} == set(families[0])
    assert all(e["score"] >= 0.5 for e in result["edges"])


async def test_first_bounds_the_nodes_and_round_trips_are_fixed(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    families = await _families(engine)
    await _around(gql, families[0][0], depth=1, first=1)  # warm up
    for depth, first in ((1, 3), (2, 20), (3, 200)):
        before = graph_queries(engine.name)
        result = await _around(gql, families[0][0], depth=depth, first=first)
        spent = graph_queries(engine.name) - before
        assert len(result["nodes"]) <= first
        assert spent <= depth + 1, (depth, spent)  # one read per hop, one for the rows
    lonely = (await catalog_writes.create_tracks(engine, [{"title": "Alone"}]))[0]["id"]
    result = await _around(gql, lonely, depth=2)
    assert result == {
        "nodes": [{"distance": 0, "track": {"id": lonely, "title": "Alone"}}],
        "edges": [],
    }


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"depth": 0}, "VALIDATION_ERROR"),
        ({"depth": 4}, "VALIDATION_ERROR"),
        ({"first": 0}, "VALIDATION_ERROR"),
        ({"first": 201}, "VALIDATION_ERROR"),
        ({"minScore": 1.5}, "VALIDATION_ERROR"),
    ],
)
async def test_bad_arguments(
    engine: GraphEngine, gql: GraphQLClient, args: dict[str, Any], code: str
) -> None:
    families = await _families(engine)
    error = await gql.error(NEIGHBORHOOD, {"id": families[0][0], **args})
    assert error["extensions"]["code"] == code


async def test_unknown_track_and_cost_limit(engine: GraphEngine, gql: GraphQLClient) -> None:
    error = await gql.error(NEIGHBORHOOD, {"id": MISSING_TRACK})
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await gql.error(NEIGHBORHOOD, {"id": "nope"})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    error = await gql.error(EXPENSIVE, {"id": MISSING_TRACK})
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
