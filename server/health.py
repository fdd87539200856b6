"""`/health`, `/health/live` and `/health/ready`.

- `/health/live`: the process answers (200 always); restart it when this fails.
- `/health/ready`: the graph and Redis answer and the graph's schema is migrated to this
  code's `SCHEMA_VERSION` (on FalkorDB also: every index is online, which after a
  restart takes a while as the vector index is rebuilt). 200 or 503; route traffic
  here only when it is 200.
- `/health`: the whole installation for a person or a monitor: status, version, uptime
  and each component (graph, redis, worker, storage) up or down. Any component down
  makes it `degraded` with 503: a catalogue without a worker never finishes an upload's
  analysis, one without storage cannot take uploads. Orchestrators should restart and
  route on `live` and `ready`, not on this.

A worker is up when its entry in the graph's set of live workers
(`taskqueue.workers_key`, kept by workers/presence.py) was refreshed within the heartbeat
timeout (`APOLLONIA_WORKER_HEARTBEAT_MS`): a worker refreshes it every few seconds and
takes it out when it stops, so a stopped worker is down at once and a killed one within
the timeout. API processes never write there (dramatiq's own heartbeats, which every
broker writes when it enqueues, counted other API processes as workers).

Every check has a time limit, and no check's exception text reaches the response.
"""

import asyncio
import contextlib
import importlib.metadata
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.engine import GraphEngine
from graph.migrations import SCHEMA_VERSION, schema_version
from server.security_headers import operator_access
from server.settings import Settings
from taskqueue import workers_key

log = logging.getLogger("apollonia.health")

CHECK_TIMEOUT = 2.0
UP = "up"
DOWN = "down"


def version() -> str:
    """The installed package's version."""
    try:
        return importlib.metadata.version("apollonia")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


async def _within(check: Awaitable[Any], name: str) -> Any:
    """The check's value; None when it failed or took longer than CHECK_TIMEOUT."""
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT)
    except Exception as e:
        log.warning("health check %s failed: %s", name, type(e).__name__)
        return None


def _storage(media_dir: Path) -> dict[str, Any]:
    """The media folder (or, before the first upload, the nearest existing folder
    above it, where it will be made) is writable; and its free bytes."""
    existing = media_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return {"status": DOWN}
    free = shutil.disk_usage(existing).free
    return {"status": UP if free > 0 else DOWN, "freeBytes": free}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Health:
    """The checks, over the app's components (read at each request: they are made at
    start-up, and the engine is None until then)."""

    def __init__(self, settings: Settings, components: dict[str, Any]) -> None:
        self.settings = settings
        self.components = components
        self.started = time.monotonic()

    @property
    def engine(self) -> GraphEngine | None:
        engine: GraphEngine | None = self.components.get("engine")
        return engine

    async def graph_up(self) -> bool:
        engine = self.engine
        return engine is not None and bool(await _within(engine.ping(), "graph"))

    async def redis_up(self) -> bool:
        redis = self.components.get("redis")
        return redis is not None and bool(await _within(redis.ping(), "redis"))

    async def workers(self) -> int | None:
        """How many job workers refreshed their entry lately."""
        redis = self.components.get("redis")
        if redis is None:
            return None
        since = time.time() * 1000 - self.settings.worker_heartbeat_ms
        count = await _within(
            redis.zcount(workers_key(self.settings.graph_name), since, "+inf"), "worker"
        )
        return None if count is None else int(count)

    async def migrated(self) -> bool:
        engine = self.engine
        if engine is None:
            return False
        applied = await _within(schema_version(engine), "schema_version")
        if applied != SCHEMA_VERSION:
            return False
        if engine.name == "falkordb":
            # Raises at once (within 0 s) while any index is still building.
            done = await _within(_indexes_online(engine), "indexes")
            return bool(done)
        return True

    async def live(self, _: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def ready(self, _: Request) -> Response:
        graph, redis, migrated = await asyncio.gather(
            self.graph_up(), self.redis_up(), self.migrated()
        )
        checks = {"graph": graph, "redis": redis, "migrations": migrated}
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    async def health(self, request: Request) -> Response:
        graph, redis, workers, storage = await asyncio.gather(
            self.graph_up(),
            self.redis_up(),
            self.workers(),
            asyncio.to_thread(_storage, self.settings.resolved_media_dir),
        )
        components = {
            "graph": {"status": UP if graph else DOWN},
            "redis": {"status": UP if redis else DOWN},
            "worker": {"status": UP if workers else DOWN, "workers": workers or 0},
            "storage": storage,
        }
        ok = all(c["status"] == UP for c in components.values())
        status = 200 if ok else 503
        if not operator_access(request, self.settings.production, self.settings.metrics_token):
            # Version, worker count and free disk help an attacker more than a monitor.
            return JSONResponse({"status": "healthy" if ok else "degraded"}, status_code=status)
        uptime = round(time.monotonic() - self.started, 3)
        body = {
            # Seed 004: `{"status": "healthy", "version", "timestamp"}`.
            "status": "healthy" if ok else "degraded",
            "version": version(),
            "uptime": uptime,
            "uptime_seconds": uptime,
            "timestamp": _now(),
            "components": components,
        }
        return JSONResponse(body, status_code=status)

    async def health_v1(self, _: Request) -> Response:
        """Seed 002's `GET /api/v1/health`: `healthy` or `degraded` (503), components as
        "up"/"down". `model` is up while a worker (which runs the genre model) beats; it
        does not make the service degraded, as predictions answer NO_MODEL without one."""
        graph, redis, workers, storage = await asyncio.gather(
            self.graph_up(),
            self.redis_up(),
            self.workers(),
            asyncio.to_thread(_storage, self.settings.resolved_media_dir),
        )
        components = {
            "api": UP,
            "database": UP if graph else DOWN,
            "redis": UP if redis else DOWN,
            "model": UP if workers else DOWN,
            "storage": storage["status"],
        }
        ok = all(v == UP for k, v in components.items() if k != "model")
        body = {
            "status": "healthy" if ok else "degraded",
            "version": version(),
            "components": components,
            "uptime_seconds": round(time.monotonic() - self.started, 3),
            "timestamp": _now(),
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    def routes(self) -> list[tuple[str, Callable[[Request], Awaitable[Response]]]]:
        return [
            ("/health", self.health),
            ("/health/live", self.live),
            ("/health/ready", self.ready),
            ("/api/v1/health", self.health_v1),
        ]


async def _indexes_online(engine: GraphEngine) -> bool:
    with contextlib.suppress(Exception):
        await engine.wait_for_indexes(0)
        return True
    return False
