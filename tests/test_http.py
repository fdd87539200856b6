"""GraphQL over HTTP: GET for queries, the explorer, production mode, metrics, request ids."""

import itertools
import re

import httpx

from graph import catalog_writes
from graph.engine import GraphEngine

INTROSPECTION = "{ __schema { queryType { name } } }"
CREATE = 'mutation { createArtist(input: {name: "Sun Ra"}) { id } }'


async def test_get_runs_queries_but_not_mutations(
    engine: GraphEngine, client: httpx.AsyncClient
) -> None:
    await catalog_writes.create_tracks(engine, [{"title": "Space Is the Place"}])
    response = await client.get("/graphql", params={"query": "{ tracks { totalCount } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"tracks": {"totalCount": 1}}}
    refused = await client.get("/graphql", params={"query": CREATE})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    listed = await client.get("/graphql", params={"query": "{ artists { totalCount } }"})
    assert listed.json()["data"]["artists"]["totalCount"] == 0


async def test_development_serves_explorer_and_introspection(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "<html" in page.text.lower()
    body = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.post(
        "/graphql", json={"query": "{ genres { name } }"}, headers={"x-request-id": "abc-123"}
    )
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.post("/graphql", json={"query": "{ genres { name } }"})
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["server-timing"].startswith("app;dur=")
    # Not sane (too long, a control character): replaced by a made one.
    for bad in ("x" * 65, "a\tb"):
        replaced = await client.get("/health/live", headers={"x-request-id": bad})
        assert re.fullmatch("[0-9a-f]{32}", replaced.headers["x-request-id"])


async def test_made_request_ids_are_distinct_and_tell_nothing(
    client: httpx.AsyncClient,
) -> None:
    ids = [(await client.get("/health/live")).headers["x-request-id"] for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)
    # Random, not counted: consecutive ids share no common prefix worth the name (a
    # counter after a fixed prefix would share 16 or more hex digits).
    shared = [
        sum(1 for _ in itertools.takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=True)))
        for a, b in itertools.pairwise(ids)
    ]
    assert max(shared) < 8, shared


async def test_metrics_count_graph_queries(engine: GraphEngine, client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": "{ tracks { totalCount } }"})
    text = (await client.get("/metrics")).text
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("apollonia_graph_queries_total{")
        and f'engine="{engine.name}"' in line
        and 'operation="tracks_count"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 1


async def test_bad_bodies_get_a_code_not_a_crash(client: httpx.AsyncClient) -> None:
    for body in ("not json", "[]", '{"query": 5}', '{"query": "{ tracks { nope } }"}'):
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, body
        assert "Traceback" not in response.text
