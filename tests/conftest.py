"""Real components for every test: the embedded FalkorDB server, a fresh graph per test,
and a live uvicorn server on 127.0.0.1.

With NEO4J_URI set, the whole suite runs on Neo4j instead, API and workers alike, with
Redis at REDIS_URL and no FalkorDB process started (tests that are about the embedded
FalkorDB server itself skip). NEO4J_USER, NEO4J_PASSWORD and NEO4J_DATABASE (default
`neo4j`) complete it."""

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn

from graph import users
from graph.embedded import EmbeddedServer, ensure_server
from graph.engine import GRAPH_QUERIES, GraphEngine
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from server.app import create_app
from server.auth.keys import token_config
from server.auth.tokens import ACCESS, Tokens
from server.settings import Settings
from tests import _workload_lint

NEO4J_URI = os.environ.get("NEO4J_URI", "")
ENGINES = ["neo4j"] if NEO4J_URI else ["falkordb"]
NEO4J_DATABASE = os.environ.get("NEO4J_DATABASE", "neo4j")


class ServicesWithoutFalkorDB:
    """What tests use of the embedded server when Neo4j serves the graph: Redis at
    REDIS_URL and a data folder. A test that needs the FalkorDB server itself skips."""

    def __init__(self, data_dir: Path) -> None:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            raise RuntimeError("NEO4J_URI needs REDIS_URL (events, jobs, rate limits)")
        self.redis_url = redis_url
        self.data_dir = data_dir

    @property
    def socket_path(self) -> Path:
        pytest.skip("needs the embedded FalkorDB server (the suite runs on Neo4j)")

    def stop(self, timeout: float = 10.0) -> None:
        return None


def neo4j_settings() -> dict[str, Any]:
    """The settings that put an app or a worker on the Neo4j of NEO4J_URI."""
    if not NEO4J_URI:
        return {}
    return {
        "graph_url": NEO4J_URI,
        "graph_database": NEO4J_DATABASE,
        "graph_username": os.environ.get("NEO4J_USER", "neo4j"),
        "graph_password": os.environ.get("NEO4J_PASSWORD"),
    }


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A uvicorn server in the test's event loop, serving the app over real TCP."""

    def __init__(self, engine: GraphEngine, settings: Settings) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, engine=engine),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            **settings.uvicorn_proxy_options(),  # type: ignore[arg-type]
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(200):
            if self.server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("uvicorn did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


TEST_JWT_SECRET = "test-secret-" + "x" * 40
# A Fernet key (urlsafe base64 of 32 bytes), as production requires one.
TEST_SERVER_KEY = "dGVzdC1zZXJ2ZXIta2V5LXRlc3Qtc2VydmVyLWtleS0="


def make_settings(server: EmbeddedServer, **overrides: Any) -> Settings:
    """Settings for an app on the session's embedded server (graph and Redis)."""
    values: dict[str, Any] = {
        "env": "development",
        "redis_url": server.redis_url,
        "jwt_secret": TEST_JWT_SECRET,
        "server_key": TEST_SERVER_KEY,
        "data_dir": str(server.data_dir),
        **neo4j_settings(),
    }
    return Settings(**(values | overrides))


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
async def client(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as c:
        yield c


class GraphQLClient:
    """Posts documents to /graphql; `query` fails the test on any error."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.headers = {"authorization": f"Bearer {token}"} if token else {}

    def as_(self, token: str | None) -> "GraphQLClient":
        """The same client, calling with another access token (None: anonymous)."""
        return GraphQLClient(self.http, token)

    async def raw(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(
            "/graphql",
            json={"query": document, "variables": variables or {}},
            headers=self.headers,
        )
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    async def query(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        body = await self.raw(document, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        """The single error a document must produce; returns it."""
        body = await self.raw(document, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]


async def user_token(engine: GraphEngine, settings: Settings, role: str) -> tuple[str, str]:
    """A user of `role` made directly in the graph, and an access token for it.

    Tests that are not about sign-in skip argon2 and the sign-in round trip this way.
    """
    name = f"{role}{uuid.uuid4().hex[:8]}"
    user = await users.create_user(engine, f"{name}@example.com", name, "not-a-hash", role)
    issued = Tokens(token_config(settings)).issue(user["id"], ACCESS, role=role)
    return user["id"], issued.token


@pytest.fixture
async def gql(client: httpx.AsyncClient, engine: GraphEngine, settings: Settings) -> GraphQLClient:
    """A GraphQL client signed in as an admin."""
    _, token = await user_token(engine, settings, "admin")
    return GraphQLClient(client, token)


def graph_queries(engine_name: str) -> float:
    """Cypher queries sent so far by an engine, over every operation."""
    total = 0.0
    for metric in GRAPH_QUERIES.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("engine") == engine_name:
                total += sample.value
    return total


FIXTURES = Path(__file__).parent


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
