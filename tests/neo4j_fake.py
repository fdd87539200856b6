"""A recording fake of the neo4j async driver's public API, for tests without a server.

It stands in for `neo4j.AsyncDriver` (`session`, `verify_connectivity`, `close`), its
`AsyncSession` (`execute_read`, `execute_write`, `run`) and `AsyncManagedTransaction`
(`run`), and behaves as the driver documents:

- managed transactions retry a retryable error (`TransientError`, `ServiceUnavailable`,
  `SessionExpired`) and re-raise anything else or the last retryable one;
- a session asks its bookmark manager for bookmarks before each transaction and gives
  it the new bookmark after each commit (the real `AsyncGraphDatabase.bookmark_manager()`
  works against it unchanged);
- schema commands are checked against `SchemaState`, a table of what Neo4j 5 refuses.

Every statement is recorded as a `Call` (database, access mode, bookmarks seen,
query, parameters); answers come from a `responder`, and `fail_next` queues errors.
Our own functions are never replaced: the engine under test is the real one.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from neo4j.exceptions import Neo4jError, ServiceUnavailable

Responder = Callable[[str, dict[str, Any]], list[dict[str, Any]]]
MAX_ATTEMPTS = 3


def neo4j_error(code: str, message: str) -> Neo4jError:
    """The exception the driver raises for a server failure with this status code
    (`Neo.ClientError.Schema.ConstraintValidationFailed` -> ConstraintError, ...)."""
    return Neo4jError._hydrate_neo4j(code=code, message=message)


@dataclass(frozen=True)
class Call:
    database: str | None
    mode: str  # READ, WRITE (managed transactions) or AUTOCOMMIT (session.run)
    bookmarks: frozenset[str]
    query: str
    params: dict[str, Any]


@dataclass
class SchemaObject:
    name: str
    kind: str  # constraint, range, vector, fulltext
    label: str
    properties: tuple[str, ...]


_NAME = r"(?P<name>\w+)"
_CREATE_CONSTRAINT = re.compile(
    rf"CREATE CONSTRAINT {_NAME}(?P<ine> IF NOT EXISTS)? FOR \(n:(?P<label>\w+)\) "
    r"REQUIRE \((?P<props>[^)]*)\) IS UNIQUE$"
)
_CREATE_INDEX = re.compile(
    rf"CREATE (?:(?P<kind>VECTOR|FULLTEXT) )?INDEX {_NAME}(?P<ine> IF NOT EXISTS)? "
    r"FOR (?:\(n:(?P<label>[\w|]+)\)|\(\)-\[n:(?P<rel>\w+)\]-\(\)) "
    r"ON (?:EACH \[|\()(?P<props>[^)\]]*)[)\]]"
)
_DROP = re.compile(rf"DROP (?P<what>INDEX|CONSTRAINT) {_NAME}(?P<ie> IF EXISTS)?$")


class SchemaState:
    """Indexes and constraints of a fake database, refusing what Neo4j 5 refuses.

    Statement, what is already there -> Neo4j 5's answer (Neo.ClientError.*):
    - CREATE CONSTRAINT … IF NOT EXISTS, a range index on the same label and properties
      -> Schema.IndexAlreadyExists ("There already exists an index …");
    - CREATE CONSTRAINT n … IF NOT EXISTS, an index named n
      -> Schema.IndexWithNameAlreadyExists;
    - CREATE INDEX … IF NOT EXISTS (range), a uniqueness constraint on the same schema
      -> Schema.ConstraintAlreadyExists;
    - CREATE INDEX n … IF NOT EXISTS, a constraint named n
      -> Schema.ConstraintWithNameAlreadyExists;
    - CREATE … IF NOT EXISTS, the same name or kind and schema -> nothing (no error);
    - CREATE … without IF NOT EXISTS, the same -> Schema.EquivalentSchemaRuleAlreadyExists;
    - DROP INDEX n, n missing or backing a constraint -> Schema.IndexDropFailed;
    - DROP CONSTRAINT n, n missing -> Schema.ConstraintDropFailed;
    - DROP … IF EXISTS, n missing -> nothing;
    - a schema command and a data query in one transaction
      -> Transaction.ForbiddenDueToTransactionType;
    - a schema command in a read transaction -> Statement.AccessMode.
    """

    def __init__(self) -> None:
        self.objects: dict[str, SchemaObject] = {}

    def apply(self, query: str) -> bool:
        """Apply a schema command; False when `query` is not one."""
        statement = " ".join(query.split())
        statement = re.sub(r" OPTIONS \{.*\}$", "", statement)
        if match := _CREATE_CONSTRAINT.match(statement):
            self._create(match, "constraint")
            return True
        if match := _CREATE_INDEX.match(statement):
            self._create(match, (match["kind"] or "range").lower())
            return True
        if match := _DROP.match(statement):
            self._drop(match["what"], match["name"], bool(match["ie"]))
            return True
        if statement.startswith(("CREATE ", "DROP ")) and (
            " INDEX " in statement or " CONSTRAINT " in statement
        ):
            raise AssertionError(f"the fake does not know this schema command: {query}")
        return False

    def _create(self, match: re.Match[str], kind: str) -> None:
        props = tuple(p.strip().removeprefix("n.") for p in match["props"].split(","))
        # A relationship type is kept as `[TYPE]`, apart from any label of that name.
        label = match["label"] if match["label"] is not None else f"[{match['rel']}]"
        new = SchemaObject(match["name"], kind, label, props)
        if_not_exists = bool(match["ine"])
        same_schema = [
            o for o in self.objects.values() if (o.label, o.properties) == (new.label, props)
        ]
        named = self.objects.get(new.name)
        if kind == "constraint":
            if named is not None and named.kind != "constraint":
                raise neo4j_error(
                    "Neo.ClientError.Schema.IndexWithNameAlreadyExists",
                    f"There already exists an index called '{new.name}'.",
                )
            if any(o.kind == "range" for o in same_schema):
                raise neo4j_error(
                    "Neo.ClientError.Schema.IndexAlreadyExists",
                    f"There already exists an index (:{new.label} {{{', '.join(props)}}}). "
                    "A constraint cannot be created until the index has been dropped.",
                )
        else:
            if named is not None and named.kind == "constraint":
                raise neo4j_error(
                    "Neo.ClientError.Schema.ConstraintWithNameAlreadyExists",
                    f"There already exists a constraint called '{new.name}'.",
                )
            if kind == "range" and any(o.kind == "constraint" for o in same_schema):
                raise neo4j_error(
                    "Neo.ClientError.Schema.ConstraintAlreadyExists",
                    f"There is a uniqueness constraint on (:{new.label} "
                    f"{{{', '.join(props)}}}), so an index is already created that matches this.",
                )
        if named is not None or any(o.kind == kind for o in same_schema):
            if if_not_exists:
                return
            raise neo4j_error(
                "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
                f"An equivalent {kind} already exists.",
            )
        self.objects[new.name] = new

    def _drop(self, what: str, name: str, if_exists: bool) -> None:
        found = self.objects.get(name)
        wanted = found is not None and (found.kind == "constraint") == (what == "CONSTRAINT")
        if not wanted:
            if if_exists and found is None:
                return
            code = "IndexDropFailed" if what == "INDEX" else "ConstraintDropFailed"
            raise neo4j_error(f"Neo.ClientError.Schema.{code}", f"Unable to drop {name}.")
        del self.objects[name]

    def names(self) -> set[str]:
        return set(self.objects)


@dataclass
class FakeDriver:
    """Stands in for `neo4j.AsyncDriver`."""

    responder: Responder = lambda query, params: []
    schema: SchemaState = field(default_factory=SchemaState)
    calls: list[Call] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    unreachable: bool = False
    closed: bool = False
    _commits: int = 0

    def session(self, **config: Any) -> "FakeSession":
        self.sessions.append(config)
        return FakeSession(self, config)

    def fail_next(self, *errors: BaseException) -> None:
        """Raise these, one per statement, from the next statements run."""
        self.failures.extend(errors)

    async def verify_connectivity(self, **config: Any) -> None:
        if self.unreachable:
            raise ServiceUnavailable("Unable to retrieve routing information")

    async def close(self) -> None:
        self.closed = True

    def next_bookmark(self) -> str:
        self._commits += 1
        return f"FB:fake:{self._commits}"


class FakeRecord:
    def __init__(self, row: dict[str, Any]) -> None:
        self._row = row

    def data(self) -> dict[str, Any]:
        return dict(self._row)


class FakeResult:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = [FakeRecord(r) for r in rows]

    def __aiter__(self) -> "FakeResult":
        return self

    async def __anext__(self) -> FakeRecord:
        if not self._rows:
            raise StopAsyncIteration
        return self._rows.pop(0)

    async def data(self) -> list[dict[str, Any]]:
        return [r.data() async for r in self]


class FakeTransaction:
    """Stands in for `neo4j.AsyncManagedTransaction`."""

    def __init__(self, session: "FakeSession", mode: str, bookmarks: frozenset[str]) -> None:
        self._session = session
        self._mode = mode
        self._bookmarks = bookmarks
        self._kinds: set[str] = set()

    async def run(self, query: str, parameters: dict[str, Any] | None = None) -> FakeResult:
        driver = self._session.driver
        params = dict(parameters or {})
        driver.calls.append(
            Call(self._session.config.get("database"), self._mode, self._bookmarks, query, params)
        )
        if driver.unreachable:
            raise ServiceUnavailable("Unable to retrieve routing information")
        if driver.failures:
            raise driver.failures.pop(0)
        is_schema = query.lstrip().startswith(("CREATE CONSTRAINT", "DROP ")) or (
            query.lstrip().startswith("CREATE ") and " INDEX " in f" {query} "
        )
        self._kinds.add("schema" if is_schema else "data")
        if len(self._kinds) > 1:
            raise neo4j_error(
                "Neo.ClientError.Transaction.ForbiddenDueToTransactionType",
                "Tried to execute a schema command after a write query in one transaction.",
            )
        if is_schema and self._mode != "WRITE":
            raise neo4j_error(
                "Neo.ClientError.Statement.AccessMode", "Schema commands need a write transaction."
            )
        if is_schema:
            driver.schema.apply(query)
            return FakeResult([])
        return FakeResult(driver.responder(query, params))


class FakeSession:
    """Stands in for `neo4j.AsyncSession`."""

    def __init__(self, driver: FakeDriver, config: dict[str, Any]) -> None:
        self.driver = driver
        self.config = config

    async def __aenter__(self) -> "FakeSession":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def execute_read(
        self, work: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        return await self._managed("READ", work, *args, **kwargs)

    async def execute_write(
        self, work: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        return await self._managed("WRITE", work, *args, **kwargs)

    async def run(self, query: str, parameters: dict[str, Any] | None = None) -> FakeResult:
        """An auto-commit query: recorded as such (never retried, never routed)."""
        tx = FakeTransaction(self, "AUTOCOMMIT", await self._bookmarks())
        return await tx.run(query, parameters)

    async def _bookmarks(self) -> frozenset[str]:
        manager = self.config.get("bookmark_manager")
        return frozenset(await manager.get_bookmarks()) if manager is not None else frozenset()

    async def _managed(
        self, mode: str, work: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            seen = await self._bookmarks()
            try:
                value = await work(FakeTransaction(self, mode, seen), *args, **kwargs)
            except (Neo4jError, ServiceUnavailable) as e:
                if attempt == MAX_ATTEMPTS or not e.is_retryable():
                    raise
                continue
            manager = self.config.get("bookmark_manager")
            if manager is not None:
                await manager.update_bookmarks(seen, [self.driver.next_bookmark()])
            return value
        raise AssertionError("unreachable")
