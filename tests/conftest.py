"""Real components for every test: the embedded FalkorDB server, a fresh graph per test,
and a live uvicorn server on 127.0.0.1. Only hooks and fixtures live here; the helpers they
use, and that tests import, are in tests/support/.

With NEO4J_URI set, the whole suite runs on Neo4j instead, API and workers alike, with
Redis at REDIS_URL and no FalkorDB process started (tests that are about the embedded
FalkorDB server itself skip). NEO4J_USER, NEO4J_PASSWORD and NEO4J_DATABASE (default
`neo4j`) complete it."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from graph.embedded import EmbeddedServer, ensure_server
from graph.engine import GraphEngine
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from server.settings import Settings
from tests import _workload_lint
from tests.support import (
    ENGINES,
    NEO4J_DATABASE,
    NEO4J_URI,
    GraphQLClient,
    LiveServer,
    ServicesWithoutFalkorDB,
    make_settings,
    user_token,
)
from tests.support.asgi import asgi_client


def pytest_sessionstart(session: pytest.Session) -> None:
    if _workload_lint.enabled():
        _workload_lint.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Lint every Cypher statement the run sent with Neo4j's parser (once per run)."""
    _workload_lint.finish(session)


# Tests about the embedded FalkorDB server itself, which start one of their own.
EMBEDDED_SERVER_TESTS = (
    "test_embedded_server.py",
    "test_queued_jobs_survive_a_restart_of_the_database_and_redis",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not NEO4J_URI:
        return
    skip = pytest.mark.skip(reason="about the embedded FalkorDB server (the suite runs on Neo4j)")
    for item in items:
        if item.path.name in EMBEDDED_SERVER_TESTS or item.name.startswith(EMBEDDED_SERVER_TESTS):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    if NEO4J_URI:
        yield cast(EmbeddedServer, ServicesWithoutFalkorDB(tmp_path_factory.mktemp("data")))
        return
    server = ensure_server(tmp_path_factory.mktemp("falkordb"))
    yield server
    server.stop()


@pytest.fixture(params=ENGINES)
async def engine(
    request: pytest.FixtureRequest, falkordb_server: EmbeddedServer
) -> AsyncIterator[GraphEngine]:
    """A migrated, empty graph on each available engine."""
    if request.param == "falkordb":
        falkor = FalkorDBEngine.from_socket(falkordb_server.socket_path, f"t_{uuid.uuid4().hex}")
        await migrate(falkor)
        yield falkor
        await falkor.delete_graph()
        await falkor.close()
    else:
        from graph.engine.neo4j import Neo4jEngine

        neo = Neo4jEngine.create(
            NEO4J_URI,
            username=os.environ.get("NEO4J_USER", "neo4j"),
            password=os.environ.get("NEO4J_PASSWORD"),
            database=NEO4J_DATABASE,
        )
        await neo.delete_graph()
        await migrate(neo)
        # This test's own Redis keys (rate limits, job queue); the database is shared.
        neo.graph_name = f"t_{uuid.uuid4().hex}"
        yield neo
        await neo.delete_graph()
        await neo.close()


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(falkordb_server)


@pytest.fixture
async def live(engine: GraphEngine, settings: Settings) -> AsyncIterator[LiveServer]:
    server = LiveServer(engine, settings)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def served_live(request: pytest.FixtureRequest, settings: Settings) -> LiveServer | None:
    """The live server `client` must talk to, if any: the test's own `live` (so that both
    see one app), or one when the settings trust proxies, whose forwarded headers uvicorn
    reads. A plain fixture, so that an async `live` is set up outside the event loop."""
    if "live" in request.fixturenames or settings.trusted_proxies:
        return cast(LiveServer, request.getfixturevalue("live"))
    return None


@pytest.fixture
async def client(
    served_live: LiveServer | None, engine: GraphEngine, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app: in this process through httpx's ASGI transport, or over
    TCP to `served_live` when there is one."""
    if served_live is not None:
        async with httpx.AsyncClient(base_url=served_live.url, timeout=30) as c:
            yield c
        return
    async with asgi_client(engine, settings) as c:
        yield c


@pytest.fixture
async def gql(client: httpx.AsyncClient, engine: GraphEngine, settings: Settings) -> GraphQLClient:
    """A GraphQL client signed in as an admin."""
    _, token = await user_token(engine, settings, "admin")
    return GraphQLClient(client, token)


@pytest.fixture
def worker_settings(
    falkordb_server: EmbeddedServer, engine: GraphEngine, tmp_path: Path
) -> Settings:
    """Settings that an API and a worker share: this test's graph, its own media folder
    and scan root, quick retries and a short heartbeat (a dead worker's jobs come back
    within seconds)."""
    library = tmp_path / "library"
    library.mkdir()
    return make_settings(
        falkordb_server,
        graph_name=getattr(engine, "graph_name", "apollonia"),
        media_dir=str(tmp_path / "media"),
        scan_roots=(str(library),),
        job_min_backoff_ms=200,
        worker_heartbeat_ms=1500,
        worker_maintenance_chance=1_000_000,
        similarity_min_score=0.0,
    )


@pytest.fixture
def worker(worker_settings: Settings) -> Iterator[Any]:
    """A worker (one thread) running jobs in this process."""
    from workers.worker import build_worker

    running, queue = build_worker(worker_settings, threads=1)
    running.start()
    yield running
    running.stop(timeout=10_000)
    queue.close()
