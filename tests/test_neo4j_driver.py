"""The Neo4j engine against a recording fake of the async driver (no server runs here):
routing, database name, bookmarks, error mapping, notifications and NUL text."""

from typing import Any

import httpx
import pytest
from neo4j.exceptions import ServiceUnavailable

from graph.engine import connect
from graph.engine.neo4j import Neo4jEngine
from graph.errors import GraphUnavailableError
from music.errors import ConflictError, ValidationError
from server.settings import Settings
from tests.neo4j_fake import FakeDriver, neo4j_error
from tests.support import LiveServer

READ = "MATCH (t:Track {id: $id}) RETURN t.title AS title"
WRITE = "MERGE (t:Track {id: $id}) SET t.title = $title RETURN t.id AS id"


def _engine(driver: FakeDriver, database: str | None = "music") -> Neo4jEngine:
    return Neo4jEngine(driver, database)  # type: ignore[arg-type]


async def test_reads_and_writes_use_managed_transactions_on_the_named_database() -> None:
    driver = FakeDriver(responder=lambda q, p: [{"title": "So What"}] if q == READ else [])
    engine = _engine(driver)
    await engine.write("create", WRITE, {"id": "trk_1", "title": "So What"})
    assert await engine.read("get", READ, {"id": "trk_1"}) == [{"title": "So What"}]
    assert [(c.mode, c.database, c.query) for c in driver.calls] == [
        ("WRITE", "music", WRITE),
        ("READ", "music", READ),
    ]
    assert driver.calls[1].params == {"id": "trk_1"}
    assert all(s["database"] == "music" for s in driver.sessions)


async def test_a_read_after_a_write_carries_the_write_bookmark() -> None:
    driver = FakeDriver()
    engine = _engine(driver)
    await engine.write("create", WRITE, {"id": "trk_1", "title": "x"})
    await engine.read("get", READ, {"id": "trk_1"})
    await engine.write("create", WRITE, {"id": "trk_2", "title": "y"})
    await engine.read("get", READ, {"id": "trk_2"})
    managers = {id(s.get("bookmark_manager")) for s in driver.sessions}
    assert len(managers) == 1 and driver.sessions[0].get("bookmark_manager") is not None
    first, read1, _, read2 = driver.calls
    assert first.bookmarks == frozenset()
    assert read1.bookmarks == {"FB:fake:1"}  # the first write's commit
    assert read2.bookmarks >= {"FB:fake:3"}  # the second write (the read was commit 2)


async def test_connect_passes_the_graph_name_as_the_database() -> None:
    engine = await connect("bolt://127.0.0.1:7", graph_name="catalogue_a")
    try:
        assert isinstance(engine, Neo4jEngine)
        assert engine.database == "catalogue_a"
        assert engine.graph_name == "catalogue_a"
        # Informational notices (e.g. "index already exists") are not requested.
        assert engine._driver._pool.pool_config.notifications_min_severity == "WARNING"  # type: ignore[attr-defined]
    finally:
        await engine.close()


async def test_constraint_violation_is_a_conflict() -> None:
    driver = FakeDriver()
    driver.fail_next(neo4j_error("Neo.ClientError.Schema.ConstraintValidationFailed", "dup"))
    with pytest.raises(ConflictError) as caught:
        await _engine(driver).write("create", WRITE, {"id": "trk_1", "title": "x"})
    assert caught.value.code == "CONFLICT" and "dup" not in caught.value.message


async def test_transient_errors_are_retried_by_the_driver() -> None:
    driver = FakeDriver(responder=lambda q, p: [{"title": "ok"}])
    driver.fail_next(neo4j_error("Neo.TransientError.Transaction.DeadlockDetected", "deadlock"))
    assert await _engine(driver).read("get", READ, {"id": "trk_1"}) == [{"title": "ok"}]
    assert [c.mode for c in driver.calls] == ["READ", "READ"]


async def test_other_server_errors_are_internal_without_driver_text() -> None:
    driver = FakeDriver()
    driver.fail_next(neo4j_error("Neo.ClientError.Statement.SyntaxError", "Invalid input 'X'"))
    with pytest.raises(GraphUnavailableError) as caught:
        await _engine(driver).read("get", READ, {"id": "trk_1"})
    assert caught.value.code == "INTERNAL" and "Invalid" not in caught.value.message


async def test_an_unreachable_server_is_service_unavailable() -> None:
    driver = FakeDriver()
    driver.fail_next(*[ServiceUnavailable("no routing servers")] * 3)
    with pytest.raises(GraphUnavailableError) as caught:
        await _engine(driver).write("create", WRITE, {"id": "trk_1", "title": "x"})
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert len(driver.calls) == 3  # retried, as managed transactions are
    assert not await _engine(FakeDriver(unreachable=True)).ping()


async def test_rest_answers_503_when_neo4j_is_unreachable(settings: Settings) -> None:
    live = LiveServer(_engine(FakeDriver(unreachable=True)), settings)
    await live.start()
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            response = await http.get("/api/v1/tracks")
    finally:
        await live.stop()
    assert response.status_code == 503, response.text
    body: dict[str, Any] = response.json()
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "routing" not in response.text


async def test_nul_text_is_refused_before_the_driver() -> None:
    driver = FakeDriver()
    with pytest.raises(ValidationError):
        await _engine(driver).write("create", WRITE, {"id": "trk_1", "title": "a\x00b"})
    assert driver.calls == []


RANGE = "CREATE INDEX track_x IF NOT EXISTS FOR (n:Track) ON (n.x)"
UNIQUE = "CREATE CONSTRAINT track_x_unique IF NOT EXISTS FOR (n:Track) REQUIRE (n.x) IS UNIQUE"


@pytest.mark.parametrize(
    ("before", "statement", "code"),
    [
        ([RANGE], UNIQUE, "Neo.ClientError.Schema.IndexAlreadyExists"),
        ([UNIQUE], RANGE, "Neo.ClientError.Schema.ConstraintAlreadyExists"),
        (
            [RANGE],
            RANGE.replace(" IF NOT EXISTS", ""),
            "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
        ),
        ([], "DROP INDEX track_x", "Neo.ClientError.Schema.IndexDropFailed"),
        ([UNIQUE], "DROP INDEX track_x_unique", "Neo.ClientError.Schema.IndexDropFailed"),
        ([RANGE], "DROP CONSTRAINT track_x", "Neo.ClientError.Schema.ConstraintDropFailed"),
        ([RANGE, "DROP INDEX track_x IF EXISTS"], UNIQUE, None),
        ([RANGE], RANGE, None),
        ([], "DROP INDEX track_x IF EXISTS", None),
    ],
)
async def test_the_fake_refuses_what_neo4j_5_refuses(
    before: list[str], statement: str, code: str | None
) -> None:
    driver = FakeDriver()
    engine = _engine(driver)
    for query in before:
        await engine._schema([query])
    if code is None:
        await engine._schema([statement])
        return
    with pytest.raises(GraphUnavailableError) as caught:
        await engine._schema([statement])
    assert getattr(caught.value.__cause__, "code", None) == code


async def test_schema_commands_and_data_do_not_share_a_transaction() -> None:
    driver = FakeDriver()
    session = driver.session(database="music")

    async def mixed(tx: Any) -> None:
        await tx.run(WRITE, {"id": "trk_1", "title": "x"})
        await tx.run(RANGE)

    with pytest.raises(Exception, match="schema command"):
        await session.execute_write(mixed)
