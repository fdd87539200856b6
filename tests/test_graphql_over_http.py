"""GraphQL over HTTP's `application/graphql-response+json`: answered when the client
prefers it, with the spec's status codes (4xx without `data`, 200 with it)."""

import httpx

from server.graphql_app import GRAPHQL_RESPONSE, response_media_type

QUERY = {"query": "{ genres { id } }"}
INVALID = {"query": "{ noSuchField }"}
FIELD_ERROR = {"query": '{ track(id: "not-an-id") { id } }'}


def test_the_preferred_media_type() -> None:
    assert response_media_type("") == "application/json"
    assert response_media_type("*/*") == "application/json"
    assert response_media_type(GRAPHQL_RESPONSE) == GRAPHQL_RESPONSE
    assert response_media_type(f"{GRAPHQL_RESPONSE}, application/json;q=0.9") == GRAPHQL_RESPONSE
    assert response_media_type(f"application/json, {GRAPHQL_RESPONSE}") == "application/json"
    assert response_media_type(f"application/json;q=0.5, {GRAPHQL_RESPONSE}") == GRAPHQL_RESPONSE
    assert response_media_type(f"{GRAPHQL_RESPONSE};q=0") == "application/json"


async def test_graphql_response_json(client: httpx.AsyncClient) -> None:
    accept = {"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}
    ok = await client.post("/graphql", json=QUERY, headers=accept)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert ok.json() == {"data": {"genres": []}}
    invalid = await client.post("/graphql", json=INVALID, headers=accept)
    assert invalid.status_code == 400
    assert invalid.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in invalid.json() and invalid.json()["errors"]
    # A field error leaves `data` (here null): 200 with this media type.
    partial = await client.post("/graphql", json=FIELD_ERROR, headers=accept)
    assert partial.status_code == 200 and partial.json()["data"] == {"track": None}
    # Legacy clients keep application/json.
    legacy = await client.post("/graphql", json=QUERY, headers={"accept": "application/json"})
    assert legacy.headers["content-type"].startswith("application/json")
    plain = await client.post("/graphql", json=QUERY)
    assert plain.headers["content-type"].startswith("application/json")
