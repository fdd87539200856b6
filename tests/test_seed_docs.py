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


async def test_clearing_features_clears_the_embedding_made_from_them(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings, worker: Any
) -> None:
    _, token = await user_token(engine, settings, "admin")
    admin = {"authorization": f"Bearer {token}"}
    created = await client.post(f"{V1}/tracks", json={"title": "T"}, headers=admin)
    track = created.json()["id"]
    features = {"tempo": 120.0, "key": "A", "mode": "minor", "energy": 0.8}
    made = await client.put(f"{V1}/tracks/{track}/audio-features", json=features, headers=admin)
    assert made.status_code == 200, made.text
    # The worker embeds the track from its features (job `embed_features`).
    for _ in range(300):
        embedded = await client.get(f"{V1}/tracks/{track}/embeddings/audio")
        if embedded.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert embedded.status_code == 200 and embedded.json()["dimension"] == 64
    cleared = await client.delete(f"{V1}/tracks/{track}/audio-features", headers=admin)
    assert cleared.status_code == 204
    assert (await client.get(f"{V1}/tracks/{track}/embeddings/audio")).status_code == 404
