"""Neo4j 5 through the official async driver.

Reads and writes go through managed transactions (`execute_read` / `execute_write`),
which the driver retries on transient errors and routes to readers or the leader in
a cluster. Every transaction function here is idempotent, as retries require.

Every session names the configured database and shares one bookmark manager, so a read
that follows a write in this process (the same request, job or user flow) waits until the
member it is routed to has that write: causal consistency on a cluster or Aura.
"""

import logging
from collections.abc import Sequence
from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, AsyncSession
from neo4j.api import AsyncBookmarkManager
from neo4j.exceptions import (
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graph.engine.base import GRAPH_QUERIES, BatchWriter, Params, Row, graph_call, labelled
from graph.errors import GraphUnavailableError, GraphUnreachableError
from graph.params import refuse_nul
from graph.queries.dialect import NEO4J, Dialect, IndexSpec
from graph.queries.schema import DELETE_ALL_QUERY, NEO4J_AWAIT_INDEXES_QUERY
from music.errors import ConflictError
from music.text import refuse_control

log = logging.getLogger(__name__)

# The server sends only warnings (deprecations, performance): informational notices,
# such as "index already exists" from every migration, are not worth a log line. The
# driver logs the warnings to the `neo4j.notifications` logger at WARNING.
DRIVER_OPTIONS: dict[str, Any] = {"notifications_min_severity": "WARNING"}


async def _run_tx(tx: AsyncManagedTransaction, query: str, params: dict[str, Any]) -> list[Row]:
    result = await tx.run(query, params)
    return [record.data() async for record in result]


class Neo4jEngine(BatchWriter):
    name = "neo4j"
    dialect: Dialect = NEO4J

    def __init__(
        self,
        driver: AsyncDriver,
        database: str | None,
        bookmarks: AsyncBookmarkManager | None = None,
    ) -> None:
        self._driver = driver
        self._database = database
        self._bookmarks = bookmarks or AsyncGraphDatabase.bookmark_manager()
        # Names this graph for keys kept beside it (rate limits, queues in Redis).
        self.graph_name = database or "neo4j"

    @classmethod
    def create(
        cls,
        url: str,
        *,
        username: str | None,
        password: str | None,
        database: str | None = None,
    ) -> "Neo4jEngine":
        auth = (username, password or "") if username else None
        return cls(AsyncGraphDatabase.driver(url, auth=auth, **DRIVER_OPTIONS), database)

    @property
    def database(self) -> str | None:
        """The database every session names (None: the user's home database)."""
        return self._database

    def _session(self) -> AsyncSession:
        return self._driver.session(database=self._database, bookmark_manager=self._bookmarks)

    async def _transaction(self, write: bool, query: str, params: Params | None) -> list[Row]:
        """One managed transaction (retried by the driver on transient errors), timed
        for the request under way."""
        with graph_call():
            async with self._session() as session:
                run = session.execute_write if write else session.execute_read
                return await run(_run_tx, query, dict(params or {}))

    async def read(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        refuse_nul(params)
        labelled(GRAPH_QUERIES, self.name, operation).inc()
        try:
            return await self._transaction(False, query, params)
        except (ServiceUnavailable, SessionExpired) as e:
            log.error("graph unreachable during %s: %s", operation, e)
            raise GraphUnreachableError("The graph database is unavailable.") from e
        except (Neo4jError, DriverError) as e:
            log.error("graph read %s failed: %s", operation, e)
            raise GraphUnavailableError("The graph query failed.") from e

    async def write(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        refuse_control(params)  # the same text on both engines (music/text.py)
        labelled(GRAPH_QUERIES, self.name, operation).inc()
        try:
            return await self._transaction(True, query, params)
        except ConstraintError as e:
            raise ConflictError("An object with the same unique key exists.") from e
        except (ServiceUnavailable, SessionExpired) as e:
            log.error("graph unreachable during %s: %s", operation, e)
            raise GraphUnreachableError("The graph database is unavailable.") from e
        except (Neo4jError, DriverError) as e:
            log.error("graph write %s failed: %s", operation, e)
            raise GraphUnavailableError("The graph query failed.") from e

    async def _schema(self, statements: Sequence[str]) -> None:
        # One schema command per transaction (Neo4j refuses to mix them), each retried
        # by the driver like any write; the bookmark makes later reads see the index.
        async with self._session() as session:
            for statement in statements:
                GRAPH_QUERIES.labels(self.name, "migrate").inc()
                try:
                    await session.execute_write(_run_tx, statement, {})
                except (Neo4jError, DriverError) as e:
                    log.error("schema command refused: %s: %s", statement, e)
                    raise GraphUnavailableError("A schema migration failed.") from e

    async def ensure_index(self, spec: IndexSpec) -> None:
        await self._schema(self.dialect.ddl(spec))

    async def drop_index(self, spec: IndexSpec) -> None:
        await self._schema(self.dialect.drop_ddl(spec))

    async def wait_for_indexes(self, wait_seconds: float = 30.0) -> None:
        GRAPH_QUERIES.labels(self.name, "migrate").inc()
        async with self._session() as session:
            await session.execute_read(
                _run_tx, NEO4J_AWAIT_INDEXES_QUERY, {"seconds": int(wait_seconds)}
            )

    async def ping(self) -> bool:
        try:
            await self._driver.verify_connectivity()
        except (Neo4jError, DriverError, OSError):
            return False
        return True

    async def delete_graph(self) -> None:
        """Remove every node (tests start from empty); the schema stays."""
        await self.write("reset", DELETE_ALL_QUERY)

    async def close(self) -> None:
        await self._driver.close()
