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
from taskqueue import JobQueue, broker_for, workers_key
from tests.support import LiveServer, make_settings
from workers.presence import Presence
from workers.worker import build_worker


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
    """The test's own job-queue namespace (its graph's name): the workers of other tests
    are not this one's."""
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
    own = ensure_server(tmp_path / "db")
    engine = FalkorDBEngine.from_socket(own.socket_path, "apollonia")
    # A long heartbeat timeout: the worker stopped below is down at once all the same
    # (it takes itself out of the set of live workers), not a minute later.
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
        stopped = await _health(server.url)
        assert stopped.status_code == 503
        assert stopped.json()["components"]["worker"] == {"status": "down", "workers": 0}
        assert stopped.json()["components"]["graph"] == {"status": "up"}

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


async def test_an_api_process_that_enqueues_is_not_a_worker(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Every broker writes dramatiq's heartbeats when it enqueues, another API process's
    too (with `serve --workers N`); /health counted those as workers for a minute."""
    other_api = JobQueue(broker_for(settings))  # as another API process has it
    try:
        other_api.actor.send("job-of-another-api-process")
        heartbeats = await asyncio.to_thread(
            other_api.broker.client.zcard, f"{other_api.broker.namespace}:__heartbeats__"
        )
        assert heartbeats >= 1  # dramatiq recorded it
        body = (await client.get("/health")).json()
        assert body["components"]["worker"] == {"status": "down", "workers": 0}
    finally:
        other_api.close()


async def test_a_killed_workers_entry_ages_out(
    falkordb_server: Any, engine: GraphEngine, tmp_path: Path
) -> None:
    """A worker killed without its shutdown leaves its entry: it counts until the
    heartbeat timeout, then not; a stopped one is out at once."""
    settings = make_settings(
        falkordb_server,
        graph_name=getattr(engine, "graph_name", "apollonia"),
        media_dir=str(tmp_path / "media"),
        worker_heartbeat_ms=1_500,
    )
    running, queue = build_worker(settings, threads=1)
    server = LiveServer(engine, settings)
    await server.start()
    try:
        running.start()
        body = await _until(server.url, 200)
        assert body["components"]["worker"] == {"status": "up", "workers": 1}
        # Killed: its refresh thread dies with it, its entry stays behind.
        [presence] = [m for m in running.broker.middleware if isinstance(m, Presence)]
        presence._stop.set()
        await asyncio.to_thread(presence._thread.join, 5)
        key = workers_key(settings.graph_name)
        assert await asyncio.to_thread(running.broker.client.zscore, key, presence.member)
        assert (await _health(server.url)).json()["components"]["worker"]["workers"] == 1
        body = await _until(server.url, 503, seconds=5)
        assert body["components"]["worker"] == {"status": "down", "workers": 0}
    finally:
        running.stop(timeout=10_000)
        queue.close()
        await server.stop()
    assert not await asyncio.to_thread(running.broker.client.zscore, key, presence.member)
