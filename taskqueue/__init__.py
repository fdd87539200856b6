"""The task queue as the API sees it: dramatiq on Redis, carrying job ids, and the job kinds
there are. Submitting needs nothing of the workers' code, so the API process stays lean; the
workers (workers/jobs.py) register a handler for each kind and run them.

Why dramatiq: it is maintained, runs on redis-py 8 (beside FalkorDB's client), keeps a
message unacknowledged until its actor returns, and hands the messages of a worker that
stopped sending heartbeats to the workers still alive (so a killed worker's job runs
again), with retries and exponential backoff as middleware.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from graph import jobs as records
from graph.engine import GraphEngine, Row
from graph.errors import GraphUnavailableError

QUEUE = "apollonia"
ACTOR = "run_job"
MAX_RETRIES = 3
TIME_LIMIT_MS = 2 * 3600 * 1000  # a full similarity rebuild at 100k tracks fits easily


class Transient(Exception):
    """A failure worth retrying (the graph or Redis was unreachable, a worker bug)."""


# Every kind a job may have: the API submits only these, and the workers handle exactly
# these (tests/test_lean_api.py).
JOB_KINDS = frozenset(
    {
        "analyze",
        "batch_predict",
        "classify_tracks",
        "embed_features",
        "link_similarity",
        "rebuild_similarity",
        "scan",
        "train_genre_model",
    }
)


def make_broker(
    redis_url: str,
    namespace: str,
    *,
    heartbeat_timeout_ms: int = 60_000,
    maintenance_chance: int = 1_000,
    min_backoff_ms: int = 1_000,
) -> RedisBroker:
    """A broker on `redis_url` whose keys start with `namespace` (one per graph)."""
    middleware = [
        AgeLimit(),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        Retries(
            min_backoff=min_backoff_ms,
            max_backoff=60_000,
            retry_when=lambda retries, e: isinstance(e, Transient) and retries < MAX_RETRIES,
        ),
    ]
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url,
        namespace=namespace,
        middleware=middleware,
        heartbeat_timeout=heartbeat_timeout_ms,
        maintenance_chance=maintenance_chance,
    )


def workers_key(graph_name: str) -> str:
    """The sorted set of live job workers of a graph (workers/presence.py), each scored
    with the epoch ms of its last refresh; `/health` counts the fresh ones."""
    return f"apollonia:{graph_name}:__workers__"


def broker_for(settings: Any) -> Any:
    """The queue of this configuration's graph: `apollonia:<GRAPH_NAME>` on either engine,
    so API processes and workers always meet (whatever a Neo4j database is called)."""
    return make_broker(
        settings.resolved_redis_url,
        f"apollonia:{settings.graph_name}",
        heartbeat_timeout_ms=settings.worker_heartbeat_ms,
        maintenance_chance=settings.worker_maintenance_chance,
        min_backoff_ms=settings.job_min_backoff_ms,
    )


class JobQueue:
    """Submits jobs: a `queued` Job node first, then a message carrying its id."""

    def __init__(self, broker: RedisBroker, runner: Callable[[str], None] | None = None) -> None:
        self.broker = broker
        self.actor: Any = dramatiq.actor(  # type: ignore[call-overload]
            runner or _not_here,
            actor_name=ACTOR,
            queue_name=QUEUE,
            broker=broker,
            max_retries=MAX_RETRIES,
        )

    async def submit(
        self,
        engine: GraphEngine,
        kind: str,
        params: dict[str, Any],
        owner_id: str | None,
        track_id: str | None = None,
    ) -> Row:
        if kind not in JOB_KINDS:
            raise ValueError(f"no handler for job kind {kind!r}")
        job = await records.create_job(engine, kind, params, owner_id, track_id)
        try:
            await asyncio.to_thread(self.actor.send, job["id"])
        except Exception as e:
            await records.finish(
                engine, job["id"], error_code="INTERNAL", error_message="Could not queue the job."
            )
            raise GraphUnavailableError("The job queue is unavailable.") from e
        return job

    def close(self) -> None:
        self.broker.close()


def _not_here(job_id: str) -> None:
    raise RuntimeError("jobs run in `apollonia worker`, not in the API process")
