"""Neo4j 5 through the official async driver.

Reads and writes go through managed transactions (`execute_read` / `execute_write`),
which the driver retries on transient errors and routes to readers or the leader in
a cluster. Every transaction function here is idempotent, as retries require.
"""

import logging
from collections.abc import Sequence
from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import ConstraintError, DriverError, Neo4jError

from graph.dialect import NEO4J, Dialect, IndexSpec
from graph.engine import GRAPH_QUERIES, Params, Row
from graph.errors import ConflictError, GraphUnavailableError
from graph.text import refuse_control

log = logging.getLogger(__name__)


async def _run_tx(tx: AsyncManagedTransaction, query: str, params: dict[str, Any]) -> list[Row]:
    result = await tx.run(query, params)
    return [record.data() async for record in result]


class Neo4jEngine:
    name = "neo4j"
    dialect: Dialect = NEO4J

    def __init__(self, driver: AsyncDriver, database: str | None) -> None:
        self._driver = driver
        self._database = database
        # Names this graph for keys kept beside it (rate limits in Redis).
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
        return cls(AsyncGraphDatabase.driver(url, auth=auth), database)

    async def read(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        GRAPH_QUERIES.labels(self.name, operation).inc()
        try:
            async with self._driver.session(database=self._database) as session:
                return await session.execute_read(_run_tx, query, dict(params or {}))
        except (Neo4jError, DriverError) as e:
            log.error("graph read %s failed: %s", operation, e)
            raise GraphUnavailableError("The graph query failed.") from e

    async def write(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        refuse_control(params)  # the same text on both engines (graph/text.py)
        GRAPH_QUERIES.labels(self.name, operation).inc()
        try:
            async with self._driver.session(database=self._database) as session:
                return await session.execute_write(_run_tx, query, dict(params or {}))
        except ConstraintError as e:
            raise ConflictError("An object with the same unique key exists.") from e
        except (Neo4jError, DriverError) as e:
            log.error("graph write %s failed: %s", operation, e)
            raise GraphUnavailableError("The graph query failed.") from e

    async def write_batches(
        self, operation: str, query: str, batches: Sequence[Params]
    ) -> list[Row]:
        rows: list[Row] = []
        for params in batches:
            rows.extend(await self.write(operation, query, params))
        return rows

    async def ensure_index(self, spec: IndexSpec) -> None:
        async with self._driver.session(database=self._database) as session:
            for statement in self.dialect.ddl(spec):
                GRAPH_QUERIES.labels(self.name, "migrate").inc()
                await session.run(statement)

    async def wait_for_indexes(self, wait_seconds: float = 30.0) -> None:
        GRAPH_QUERIES.labels(self.name, "migrate").inc()
        async with self._driver.session(database=self._database) as session:
            await session.run("CALL db.awaitIndexes($seconds)", {"seconds": int(wait_seconds)})

    async def ping(self) -> bool:
        try:
            await self._driver.verify_connectivity()
        except (Neo4jError, DriverError, OSError):
            return False
        return True

    async def delete_graph(self) -> None:
        """Remove every node (tests start from empty)."""
        await self.write("reset", "MATCH (n) DETACH DELETE n")

    async def close(self) -> None:
        await self._driver.close()
