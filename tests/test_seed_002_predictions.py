"""Seed 002's genre-prediction routes in its `{success, data, timestamp}` wrapper, its
health check, and models reserved for admins. (Predictions with a trained model are
tested end to end in test_genre_api.py; here, the shapes.)"""

import dataclasses
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import user_token

V1 = "/api/v1"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    return dataclasses.replace(worker_settings)


async def _headers(engine: GraphEngine, settings: Settings, role: str) -> dict[str, str]:
    _, token = await user_token(engine, settings, role)
    return {"authorization": f"Bearer {token}"}


def _wrapped(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and ISO.match(body["timestamp"]), body
    return body["data"]


async def test_genres_and_models(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _headers(engine, settings, "admin")
    user = await _headers(engine, settings, "user")
    await client.post(f"{V1}/tracks", json={"title": "T", "genre": "Jazz"}, headers=admin)
    data = _wrapped(await client.get(f"{V1}/genres"))
    # Seed 002: {"genres": [{id, name, description, sub_genres}], "total"}.
    assert data["total"] == 1
    [jazz] = data["genres"]
    assert set(jazz) == {"id", "name", "description", "sub_genres"} and jazz["name"] == "Jazz"
    assert jazz["sub_genres"] == []
    # Seed 002 reserves the model routes for admins.
    assert _wrapped(await client.get(f"{V1}/models", headers=admin)) == {"models": [], "total": 0}
    refused = await client.get(f"{V1}/models", headers=user)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    deploy = await client.post(f"{V1}/models/deploy", json={"version": 1}, headers=user)
    assert deploy.status_code == 403
    missing = await client.post(f"{V1}/models/deploy", json={"version": 1}, headers=admin)
    assert missing.status_code == 404 and missing.json()["success"] is False


async def test_prediction_and_batch_shapes(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings, tmp_path: Path
) -> None:
    admin = await _headers(engine, settings, "admin")
    wav = af.write(tmp_path / "a.wav", af.click_track(100, seconds=2), 22050).read_bytes()
    no_model = await client.post(
        f"{V1}/predict", files={"file": ("a.wav", wav, "audio/wav")}, headers=admin
    )
    assert no_model.status_code == 409 and no_model.json()["error"]["code"] == "NO_MODEL"
    # Seed 002 sends `files[]`.
    batch = await client.post(
        f"{V1}/batch-predict", files=[("files[]", ("a.wav", wav, "audio/wav"))], headers=admin
    )
    assert batch.status_code == 409 and batch.json()["error"]["code"] == "NO_MODEL"
    # A job (a scan) read through seed 002's status routes.
    started = await client.post(f"{V1}/scan", json={"path": settings.scan_roots[0]}, headers=admin)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    status = _wrapped(await client.get(f"{V1}/batch/{job_id}", headers=admin))
    assert status["batch_id"] == job_id and status["status"] == "queued"
    assert status["status_url"] == f"{V1}/batch/{job_id}"
    prediction = _wrapped(await client.get(f"{V1}/prediction/{job_id}", headers=admin))
    assert prediction["prediction_id"] == job_id and prediction["status"] == "queued"
    assert prediction["genre"] is None and prediction["completed_at"] is None
    assert ISO.match(prediction["created_at"])
    gone = await client.get(f"{V1}/prediction/job_01JD7Q3N4V3Y0R6K8W9X2Z5A1B", headers=admin)
    assert gone.status_code == 404 and gone.json()["success"] is False


async def test_health_of_seeds_002_and_004(client: httpx.AsyncClient) -> None:
    # No worker runs: the model is down, the service is not degraded for it.
    response = await client.get(f"{V1}/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy" and ISO.match(body["timestamp"])
    assert body["components"] == {
        "api": "up",
        "database": "up",
        "redis": "up",
        "model": "down",
        "storage": "up",
    }
    assert body["uptime_seconds"] >= 0 and body["version"]
    # Seed 004's /health: status, version, timestamp (degraded without a worker).
    basic = (await client.get("/health")).json()
    assert basic["status"] == "degraded" and ISO.match(basic["timestamp"])
    assert basic["uptime_seconds"] >= 0
