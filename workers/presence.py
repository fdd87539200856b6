"""Which job workers are alive, for `/health`: each worker keeps its own entry in the
graph's set of workers (`taskqueue.workers_key`), and takes it out when it stops.

dramatiq's own heartbeats did that job before, and did it badly for a monitor: every
broker writes them, an API process's when it enqueues too (with N API processes one
counted the others as workers), and a worker that stopped cleanly still counted until
its last heartbeat aged out (a minute by default). Those heartbeats stay dramatiq's, for
what they are for: handing a dead worker's messages to the living. This set is ours: a
worker refreshes its entry every few seconds from a thread, removes it at shutdown; a
killed worker's entry ages out after `APOLLONIA_WORKER_HEARTBEAT_MS`, as before.
"""

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from dramatiq.middleware import Middleware
from redis.exceptions import RedisError

log = logging.getLogger("apollonia.worker")


class Presence(Middleware):
    """A dramatiq middleware: from the worker's boot to its shutdown, its member in the
    sorted set `key` is scored with the time of its last refresh (epoch ms)."""

    def __init__(self, key: str, timeout_ms: int) -> None:
        self.key = key
        self.timeout_ms = timeout_ms
        # Refreshed four times per timeout (at most every 5 s): one late refresh on a
        # loaded machine does not make a live worker look dead.
        self.every = max(0.05, min(5.0, timeout_ms / 4000))
        self.member = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self._stop.clear()
        self._write(broker.client)  # present once booted, not a refresh later
        self._thread = threading.Thread(
            target=self._refresh, args=(broker.client,), name="presence", daemon=True
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            broker.client.zrem(self.key, self.member)
        except RedisError:
            log.warning("could not take this worker out of the set of live workers")

    def _refresh(self, client: Any) -> None:
        while not self._stop.wait(self.every):
            self._write(client)

    def _write(self, client: Any) -> None:
        now = time.time() * 1000
        try:
            with client.pipeline() as pipe:
                pipe.zadd(self.key, {self.member: now})
                # Entries of killed workers: gone once past any reader's timeout.
                pipe.zremrangebyscore(self.key, "-inf", now - 10 * self.timeout_ms)
                pipe.execute()
        except RedisError:
            log.warning("could not refresh this worker's entry in the set of live workers")
