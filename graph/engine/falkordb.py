"""FalkorDB through its asyncio client (redis-py underneath)."""

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from falkordb.asyncio import FalkorDB
from falkordb.asyncio.query_result import QueryResult
from redis.exceptions import BusyLoadingError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from graph.engine.base import GRAPH_QUERIES, BatchWriter, Params, Row, graph_call, labelled
from graph.errors import GraphUnavailableError, GraphUnreachableError
from graph.params import refuse_nul_in
from graph.queries.dialect import FALKORDB, Dialect, IndexSpec
from graph.queries.schema import (
    FALKORDB_CONSTRAINT_STATUS_QUERY,
    FALKORDB_INDEX_STATUS_QUERY,
    PING_QUERY,
)
from music.errors import ConflictError
from music.text import refuse_control

log = logging.getLogger(__name__)

# A pool that serves a full GraphQL request's loaders at once without queueing.
MAX_CONNECTIONS = 64
# While the server loads its data (a restart replaying its files, a compaction reloading
# them: about 2 s per 100k tracks) it refuses every command with LOADING before running
# it; a query waits up to this long for it instead of failing.
LOADING_WAIT_SECONDS = 60.0


def _rows(result: Any) -> list[Row]:
    names = [column[1] for column in result.header]
    return [dict(zip(names, record, strict=True)) for record in result.result_set]


class _NotPlain(Exception):
    """A cell holds a node, edge, path or temporal value: falkordb's parser reads it."""


def _plain(cell: list[Any]) -> Any:
    """One cell of FalkorDB's compact result set ([type, value]) when it is null, a
    string, number, boolean, list or map (what our queries return), as falkordb's own
    parser would read it, without its coroutine per cell. Its hot path: a page's reply
    has thousands of cells."""
    kind, value = cell
    if kind == 2:  # string (already decoded by the connection, or bytes)
        return value if type(value) is str else value.decode()
    if kind == 3:  # integer
        return value if type(value) is int else int(value)
    if kind == 10:  # map: key, cell, key, cell, ...
        pairs = iter(value)
        return {
            key if type(key) is str else key.decode(): _plain(item)
            for key, item in zip(pairs, pairs, strict=False)  # one iterator, read in pairs
        }
    if kind == 6:  # array
        return [_plain(item) for item in value]
    if kind == 1:  # null
        return None
    if kind == 5:  # double
        return float(value)
    if kind == 4:  # boolean
        return (value.decode() if isinstance(value, bytes) else value) == "true"
    raise _NotPlain


async def _parse(graph: Any, response: list[Any]) -> list[Row]:
    """Rows of a GRAPH.QUERY/RO_QUERY compact reply; errors raised as falkordb raises them."""
    if isinstance(response[0], ResponseError):
        raise response[0]
    if isinstance(response[-1], ResponseError):
        raise response[-1]
    if len(response) == 1 or not response[0]:  # statistics only: no columns
        return []
    names = [column[1] for column in response[0]]
    try:
        return [
            dict(zip(names, [_plain(cell) for cell in record], strict=True))
            for record in response[1]
        ]
    except _NotPlain:
        result = QueryResult(graph)
        await result.parse(response)
        return _rows(result)


class FalkorDBEngine(BatchWriter):
    """A FalkorDB graph. One query is one transaction: FalkorDB runs each atomically."""

    name = "falkordb"
    dialect: Dialect = FALKORDB

    def __init__(self, db: FalkorDB, graph_name: str) -> None:
        self._db = db
        self._graph = db.select_graph(graph_name)
        self.graph_name = graph_name

    @classmethod
    def from_socket(cls, socket_path: str | Path, graph_name: str) -> "FalkorDBEngine":
        pool = aioredis.BlockingConnectionPool(
            connection_class=aioredis.UnixDomainSocketConnection,
            path=str(socket_path),
            max_connections=MAX_CONNECTIONS,
            decode_responses=True,
        )
        return cls(FalkorDB(connection_pool=pool), graph_name)

    @classmethod
    def from_url(cls, url: str, graph_name: str) -> "FalkorDBEngine":
        scheme, rest = url.split("://", 1)
        if scheme == "falkordb+unix":
            return cls.from_socket(rest, graph_name)
        redis_url = "redis://" + rest if scheme == "falkordb" else url
        pool = aioredis.BlockingConnectionPool.from_url(
            redis_url, max_connections=MAX_CONNECTIONS, decode_responses=True
        )
        return cls(FalkorDB(connection_pool=pool), graph_name)

    async def read(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        text = self._text(query, params)
        refuse_nul_in(text)
        labelled(GRAPH_QUERIES, self.name, operation).inc()
        try:
            return await self._run("GRAPH.RO_QUERY", text)
        except ResponseError as e:
            if "empty key" in str(e):  # no graph yet (nothing ever written): no rows
                return []
            log.error("graph read %s failed: %s", operation, e)
            raise GraphUnavailableError("The graph query failed.") from e
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            log.error("graph unreachable during %s: %s", operation, e)
            raise GraphUnreachableError("The graph database is unavailable.") from e

    async def write(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        refuse_control(params)
        labelled(GRAPH_QUERIES, self.name, operation).inc()
        try:
            return await self._run("GRAPH.QUERY", self._text(query, params))
        except ResponseError as e:
            if "unique constraint violation" in str(e):
                raise ConflictError("An object with the same unique key exists.") from e
            log.error("graph write %s failed: %s", operation, e)
            raise GraphUnavailableError("The graph query failed.") from e
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            log.error("graph unreachable during %s: %s", operation, e)
            raise GraphUnreachableError("The graph database is unavailable.") from e

    def _text(self, query: str, params: Params | None) -> str:
        """The command text: falkordb's `CYPHER name=value ...` header, then the query."""
        header: str = self._graph._build_params_header(dict(params) if params else None)
        return header + query

    async def _run(self, command: str, text: str) -> list[Row]:
        """falkordb's GRAPH.RO_QUERY or GRAPH.QUERY command, its compact reply parsed
        here (falkordb's parser awaits a coroutine per cell)."""
        with graph_call():
            response = await self._loaded(command, text)
            return await _parse(self._graph, response)

    async def _loaded(self, command: str, text: str) -> Any:
        """The command's reply, once the server has finished loading its data (the
        command was refused, not run, while it loaded: sending it again is safe)."""
        deadline = time.monotonic() + LOADING_WAIT_SECONDS
        pause = 0.02
        while True:
            try:
                return await self._graph.execute_command(
                    command, self.graph_name, text, "--compact"
                )
            except BusyLoadingError:
                if time.monotonic() + pause > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.25)

    async def ensure_index(self, spec: IndexSpec) -> None:
        for statement in self.dialect.ddl(spec):
            GRAPH_QUERIES.labels(self.name, "migrate").inc()
            try:
                await self._graph.query(statement)
            except ResponseError as e:
                if "already indexed" not in str(e) and "already exists" not in str(e):
                    raise
        if spec.kind == "unique":
            GRAPH_QUERIES.labels(self.name, "migrate").inc()
            try:
                await self._unique_constraint("CREATE", spec)
            except ResponseError as e:
                if "already exists" not in str(e):
                    raise

    async def _unique_constraint(self, action: str, spec: IndexSpec) -> None:
        """GRAPH.CONSTRAINT CREATE|DROP for a uniqueness constraint (not Cypher)."""
        await self._db.execute_command(
            "GRAPH.CONSTRAINT",
            action,
            self.graph_name,
            "UNIQUE",
            "NODE",
            spec.label,
            "PROPERTIES",
            len(spec.properties),
            *spec.properties,
        )

    async def drop_index(self, spec: IndexSpec) -> None:
        if spec.kind == "unique":
            GRAPH_QUERIES.labels(self.name, "migrate").inc()
            try:
                await self._unique_constraint("DROP", spec)
            except ResponseError as e:
                if not _is_absent(e):
                    raise
        for statement in self.dialect.drop_ddl(spec):
            GRAPH_QUERIES.labels(self.name, "migrate").inc()
            try:
                await self._graph.query(statement)
            except ResponseError as e:
                if not _is_absent(e):
                    raise

    async def wait_for_indexes(self, wait_seconds: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while True:
            indexes = await self.read("migrate", FALKORDB_INDEX_STATUS_QUERY)
            constraints = await self.read("migrate", FALKORDB_CONSTRAINT_STATUS_QUERY)
            pending = [r for r in indexes + constraints if r["status"] != "OPERATIONAL"]
            failed = [r for r in constraints if r["status"] == "FAILED"]
            if failed:
                raise GraphUnavailableError("A uniqueness constraint failed to build.")
            if not pending:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise GraphUnavailableError("Indexes did not come online in time.")
            await asyncio.sleep(0.05)

    async def ping(self) -> bool:
        try:
            await self._graph.ro_query(PING_QUERY)
        except (RedisError, OSError):
            return False
        return True

    async def delete_graph(self) -> None:
        """Drop the whole graph (tests and benchmarks start from empty)."""
        with contextlib.suppress(ResponseError):
            await self._graph.delete()

    async def close(self) -> None:
        await self._db.aclose()


def _is_absent(error: ResponseError) -> bool:
    """FalkorDB's answer when the index or constraint to drop does not exist."""
    text = str(error).lower()
    return any(words in text for words in ("not exist", "unable to drop", "no such", "not found"))
