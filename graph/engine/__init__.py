"""Graph engines: the interface (`base`), FalkorDB (`falkordb`) and Neo4j (`neo4j`), and
`connect`, which picks one by the URL's scheme (as broadcaster picks its backend).

Repositories call `read` and `write` with one Cypher string and its parameters and
get back rows as plain dicts (column alias -> value). Queries return scalars, lists
and maps only, never driver node objects, so both engines produce the same rows.
"""

from graph.engine.base import (
    GRAPH_CLOCK,
    GRAPH_QUERIES,
    BatchWriter,
    GraphClock,
    GraphEngine,
    Params,
    Row,
    graph_call,
)

__all__ = [
    "GRAPH_CLOCK",
    "GRAPH_QUERIES",
    "BatchWriter",
    "GraphClock",
    "GraphEngine",
    "Params",
    "Row",
    "connect",
    "graph_call",
]


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
        from graph.engine.falkordb import FalkorDBEngine

        server = ensure_server(url.split("://", 1)[1] or "./data")
        return FalkorDBEngine.from_socket(server.socket_path, graph_name)
    if scheme in ("falkordb", "falkordb+unix", "redis", "unix"):
        from graph.engine.falkordb import FalkorDBEngine

        return FalkorDBEngine.from_url(url, graph_name)
    if scheme in ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"):
        from graph.engine.neo4j import Neo4jEngine

        return Neo4jEngine.create(
            url, username=username, password=password, database=database or graph_name
        )
    raise ValueError(f"unsupported graph URL scheme: {scheme!r}")
