"""`/health`, `/health/live` and `/health/ready` against live servers.

The test that stops the graph starts its own embedded server: the session's is shared.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.embedded import ensure_server
from graph.engine import GraphEngine
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from server.health import version
from server.settings import Settings
from tests.support import LiveServer, make_settings


async def _health(url: str, path: str = "/health") -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        return await http.get(path)


async def _until(url: str, status: int, seconds: float = 10.0) -> dict[str, Any]:
    """The /health body once it answers `status` (the worker's first heartbeat)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await _health(url)
        if response.status_code == status:
            return dict(response.json())
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/health stayed {response.status_code}: {response.text}")
        await asyncio.sleep(0.1)


@pytest.fixture
def settings(falkordb_server: Any, engine: GraphEngine) -> Settings:
    """The test's own job-queue namespace (its graph's name). In the shared one, the app of
    an earlier test that enqueued a job within the heartbeat window counts as a worker."""
    return make_settings(falkordb_server, graph_name=getattr(engine, "graph_name", "apollonia"))


@pytest.fixture
async def serving(engine: GraphEngine, worker_settings: Settings) -> AsyncIterator[LiveServer]:
    """A server on the test's graph, sharing its settings with the `worker` fixture."""
    server = LiveServer(engine, worker_settings)
    await server.start()
    yield server
    await server.stop()


async def test_live_and_ready(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"graph": True, "redis": True, "migrations": True},
    }


async def test_without_a_worker_health_is_degraded(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["version"] == version() != "unknown"
    assert body["uptime"] >= 0
    components = body["components"]
    assert components["graph"] == {"status": "up"}
    assert components["redis"] == {"status": "up"}
    assert components["worker"] == {"status": "down", "workers": 0}
    assert components["storage"]["status"] == "up" and components["storage"]["freeBytes"] > 0


async def test_a_running_worker_makes_it_ok(serving: LiveServer, worker: Any) -> None:
    body = await _until(serving.url, 200)
    assert body["status"] == "healthy"
    assert body["components"]["worker"] == {"status": "up", "workers": 1}


async def test_ready_waits_for_migrations(falkordb_server: Any, settings: Settings) -> None:
    fresh = FalkorDBEngine.from_socket(falkordb_server.socket_path, f"t_{uuid.uuid4().hex}")
    await fresh.write("test", "CREATE (:Probe)")  # the graph exists, unmigrated
    server = LiveServer(fresh, settings)
    await server.start()
    try:
        response = await _health(server.url, "/health/ready")
        assert response.status_code == 503
        assert response.json()["checks"] == {"graph": True, "redis": True, "migrations": False}
        await migrate(fresh)
        assert (await _health(server.url, "/health/ready")).status_code == 200
    finally:
        await server.stop()
        await fresh.delete_graph()
        await fresh.close()


async def test_health_turns_503_when_the_graph_stops(tmp_path: Path) -> None:
    from workers.worker import build_worker

    own = ensure_server(tmp_path / "db")
    engine = FalkorDBEngine.from_socket(own.socket_path, "apollonia")
    # A long heartbeat timeout: the worker stopped below still counts as alive, so the
    # graph's stop is the only change /health sees.
    settings = make_settings(own, media_dir=str(tmp_path / "media"), worker_heartbeat_ms=60_000)
    running, queue = build_worker(settings, threads=1)
    server: LiveServer | None = None
    try:
        await migrate(engine)
        server = LiveServer(engine, settings)
        await server.start()
        running.start()
        body = await _until(server.url, 200)
        assert body["components"]["graph"] == {"status": "up"}
        running.stop(timeout=10_000)
        queue.close()
        assert (await _health(server.url)).status_code == 200

        await asyncio.to_thread(own.stop)

        response = await _health(server.url)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "degraded"
        assert body["components"]["graph"] == {"status": "down"}
        assert body["components"]["redis"] == {"status": "down"}
        assert body["components"]["storage"]["status"] == "up"
        assert "Error" not in response.text  # no exception text reaches the client
        assert (await _health(server.url, "/health/ready")).status_code == 503
        assert (await _health(server.url, "/health/live")).status_code == 200
    finally:
        running.stop(timeout=10_000)
        queue.close()
        if server is not None:
            await server.stop()
        await engine.close()
        own.stop()
