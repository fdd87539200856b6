"""The engine interface every graph backend implements, the query counter, and the batch
writer both engines share.

Repositories call `read` and `write` with one Cypher string and its parameters and
get back rows as plain dicts (column alias -> value). Queries return scalars, lists
and maps only, never driver node objects, so both engines produce the same rows.
"""

import functools
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Protocol

from prometheus_client import Counter

from graph.queries.dialect import Dialect, IndexSpec

Row = dict[str, Any]
Params = Mapping[str, Any]

GRAPH_QUERIES = Counter(
    "apollonia_graph_queries_total",
    "Cypher queries sent to the graph engine.",
    ["engine", "operation"],
)


@functools.lru_cache(maxsize=4096)
def labelled(metric: Any, *values: str) -> Any:
    """A prometheus metric's child for these label values, looked up once: prometheus
    client's `labels()` converts, validates and locks on every call. For the hot paths
    (every graph query here, every HTTP request in server/metrics.py), whose label values
    are bounded: engines and operations, routes, methods, statuses, operation names."""
    return metric.labels(*values)


class GraphClock:
    """How long one request waited on the graph: the union of its graph calls' times
    (calls a request runs side by side count once) and how many calls it made. The
    server puts one in `GRAPH_CLOCK` per HTTP request and reports it in Server-Timing
    (`graph;dur=`). A read shared between requests (graph/_batch.py) counts for each
    request that waited on it."""

    __slots__ = ("busy", "calls", "seconds", "since")

    def __init__(self) -> None:
        self.busy = 0
        self.calls = 0
        self.seconds = 0.0
        self.since = 0.0

    def enter(self) -> None:
        if self.busy == 0:
            self.since = time.perf_counter()
        self.busy += 1
        self.calls += 1

    def leave(self) -> None:
        self.busy -= 1
        if self.busy == 0:
            self.seconds += time.perf_counter() - self.since

    def total(self) -> float:
        """Seconds waited so far, a call still under way included."""
        busy = time.perf_counter() - self.since if self.busy else 0.0
        return self.seconds + busy

    def __enter__(self) -> None:
        self.enter()

    def __exit__(self, *_: object) -> None:
        self.leave()


class _Untimed:
    """The clock of code outside a timed request: times nothing."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, *_: object) -> None:
        pass


GRAPH_CLOCK: ContextVar[GraphClock | None] = ContextVar("apollonia_graph_clock", default=None)
_UNTIMED = _Untimed()


def graph_call() -> GraphClock | _Untimed:
    """`with graph_call():` around a graph call: timed for the request under way, if
    one is timed."""
    return GRAPH_CLOCK.get() or _UNTIMED


class GraphEngine(Protocol):
    """A connected graph database."""

    name: str
    dialect: Dialect

    async def read(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        """Run a read-only query (routed to a reader where the engine can)."""
        ...

    async def write(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        """Run a query that changes the graph, atomically, in one transaction."""
        ...

    async def write_batches(
        self, operation: str, query: str, batches: Sequence[Params]
    ) -> list[Row]:
        """Run the same write once per parameter set, each in its own transaction."""
        ...

    async def ensure_index(self, spec: IndexSpec) -> None:
        """Create an index or constraint unless it exists already."""
        ...

    async def drop_index(self, spec: IndexSpec) -> None:
        """Drop an index or constraint a migration replaces; nothing if it is absent."""
        ...

    async def wait_for_indexes(self, wait_seconds: float = 30.0) -> None:
        """Return once every index is online (they build in the background)."""
        ...

    async def ping(self) -> bool:
        """Return True when the engine answers."""
        ...

    async def close(self) -> None:
        """Release connections; the engine is unusable afterwards."""
        ...


class BatchWriter:
    """`write_batches` for an engine whose `write` runs one transaction per call."""

    async def write(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        raise NotImplementedError

    async def write_batches(
        self, operation: str, query: str, batches: Sequence[Params]
    ) -> list[Row]:
        """Run the same write once per parameter set, each in its own transaction: a
        failure part-way keeps the batches before it and none of the rest."""
        rows: list[Row] = []
        for params in batches:
            rows.extend(await self.write(operation, query, params))
        return rows
