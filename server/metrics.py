"""Prometheus metrics of the API process, and `/metrics`.

Labels are bounded: a request is counted under the path template of the route that
served it (`/api/v1/tracks/{id}`, never the raw URL) or `unmatched`; a GraphQL request
under its operation name, which clients choose freely, so a name must look like a
GraphQL name of at most 64 characters and only the first `MAX_OPERATIONS` distinct
names get their own series (later ones are `other`; unnamed documents `anonymous`).

Job figures: `apollonia_job_records{kind,status}` is read from the graph's Job nodes at each
scrape, so scraping the API alone shows every worker's backlog and outcomes. Run
counts and durations (`apollonia_jobs_total`, `apollonia_job_duration_seconds`) are
observed where jobs run, in `apollonia worker` (workers/jobs.py); a worker serves them
on its own `/metrics` when `APOLLONIA_WORKER_METRICS_PORT` is set.
"""

import asyncio
import bisect
import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph import jobs
from graph.embedded import process_alive
from graph.engine import GraphEngine
from graph.engine.base import labelled
from server.security_headers import operator_access

log = logging.getLogger("apollonia.metrics")

HTTP_REQUESTS = Counter(
    "apollonia_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "apollonia_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
)
GRAPHQL_OPERATIONS = Counter(
    "apollonia_graphql_operations_total",
    "GraphQL requests over HTTP, by operation name and HTTP status.",
    ["operation", "status"],
)
GRAPHQL_DURATION = Histogram(
    "apollonia_graphql_operation_duration_seconds",
    "Time to answer a GraphQL request over HTTP, by operation name.",
    ["operation"],
)
SUBSONIC_PASSWORD_CHECKS = Counter(
    "apollonia_subsonic_password_checks_total",
    "Subsonic `p=` sign-ins with the account password: argon2 run (hashed) or a recent"
    " success remembered (remembered).",
    ["outcome"],
)
# With several API processes (`serve --workers N`), each writes its figures to
# PROMETHEUS_MULTIPROC_DIR and `/metrics` sums them: live gauges over live processes.
WEBSOCKETS = Gauge(
    "apollonia_websocket_connections",
    "Open WebSocket connections, by endpoint.",
    ["route"],
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "apollonia_subscriptions",
    "Active subscriptions: GraphQL ones by subprotocol, and `/ws` event channels.",
    ["protocol"],
    multiprocess_mode="livesum",
)
JOBS = Gauge(
    "apollonia_job_records",
    "Jobs recorded in the graph, by kind and status (read at scrape time).",
    ["kind", "status"],
)

MAX_OPERATIONS = 200
ANONYMOUS = "anonymous"
OTHER = "other"
UNMATCHED = "unmatched"
_NAME_RE = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
# The first named operation of a document: enough for a label, far cheaper than parsing.
_OPERATION_RE = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
PEEK_BYTES = 256 * 1024  # bodies beyond this are not looked into for a name
_JOB_COUNTS_TIMEOUT = 5.0


class OperationNames:
    """Operation names seen so far, up to `limit` distinct ones; the rest are `other`."""

    def __init__(self, limit: int = MAX_OPERATIONS) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if not _NAME_RE.fullmatch(name):
            return OTHER
        if name in self._seen:
            return name
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(name)
        return name


OPERATION_NAMES = OperationNames()


def operation_name(payload: Any) -> str | None:
    """The operation a GraphQL request runs: `operationName`, else the document's first
    named operation."""
    if isinstance(payload, list):
        return "batch"
    if not isinstance(payload, dict):
        return None
    name = payload.get("operationName")
    if isinstance(name, str) and name:
        return name
    query = payload.get("query")
    if isinstance(query, str):
        found = _OPERATION_RE.search(query)
        return found.group(1) if found else None
    return None


def route_template(scope: Scope, routes: list[BaseRoute]) -> str:
    """The matched route's path template (with a mount's prefix), or `unmatched`."""
    route = scope.get("route")
    if route is None:
        # Answered before routing (401, 413): find the route it was meant for.
        route = next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)
    if route is None:
        return UNMATCHED
    path = str(getattr(route, "path", "") or "")
    if isinstance(route, Mount):
        # The mount's inner router set no route of its own: name the mount only.
        return f"{path}/*" if path else UNMATCHED
    prefix = str(scope.get("root_path", ""))
    app_root = str(scope.get("app_root_path", prefix))
    mounted = prefix[len(app_root) :] if prefix.startswith(app_root) else ""
    return f"{mounted}{path}" or UNMATCHED


def record_http(
    scope: Scope, routes: list[BaseRoute], status: int, elapsed: float, body: bytearray | None
) -> None:
    """Count and time an answered HTTP request; a GraphQL one (`body`: at most
    `PEEK_BYTES` of its body as the app read it, None for other paths) under its
    operation's name too. Gathered in `TALLY`, handed to prometheus_client in bulk."""
    route = route_template(scope, routes)
    method = scope["method"]
    code = str(status)
    TALLY.count(labelled(HTTP_REQUESTS, route, method, code))
    TALLY.observe(labelled(HTTP_DURATION, route, method), elapsed)
    if body is not None and method in ("GET", "POST"):
        name = OPERATION_NAMES.label(_graphql_name(scope, bytes(body)))
        TALLY.count(labelled(GRAPHQL_OPERATIONS, name, code))
        TALLY.observe(labelled(GRAPHQL_DURATION, name), elapsed)


class Tally:
    """Counts and observations of this process, handed to prometheus_client in bulk.

    With several API processes each `inc` of prometheus_client takes a lock, asks the
    kernel for the pid and writes an mmap'd file, and a histogram's `observe` searches
    its buckets in Python: per request, 6 such writes for the HTTP and GraphQL metrics
    cost 5-8% of the throughput of `track(id)` (0.280 against 0.259 ms of CPU a request
    without them, two API processes). Here a request adds to a dict; `flush` (every
    `FLUSH_SECONDS` from `run`, which the app's lifespan starts, before every `/metrics`
    of this process, and as the process stops) adds each sum once. A histogram's
    observations are put in its buckets here, as prometheus_client does it, and added to
    its bucket and sum values (`tests/test_metrics.py` checks the exposition against
    direct observations)."""

    FLUSH_SECONDS = 1.0

    def __init__(self) -> None:
        self._counts: dict[Any, int] = {}
        # histogram child -> [count per bucket..., sum of the observations]
        self._observed: dict[Any, list[float]] = {}

    def count(self, child: Any) -> None:
        self._counts[child] = self._counts.get(child, 0) + 1

    def observe(self, child: Any, value: float) -> None:
        bounds = child._upper_bounds
        entry = self._observed.get(child)
        if entry is None:
            entry = self._observed[child] = [0.0] * (len(bounds) + 1)
        entry[bisect.bisect_left(bounds, value)] += 1
        entry[-1] += value

    def flush(self) -> None:
        """Hand every pending figure to prometheus_client."""
        counts, observed = self._counts, self._observed
        self._counts, self._observed = {}, {}
        for child, n in counts.items():
            child.inc(n)
        for child, entry in observed.items():
            for index, seen in enumerate(entry[:-1]):
                if seen:
                    child._buckets[index].inc(seen)
            child._sum.inc(entry[-1])

    async def run(self) -> None:
        """Flush every `FLUSH_SECONDS` while the process serves, so that figures reach
        the other API processes' scrapes when this one has no more requests."""
        while True:
            await asyncio.sleep(self.FLUSH_SECONDS)
            self.flush()


TALLY = Tally()


async def counted_websocket(
    app: ASGIApp, routes: list[BaseRoute], scope: Scope, receive: Receive, send: Send
) -> None:
    """Run the WebSocket `app`, counted in `apollonia_websocket_connections` from its
    accept to its end."""
    accepted: list[str] = []

    async def send_counting(message: Message) -> None:
        await send(message)
        if message["type"] == "websocket.accept" and not accepted:
            accepted.append(route_template(scope, routes))
            WEBSOCKETS.labels(accepted[0]).inc()

    try:
        await app(scope, receive, send_counting)
    finally:
        if accepted:
            WEBSOCKETS.labels(accepted[0]).dec()


def _graphql_name(scope: Scope, body: bytes) -> str | None:
    if scope["method"] == "GET":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return operation_name({k: v[0] for k, v in query.items()})
    if not body:
        return None
    try:
        return operation_name(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None  # multipart uploads, truncated peeks, bad bodies


async def _job_counts(engine: GraphEngine | None) -> list[dict[str, Any]] | None:
    """The job counts of the graph; None when they cannot be read now."""
    if engine is None:
        return None
    try:
        return await asyncio.wait_for(jobs.counts(engine), _JOB_COUNTS_TIMEOUT)
    except Exception as e:  # the scrape must answer even when the graph does not
        log.warning("job counts unavailable for /metrics: %s", type(e).__name__)
        return None


async def refresh_job_counts(engine: GraphEngine | None) -> None:
    """Set `apollonia_job_records` from the graph; on failure keep the last figures."""
    rows = await _job_counts(engine)
    if rows is None:
        return
    JOBS.clear()
    for row in rows:
        JOBS.labels(str(row["kind"]), str(row["status"])).set(float(row["n"]))


class _JobCounts:
    """`apollonia_job_records` as read at this scrape, for a multi-process registry (the
    JOBS gauge is per process; the graph's counts are the same for all)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def collect(self) -> Any:
        family = GaugeMetricFamily(
            "apollonia_job_records", JOBS._documentation, labels=["kind", "status"]
        )
        for row in self.rows:
            family.add_metric([str(row["kind"]), str(row["status"])], float(row["n"]))
        yield family


def process_stopped() -> None:
    """With several API processes: drop this one's live gauges (open sockets and
    subscriptions) from the sum, as it stops; its last figures are written first."""
    TALLY.flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def prune_dead_processes(folder: Path) -> None:
    """Drop the live gauges of API processes that ended without saying so (killed, or
    crashed: uvicorn's supervisor starts another), so that their open sockets and
    subscriptions leave the sum at the next scrape rather than at the next start."""
    pids = set()
    for path in folder.glob("gauge_live*_*.db"):
        number = path.stem.rpartition("_")[2]
        if number.isdigit():
            pids.add(int(number))
    for pid in pids:
        if not process_alive(pid):
            # Another process's scrape may remove the same files first.
            with contextlib.suppress(FileNotFoundError):
                mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


async def exposition(engine: GraphEngine | None) -> bytes:
    """The text of `/metrics`: this process's registry, or, with several API processes
    (PROMETHEUS_MULTIPROC_DIR set), the sum of all of theirs."""
    TALLY.flush()
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        await refresh_job_counts(engine)
        return generate_latest()
    prune_dead_processes(Path(folder))
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    rows = await _job_counts(engine)
    if rows is not None:
        registry.register(_JobCounts(rows))
    return generate_latest(registry)


def metrics_endpoint(
    engine: Callable[[], GraphEngine | None], production: bool = False, token: str = ""
) -> Callable[..., Any]:
    """`GET /metrics` in Prometheus' text format, job counts read from `engine()`; only
    for operators (server/security_headers.py): the metrics token or an admin, and
    anyone in development when no token is configured."""

    async def metrics(request: Request) -> Response:
        if not operator_access(request, production, token):
            body = orjson.dumps(
                {
                    "errors": [
                        {
                            "message": "Metrics need the metrics token or an admin.",
                            "extensions": {"code": "UNAUTHENTICATED"},
                        }
                    ]
                }
            )
            return Response(
                body,
                status_code=401,
                media_type="application/json",
                headers={"www-authenticate": 'Bearer realm="metrics"'},
            )
        return Response(await exposition(engine()), media_type=CONTENT_TYPE_LATEST)

    return metrics
