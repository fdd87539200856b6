"""Running jobs in a worker; the queue they come through is taskqueue/ (which the API
process uses to submit them), and the graph holds the job records.

What a job means lives here, not in the queue: the actor loads the Job node, skips it if
it is already finished (a duplicated or redelivered message), runs the handler registered
for its kind, and records the outcome. Domain errors (bad audio, a missing file, invalid
input) fail the job at once with their code; anything else is transient and retried up to
MAX_RETRIES times before the job fails as INTERNAL. Handlers must be idempotent: a retry
re-runs the whole handler (graph writes MERGE, files are content-addressed).
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dramatiq.middleware import Middleware
from prometheus_client import Counter, Histogram

from graph import jobs as records
from graph.engine import GraphEngine, Row
from graph.errors import GraphUnavailableError
from music.errors import DomainError
from taskqueue import MAX_RETRIES, JobQueue, Transient

log = logging.getLogger("apollonia.jobs")

# Observed in the process that runs the job (a worker; see server/metrics.py).
JOB_RUNS = Counter(
    "apollonia_jobs_total", "Job runs ended, by kind and outcome.", ["kind", "status"]
)
JOB_DURATION = Histogram(
    "apollonia_job_duration_seconds",
    "Time a job run took, by kind and outcome.",
    ["kind", "status"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 7200),
)


@dataclass
class JobContext:
    """What a handler gets: the graph, the event bus, settings, and its job's record."""

    engine: GraphEngine
    job: Row
    publish: Callable[[str, str, dict[str, Any]], Awaitable[None]]
    queue: "JobQueue"
    settings: Any
    state: dict[str, Any] = field(default_factory=dict)

    async def progress(self, value: float, message: str | None = None) -> None:
        await records.progress(self.engine, self.job["id"], value, message)


Handler = Callable[[JobContext], Awaitable[Any]]
Failure = Callable[[JobContext, DomainError | None], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}
ON_FAILURE: dict[str, Failure] = {}


def handler(kind: str, on_failure: Failure | None = None) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind` (and, optionally, what to record
    elsewhere when such a job fails for good, e.g. the track's analysis status)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if on_failure is not None:
            ON_FAILURE[kind] = on_failure
        return fn

    return register


async def execute(
    engine: GraphEngine,
    job_id: str,
    publish: Callable[[str, str, dict[str, Any]], Awaitable[None]],
    queue: JobQueue,
    settings: Any,
    retries: int,
) -> Row | None:
    """Run one job to an outcome. Raises Transient when the queue should retry it."""
    job = await records.start(engine, job_id)
    if job is None:
        log.info("job %s is finished or gone; nothing to do", job_id)
        return None
    kind = job["kind"] if job["kind"] in HANDLERS else "unknown"
    started, status = time.perf_counter(), "error"
    try:
        outcome = await _run(engine, job, publish, queue, settings, retries)
        status = str(outcome.get("status") or "unknown")
        return outcome
    except Transient:
        status = "retrying"
        raise
    finally:
        JOB_RUNS.labels(kind, status).inc()
        JOB_DURATION.labels(kind, status).observe(time.perf_counter() - started)


async def _run(
    engine: GraphEngine,
    job: Row,
    publish: Callable[[str, str, dict[str, Any]], Awaitable[None]],
    queue: JobQueue,
    settings: Any,
    retries: int,
) -> Row:
    job_id = job["id"]
    run = HANDLERS.get(job["kind"])
    ctx = JobContext(engine, job, publish, queue, settings)
    if run is None:
        return await records.finish(
            engine, job_id, error_code="INTERNAL", error_message="Unknown job kind."
        )
    try:
        result = await run(ctx)
    except GraphUnavailableError as e:
        return await _transient(ctx, retries, e)
    except DomainError as e:
        log.info("job %s failed: %s %s", job_id, e.code, e.details)
        if (on_failure := ON_FAILURE.get(job["kind"])) is not None:
            await on_failure(ctx, e)
        await _tell_webhook(ctx, e)
        return await records.finish(engine, job_id, error_code=e.code, error_message=e.message)
    except Exception as e:  # a bug or an outage: worth another try, never shown raw
        return await _transient(ctx, retries, e)
    return await records.finish(engine, job_id, result=result)


async def _transient(ctx: JobContext, retries: int, error: BaseException) -> Row:
    job_id = ctx.job["id"]
    log.exception("job %s attempt %d failed", job_id, retries + 1, exc_info=error)
    if retries < MAX_RETRIES:
        await records.requeue(ctx.engine, job_id, "TRANSIENT_ERROR", "Failed; will retry.")
        raise Transient(job_id) from error
    if isinstance(error, FileNotFoundError):
        failure = DomainError("The audio file is not there (deleted or unmounted).")
        failure.code = "FILE_MISSING"
    else:
        failure = DomainError("The job failed.")
    if (on_failure := ON_FAILURE.get(ctx.job["kind"])) is not None:
        await on_failure(ctx, failure)
    await _tell_webhook(ctx, failure)
    return await records.finish(
        ctx.engine, job_id, error_code=failure.code, error_message=failure.message
    )


async def _tell_webhook(ctx: JobContext, failure: DomainError) -> None:
    """A batch job's webhook hears of its failure too (never of a retry)."""
    from workers import webhooks

    try:
        await webhooks.notify(ctx, None, {"code": failure.code, "message": failure.message})
    except Exception:  # the job's outcome is recorded whatever the webhook does
        log.exception("webhook for failed job %s", ctx.job["id"])


class ThreadRuntime:
    """One event loop, graph connection and event bus per worker thread, made on first
    use and kept for the thread's life (dramatiq runs actors on plain threads)."""

    def __init__(self, make: Callable[[], Awaitable[Any]]) -> None:
        self._make = make
        self._local = threading.local()

    def run(self, job_id: str, retries: int) -> None:
        local = self._local
        if not hasattr(local, "runner"):
            local.runner = asyncio.Runner()
            local.env = local.runner.run(self._make())
        env = local.env
        local.runner.run(execute(env.engine, job_id, env.publish, env.queue, env.settings, retries))

    def close_current(self) -> None:
        """Close this thread's connections and loop (the thread is ending)."""
        local = self._local
        if hasattr(local, "runner"):
            try:
                local.runner.run(local.env.close())
            finally:
                local.runner.close()
                del local.runner, local.env


class ThreadCleanup(Middleware):
    """Closes a worker thread's runtime when dramatiq shuts the thread down."""

    def __init__(self, runtime: ThreadRuntime) -> None:
        self.runtime = runtime

    def before_worker_thread_shutdown(self, broker: Any, thread: Any) -> None:
        self.runtime.close_current()
