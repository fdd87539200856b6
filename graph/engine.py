"""The engine interface every graph backend implements, and the factory that picks one.

Repositories call `read` and `write` with one Cypher string and its parameters and
get back rows as plain dicts (column alias -> value). Queries return scalars, lists
and maps only, never driver node objects, so both engines produce the same rows.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from prometheus_client import Counter

from graph.dialect import Dialect, IndexSpec

Row = dict[str, Any]
Params = Mapping[str, Any]

GRAPH_QUERIES = Counter(
    "apollonia_graph_queries_total",
    "Cypher queries sent to the graph engine.",
    ["engine", "operation"],
)


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


async def connect(
    url: str,
    *,
    graph_name: str = "apollonia",
    username: str | None = None,
    password: str | None = None,
    database: str | None = None,
) -> GraphEngine:
    """Connect to the engine a graph URL names.

    - `falkordb-embedded://PATH`: the FalkorDB server bundled with falkordblite, whose
      data lives in PATH; started if no server is running there yet.
    - `falkordb://HOST:PORT` or `falkordb+unix:///path/to/socket`: a FalkorDB server.
    - `neo4j://…`, `neo4j+s://…`, `bolt://…`: Neo4j 5 through the official driver, on
      `database`, by default the database named `graph_name` (the name that Redis keys
      beside the graph use too, so two deployments sharing one Redis never collide).
    """
    scheme = url.split("://", 1)[0]
    if scheme == "falkordb-embedded":
        from graph.embedded import ensure_server
        from graph.falkordb_engine import FalkorDBEngine

        server = ensure_server(url.split("://", 1)[1] or "./data")
        return FalkorDBEngine.from_socket(server.socket_path, graph_name)
    if scheme in ("falkordb", "falkordb+unix", "redis", "unix"):
        from graph.falkordb_engine import FalkorDBEngine

        return FalkorDBEngine.from_url(url, graph_name)
    if scheme in ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"):
        from graph.neo4j_engine import Neo4jEngine

        return Neo4jEngine.create(
            url, username=username, password=password, database=database or graph_name
        )
    raise ValueError(f"unsupported graph URL scheme: {scheme!r}")
