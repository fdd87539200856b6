"""`apollonia worker`: a process that runs queued jobs until it is told to stop.

Start-up pays numba's compilation once (`warm_up`), so no job does. Each worker thread
keeps its own event loop, graph connection and event bus (workers/jobs.py ThreadRuntime).
Several workers, in as many processes as you like, share one queue.
"""

import logging
import os
import signal
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dramatiq import Worker
from dramatiq.middleware import CurrentMessage

import workers.library
import workers.tasks
import workers.tasks_genre  # noqa: F401  (these register the job handlers)
from events import Events
from graph.engine import GraphEngine, connect
from taskqueue import QUEUE, JobQueue, broker_for, workers_key
from workers import compaction
from workers.jobs import ThreadCleanup, ThreadRuntime
from workers.presence import Presence

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

log = logging.getLogger("apollonia.worker")


@dataclass
class WorkerEnv:
    engine: GraphEngine
    events: Events
    queue: JobQueue
    settings: Any

    async def publish(self, channel: str, event_type: str, data: dict[str, Any]) -> None:
        await self.events.publish(channel, event_type, data)

    async def close(self) -> None:
        await self.events.__aexit__()
        await self.engine.close()


def build_worker(settings: Any, threads: int = 1) -> tuple[Worker, JobQueue]:
    """A dramatiq worker bound to this configuration's queue (not started)."""
    holder: dict[str, JobQueue] = {}

    async def make_env() -> WorkerEnv:
        engine = await connect(
            settings.resolved_graph_url,
            graph_name=settings.graph_name,
            username=settings.graph_username,
            password=settings.graph_password,
            database=settings.graph_database or None,
        )
        events = Events(settings.resolved_redis_url)
        await events.__aenter__()
        return WorkerEnv(engine, events, holder["queue"], settings)

    runtime = ThreadRuntime(make_env)
    broker = broker_for(settings)
    compactor = compaction.for_settings(settings, broker, f"{broker.namespace}:{QUEUE}")

    def run_job(job_id: str) -> None:
        message = CurrentMessage.get_current_message()
        retries = int(message.options.get("retries", 0)) if message is not None else 0
        try:
            runtime.run(job_id, retries)
        finally:
            if compactor is not None:
                compactor.job_done()

    broker.add_middleware(ThreadCleanup(runtime))
    broker.add_middleware(Presence(workers_key(settings.graph_name), settings.worker_heartbeat_ms))
    queue = JobQueue(broker, run_job)
    holder["queue"] = queue
    worker = Worker(broker, worker_threads=threads, worker_timeout=500)
    # One message in hand per thread: a busy worker leaves the rest to the others.
    worker.queue_prefetch = threads
    return worker, queue


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space (RLIMIT_AS) at `megabytes`, 0 for no cap: past it
    an allocation raises MemoryError in the job that asked, which fails that job instead
    of the machine. Address space, not resident memory: a warmed-up worker maps about
    700 MB before any job (numba, FFmpeg, BLAS), so leave room above that."""
    if megabytes > 0:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def serve_metrics(settings: Any) -> "WSGIServer | None":
    """This worker's /metrics (job runs and durations are counted in the process that
    ran them, workers/jobs.py) on APOLLONIA_WORKER_METRICS_PORT, when set, at
    APOLLONIA_WORKER_METRICS_HOST: 127.0.0.1 unless told otherwise. It has no token
    check, unlike the API's /metrics, so it is no wider open than asked (prometheus-
    client's own default is every interface)."""
    port = int(getattr(settings, "worker_metrics_port", 0))
    if not port:
        return None
    from prometheus_client import start_http_server

    host = str(getattr(settings, "worker_metrics_host", "127.0.0.1"))
    server, _ = start_http_server(port, addr=host)
    log.info("worker metrics on %s:%d/metrics", host, port)
    return server


def run_worker(settings: Any, threads: int = 1) -> int:
    """Run until SIGTERM or SIGINT, then finish the jobs in hand (up to 30 s). With
    APOLLONIA_WORKER_MEMORY_MB set, the process's address space is capped at it."""
    limit_memory(int(os.environ.get("APOLLONIA_WORKER_MEMORY_MB", "0") or 0))
    from workers.analysis import warm_up

    log.info("warming up the analysis (numba) ...")
    log.info("warm-up took %.1f s", warm_up())
    worker, queue = build_worker(settings, threads)
    serve_metrics(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    log.info("worker ready: %d thread(s) on graph %s", threads, settings.graph_name)
    stop.wait()
    log.info("worker stopping")
    worker.stop(timeout=30_000)
    queue.close()
    return 0
