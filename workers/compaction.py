"""Compact the embedded database once a burst of jobs has drained.

A page of 50 tracks reads FalkorDB's node properties, which lie scattered in memory after
a library was imported and analysed a write at a time: measured side by side on two
100k-track databases loaded alike, the same exact page query took 3.25 ms on the one as
loaded and 2.41 ms on the one reloaded (graph.embedded.compact, DEBUG RELOAD). A restart
does the same; a library that is imported and then served for weeks never gets one.

So a worker counts the jobs it finishes (in Redis, shared by all workers of the graph),
and after `APOLLONIA_COMPACT_AFTER` of them (default 10,000; 0: never), at a moment when
no job waits in the queue, the first worker to take the lock reloads the embedded
database in one piece. Every client waits while it runs (about 2 s at 100k tracks);
nothing is lost. Only the embedded FalkorDB is compacted: another server is left alone.
A failure here is logged and never fails the job that triggered it.
"""

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from prometheus_client import Counter

from graph.embedded import Compaction, compact, socket_path_of

log = logging.getLogger("apollonia.worker")

LOCK_SECONDS = 600  # a compaction that takes longer than this lets another one start
COMPACTIONS = Counter(
    "apollonia_compactions_total",
    "Reloads of the embedded database in one piece after a burst of jobs (by this worker)",
)


@dataclass
class Compactor:
    """Counts finished jobs and compacts the database at `socket_path` after `after` of
    them, once the queue list `waiting_key` is empty."""

    client: Any  # a redis.Redis (the job broker's: workers of one graph share it)
    socket_path: Path
    after: int
    namespace: str  # the broker's key prefix, `apollonia:<graph>`
    waiting_key: str

    @property
    def count_key(self) -> str:
        return f"{self.namespace}:compact:jobs"

    @property
    def lock_key(self) -> str:
        return f"{self.namespace}:compact:lock"

    @property
    def last_key(self) -> str:
        return f"{self.namespace}:compact:last"

    def job_done(self) -> Compaction | None:
        """Count one finished job; compact when it is due. Never raises."""
        try:
            return self._job_done()
        except (redis.RedisError, OSError) as e:
            log.warning("database compaction skipped: %s", type(e).__name__)
            return None

    def _job_done(self) -> Compaction | None:
        done = int(self.client.incr(self.count_key))
        if done < self.after or int(self.client.llen(self.waiting_key)) > 0:
            return None
        if not self.client.set(self.lock_key, os.getpid(), nx=True, ex=LOCK_SECONDS):
            return None  # another worker is compacting
        try:
            done = int(self.client.get(self.count_key) or 0)
            if done < self.after:
                return None  # another worker compacted just before
            try:
                result = compact(self.socket_path)
            except redis.ResponseError as e:
                # DEBUG refused: a server started by an older version, or not ours.
                # Try again after as many jobs, not after every one.
                self.client.set(self.count_key, 0)
                log.warning("database compaction refused by the server: %s", e)
                return None
            self.client.set(self.count_key, 0)
            self.client.set(self.last_key, f"{time.time():.0f} {result.seconds:.3f} {done}")
        finally:
            self.client.delete(self.lock_key)
        COMPACTIONS.inc()
        log.info(
            "compacted the database after %d jobs in %.2f s (memory %.1f -> %.1f MB)",
            done,
            result.seconds,
            result.memory_before / 2**20,
            result.memory_after / 2**20,
        )
        return result


def for_settings(settings: Any, broker: Any, waiting_key: str) -> Compactor | None:
    """The compactor of this configuration: None unless the graph is the embedded
    FalkorDB and `compact_after` is above 0."""
    after = int(getattr(settings, "compact_after", 0))
    if after <= 0 or not str(settings.resolved_graph_url).startswith("falkordb-embedded://"):
        return None
    socket_path = socket_path_of(settings.embedded_data_dir)
    return Compactor(broker.client, socket_path, after, broker.namespace, waiting_key)
