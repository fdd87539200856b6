"""Versioned migrations: a database at an earlier schema version reaches the current one,
on FalkorDB for real and on Neo4j through the statements it would be sent (checked by
the fake driver's table of what Neo4j 5 refuses)."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from neo4j.exceptions import ClientError

from graph import catalog_writes
from graph.embedded import EmbeddedServer
from graph.engine.falkordb import FalkorDBEngine
from graph.engine.neo4j import Neo4jEngine
from graph.migrations import MIGRATIONS, SCHEMA, SCHEMA_VERSION, migrate, schema_version
from graph.queries.dialect import NEO4J, neo4j_name
from music.errors import ConflictError
from tests.neo4j_fake import FakeDriver

CONSTRAINTS = "CALL db.constraints() YIELD label, properties RETURN label, properties"
DUPLICATE_VERSION = "CREATE (:SchemaVersion {id: 'apollonia', version: $version})"
COUNT_VERSIONS = "MATCH (m:SchemaVersion) RETURN count(m) AS n"
SET_HASH = "MATCH (t:Track {id: $id}) SET t.content_hash = $hash"


class VersionNode:
    """Answers the two SchemaVersion queries for the fake driver."""

    def __init__(self) -> None:
        self.version: int | None = None

    def __call__(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        if query.startswith("MERGE (m:SchemaVersion"):
            self.version = params["version"]
            return [{"version": self.version}]
        if query.startswith("MATCH (m:SchemaVersion"):
            return [{"version": self.version}]
        return []


def _current_neo4j_names() -> set[str]:
    return {name for spec in SCHEMA if (name := neo4j_name(spec)) is not None}


@pytest.fixture
async def falkor(falkordb_server: EmbeddedServer) -> AsyncIterator[FalkorDBEngine]:
    engine = FalkorDBEngine.from_socket(falkordb_server.socket_path, f"t_{uuid.uuid4().hex}")
    yield engine
    await engine.delete_graph()
    await engine.close()


async def _unique(engine: FalkorDBEngine) -> set[tuple[str, str]]:
    rows = await engine.read("test", CONSTRAINTS)
    return {(r["label"], ",".join(r["properties"])) for r in rows}


async def test_version_4_upgrades_on_falkordb(falkor: FalkorDBEngine) -> None:
    await migrate(falkor, target=4)
    assert await schema_version(falkor) == 4
    assert ("Track", "content_hash") not in await _unique(falkor)
    await migrate(falkor)
    assert await schema_version(falkor) == SCHEMA_VERSION
    assert {("Track", "content_hash"), ("Track", "file_path"), ("SchemaVersion", "id")} <= (
        await _unique(falkor)
    )
    a, b = await catalog_writes.create_tracks(falkor, [{"title": "A"}, {"title": "B"}])
    await falkor.write("test", SET_HASH, {"id": a["id"], "hash": "f" * 64})
    with pytest.raises(ConflictError):
        await falkor.write("test", SET_HASH, {"id": b["id"], "hash": "f" * 64})


async def test_duplicate_version_nodes_are_merged_on_falkordb(falkor: FalkorDBEngine) -> None:
    await migrate(falkor, target=5)
    await falkor.write("test", DUPLICATE_VERSION, {"version": 5})
    assert (await falkor.read("test", COUNT_VERSIONS))[0]["n"] == 2
    assert await schema_version(falkor) == 5
    await migrate(falkor)
    assert (await falkor.read("test", COUNT_VERSIONS))[0]["n"] == 1
    assert await schema_version(falkor) == SCHEMA_VERSION
    await migrate(falkor)  # nothing left to do, nothing refused
    assert (await falkor.read("test", COUNT_VERSIONS))[0]["n"] == 1


@pytest.mark.parametrize("earlier", [m.version for m in MIGRATIONS[:-1]])
async def test_every_earlier_version_upgrades_on_neo4j(earlier: int) -> None:
    driver = FakeDriver(responder=VersionNode())
    engine = Neo4jEngine(driver, "music")  # type: ignore[arg-type]
    await migrate(engine, target=earlier)
    await migrate(engine)
    assert driver.schema.names() == _current_neo4j_names()
    assert {c.mode for c in driver.calls} <= {"READ", "WRITE"}  # no auto-commit
    assert {c.database for c in driver.calls} == {"music"}
    again = len(driver.calls)
    await migrate(engine)  # current: only the version read and the index wait
    assert len(driver.calls) == again + 2


async def test_a_new_neo4j_database_gets_the_current_schema() -> None:
    driver = FakeDriver(responder=VersionNode())
    await migrate(Neo4jEngine(driver, "music"))  # type: ignore[arg-type]
    assert driver.schema.names() == _current_neo4j_names()
    fulltext = [c.query for c in driver.calls if "FULLTEXT" in c.query]
    assert fulltext and "`fulltext.analyzer`: 'standard-no-stop-words'" in fulltext[0]


async def test_neo4j_refuses_a_constraint_over_an_index_without_the_drop_step() -> None:
    """What start-up did before versioned steps: ensure every current object on a
    database at version 4. Neo4j 5 refuses it; the table in the fake says so."""
    driver = FakeDriver(responder=VersionNode())
    engine = Neo4jEngine(driver, "music")  # type: ignore[arg-type]
    await migrate(engine, target=4)
    with pytest.raises(ClientError) as caught:
        for spec in SCHEMA:
            for statement in NEO4J.ddl(spec):
                driver.schema.apply(statement)
    assert caught.value.code == "Neo.ClientError.Schema.IndexAlreadyExists"


async def test_account_tokens_are_found_by_an_indexed_hash(falkor: FalkorDBEngine) -> None:
    await migrate(falkor, target=7)
    await migrate(falkor)
    assert await schema_version(falkor) == SCHEMA_VERSION >= 8
    rows = await falkor.read("test", "CALL db.indexes() YIELD label, properties")
    assert any(r["label"] == "AccountToken" and "hash" in r["properties"] for r in rows), rows
    # The lookup of a mailed token reads the index, not every token.
    plan = await falkor._db.select_graph(falkor.graph_name).explain(
        "MATCH (t:AccountToken {hash: $hash}) RETURN t", {"hash": "x"}
    )
    assert "Index Scan" in str(plan), str(plan)
