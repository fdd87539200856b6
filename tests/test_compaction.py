"""A worker compacts the embedded database after a burst of jobs, once the queue is idle
(workers/compaction.py), on the session's real embedded FalkorDB."""

import asyncio
import dataclasses
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from graph.embedded import SOCKET_NAME, Compaction, EmbeddedServer
from graph.engine import GraphEngine
from graph.engine import falkordb as falkordb_engine
from graph.engine.falkordb import FalkorDBEngine
from graph.errors import GraphUnreachableError
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, make_settings
from tests.test_upload_pipeline import wait_for_job
from workers import compaction
from workers.compaction import Compactor


def _compactor(server: EmbeddedServer, after: int) -> Compactor:
    namespace = f"apollonia:test-{uuid.uuid4().hex}"
    client = redis.Redis(unix_socket_path=str(server.socket_path))
    return Compactor(client, server.socket_path, after, namespace, f"{namespace}:apollonia")


async def test_the_database_is_compacted_after_its_jobs_once_nothing_waits(
    falkordb_server: EmbeddedServer, engine: GraphEngine
) -> None:
    if not hasattr(engine, "graph_name"):
        pytest.skip("compaction is for the embedded FalkorDB")
    await engine.write("t", "CREATE (:Probe {id: 'p', v: 42})")
    compactor = _compactor(falkordb_server, after=3)
    client = compactor.client
    client.delete(compactor.count_key)
    assert compactor.job_done() is None and compactor.job_done() is None
    # A job waits in the queue: not now, however many have finished.
    client.rpush(compactor.waiting_key, "message-id")
    assert compactor.job_done() is None and compactor.job_done() is None
    assert int(client.get(compactor.count_key)) == 4
    client.delete(compactor.waiting_key)
    # Another worker holds the lock: not this one.
    client.set(compactor.lock_key, 1)
    assert compactor.job_done() is None
    client.delete(compactor.lock_key)
    # A key of its own, so that the count of keys loaded differs from any earlier load's.
    client.set(f"{compactor.namespace}:probe", 1)
    lasting = sum(1 for key in client.scan_iter(count=1000) if client.pttl(key) == -1)
    keys = int(client.dbsize())
    done = compactor.job_done()
    assert isinstance(done, Compaction) and done.seconds >= 0
    # The server loaded the keys just now, the lock held while it ran among them: every
    # key without an expiry. Keys with one (earlier tests' limits and caches) may have
    # lapsed: DBSIZE counts a lapsed key until Redis reclaims it, a reload drops it
    # (`rdb_last_load_keys_expired`; a fresh clone's run loaded 565 of 574 + 1).
    info = redis.Redis(unix_socket_path=str(falkordb_server.socket_path)).info("persistence")
    loaded = int(info["rdb_last_load_keys_loaded"])
    assert lasting + 1 <= loaded <= keys + 1
    assert loaded + int(info["rdb_last_load_keys_expired"]) <= keys + 1
    client.delete(f"{compactor.namespace}:probe")
    assert int(client.get(compactor.count_key)) == 0
    assert client.get(compactor.last_key) is not None
    assert client.get(compactor.lock_key) is None
    # Nothing lost: the graph and the queue's keys are as they were.
    assert await engine.read("t", "MATCH (p:Probe) RETURN p.v AS v") == [{"v": 42}]
    assert compactor.job_done() is None
    assert int(client.get(compactor.count_key)) == 1


def test_a_compaction_that_cannot_run_never_fails_the_job(tmp_path: Path) -> None:
    missing = tmp_path / SOCKET_NAME
    client = redis.Redis(unix_socket_path=str(missing), socket_timeout=1)
    compactor = Compactor(client, missing, 1, "apollonia:x", "apollonia:x:apollonia")
    assert compactor.job_done() is None


def test_only_the_embedded_database_is_compacted(falkordb_server: EmbeddedServer) -> None:
    class Broker:
        client: Any = None
        namespace = "apollonia:g"

    embedded = make_settings(falkordb_server, compact_after=5)
    found = compaction.for_settings(embedded, Broker(), "apollonia:g:apollonia")
    assert found is not None and found.after == 5
    assert found.socket_path == falkordb_server.data_dir.resolve() / SOCKET_NAME
    never = make_settings(falkordb_server, compact_after=0)
    assert compaction.for_settings(never, Broker(), "") is None
    other = make_settings(falkordb_server, graph_url="falkordb://127.0.0.1:1", compact_after=5)
    assert compaction.for_settings(other, Broker(), "") is None


@pytest.fixture
def worker_settings(worker_settings: Settings) -> Settings:
    """The shared worker settings, compacting after every second job."""
    return dataclasses.replace(worker_settings, compact_after=2)


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    """The API's settings are the worker's: one graph, one queue."""
    return worker_settings


async def test_a_worker_compacts_after_its_jobs(
    falkordb_server: EmbeddedServer,
    engine: GraphEngine,
    worker_settings: Settings,
    live: LiveServer,
    gql: GraphQLClient,
    worker: Any,
) -> None:
    if not hasattr(engine, "graph_name"):
        pytest.skip("compaction is for the embedded FalkorDB")
    namespace = f"apollonia:{worker_settings.graph_name}"
    client = redis.Redis(unix_socket_path=str(falkordb_server.socket_path))
    client.delete(f"{namespace}:compact:last", f"{namespace}:compact:jobs")
    job = (await gql.query("mutation { rebuildSimilarity { id } }"))["rebuildSimilarity"]
    done = await wait_for_job(gql, job["id"])
    # An empty library: nothing to link (this job failed on it, reshaping no vectors).
    assert done["status"] == "completed", done
    assert done["result"]["tracks"] == 0 and done["result"]["edges"] == 0
    assert client.get(f"{namespace}:compact:last") is None
    assert int(client.get(f"{namespace}:compact:jobs")) == 1
    job = (await gql.query("mutation { rebuildSimilarity { id } }"))["rebuildSimilarity"]
    assert (await wait_for_job(gql, job["id"]))["status"] == "completed"
    # The count is checked right after the job ran, before its message is acknowledged.
    for _ in range(100):
        if client.get(f"{namespace}:compact:last") is not None:
            break
        await asyncio.sleep(0.05)
    assert client.get(f"{namespace}:compact:last") is not None
    assert int(client.get(f"{namespace}:compact:jobs")) == 0


async def test_a_query_refused_while_the_server_loads_is_sent_again(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the server loads its data (a compaction's reload, a restart) it refuses
    commands with LOADING before running them; the engine sends the query again until
    the server answers, up to LOADING_WAIT_SECONDS. A real LOADING needs a large graph
    (bench/compaction.py meets it on 100k tracks: 28-36 of about 80 requests failed
    during a compaction before); here the first sends are refused at the client's edge
    and the real server answers the rest."""
    if not isinstance(engine, FalkorDBEngine):
        pytest.skip("FalkorDB's LOADING")
    await engine.write("t", "CREATE (:Probe {v: 1})")
    graph = engine._graph
    send = graph.execute_command
    refusals = {"left": 3}

    async def loading_first(*args: Any) -> Any:
        if refusals["left"]:
            refusals["left"] -= 1
            raise redis.BusyLoadingError("Redis is loading the dataset in memory")
        return await send(*args)

    monkeypatch.setattr(graph, "execute_command", loading_first)
    assert await engine.read("t", "MATCH (p:Probe) RETURN p.v AS v") == [{"v": 1}]
    assert refusals["left"] == 0
    # A server that never finishes loading: the query gives up after the wait.
    monkeypatch.setattr(falkordb_engine, "LOADING_WAIT_SECONDS", 0.1)
    refusals["left"] = 1_000
    with pytest.raises(GraphUnreachableError):
        await engine.read("t", "MATCH (p:Probe) RETURN p.v AS v")
