"""The engine interface every graph backend implements, the query counter, and the batch
writer both engines share.

Repositories call `read` and `write` with one Cypher string and its parameters and
get back rows as plain dicts (column alias -> value). Queries return scalars, lists
and maps only, never driver node objects, so both engines produce the same rows.
"""

import functools
from collections.abc import Mapping, Sequence
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
