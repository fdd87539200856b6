"""The documentation paths the seeds use, what the OpenAPI document says of them, and
seed 001's DELETE of audio features taking the embedding made from them."""

import asyncio
from typing import Any

import httpx
import pytest

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import user_token

V1 = "/api/v1"


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    return worker_settings


async def test_docs_at_the_seeds_paths(client: httpx.AsyncClient) -> None:
    # Seed 000 (FastAPI defaults) and seed 004 (`docs_url="/api/docs"`).
    for path in ("/docs", "/redoc", "/api/docs", "/api/redoc"):
        response = await client.get(path)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    root = (await client.get("/openapi.json")).json()
    assert root == (await client.get("/api/openapi.json")).json()
    paths = root["paths"]
    # GET /users/me needs a signed-in caller, whatever GraphQL's `me` allows.
    assert paths["/users/me"]["get"]["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}]
    for route in (("post", "/users"), ("get", "/users/{id}"), ("put", "/users/{id}")):
        assert paths[route[1]][route[0]]["security"], route
    genres = paths["/genres"]["get"]["responses"]["200"]["content"]["application/json"]
    assert set(genres["schema"]["required"]) == {"success", "data", "timestamp"}


EDGES = "MATCH (a:Track {id: $id})-[r:SIMILAR_TO]-(:Track) RETURN count(r) AS n"


async def _embedded(client: httpx.AsyncClient, track: str) -> httpx.Response:
    # The worker embeds a track from its features and links it (job `embed_features`).
    for _ in range(300):
        embedded = await client.get(f"{V1}/tracks/{track}/embeddings/audio")
        if embedded.status_code == 200:
            return embedded
        await asyncio.sleep(0.1)
    return embedded


async def test_clearing_features_clears_the_embedding_and_edges_made_from_them(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings, worker: Any
) -> None:
    _, token = await user_token(engine, settings, "admin")
    admin = {"authorization": f"Bearer {token}"}
    tracks = []
    for title, tempo in (("A", 120.0), ("B", 121.0)):
        created = await client.post(f"{V1}/tracks", json={"title": title}, headers=admin)
        track = created.json()["id"]
        features = {"tempo": tempo, "key": "A", "mode": "minor", "energy": 0.8}
        url = f"{V1}/tracks/{track}/audio-features"
        made = await client.put(url, json=features, headers=admin)
        assert made.status_code == 200, made.text
        embedded = await _embedded(client, track)
        assert embedded.status_code == 200 and embedded.json()["dimension"] == 64
        tracks.append(track)
    a, b = tracks
    # B was linked to A when it was embedded (both ways).
    for _ in range(100):
        [row] = await engine.read("test_edges", EDGES, {"id": a})
        if row["n"] >= 2:
            break
        await asyncio.sleep(0.1)
    assert row["n"] >= 2
    similar = (await client.get(f"{V1}/tracks/{b}/similar-by-features")).json()
    assert a in [s["track"]["id"] for s in similar["items"]]

    cleared = await client.delete(f"{V1}/tracks/{a}/audio-features", headers=admin)
    assert cleared.status_code == 204
    assert (await client.get(f"{V1}/tracks/{a}/embeddings/audio")).status_code == 404
    assert (await client.get(f"{V1}/tracks/{a}/audio-features")).status_code == 404
    # The edges computed from A's embedding went with it, both ways; B keeps its own.
    assert await engine.read("test_edges", EDGES, {"id": a}) == [{"n": 0}]
    similar = (await client.get(f"{V1}/tracks/{b}/similar-by-features")).json()
    assert a not in [s["track"]["id"] for s in similar["items"]]
    assert (await client.get(f"{V1}/tracks/{b}/embeddings/audio")).status_code == 200
