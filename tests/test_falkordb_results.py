"""FalkorDBEngine.read and write parse FalkorDB's compact result set themselves
(falkordb's parser awaits a coroutine per cell): rows must be exactly what falkordb's
own parser reads, for every kind of value, nodes, edges, paths and temporal values
included (those go through falkordb's parser)."""

import uuid
from typing import Any

from graph.embedded import EmbeddedServer
from graph.engine.falkordb import FalkorDBEngine

SCALARS = """
RETURN null AS nothing, 'text' AS text, '' AS empty, 'naïve ☃ 𝄞' AS unicode,
  42 AS int, -9007199254740993 AS big, 3.25 AS double, 1e-300 AS tiny,
  true AS yes, false AS no, [] AS empty_list, [1, 'a', null, [2.5, false]] AS list,
  {} AS empty_map, {a: 1, b: {c: [1, {d: 'x'}]}, e: null} AS map,
  [{k: 'v'}, {k: ['w']}] AS maps, $p AS param, $m AS param_map
"""
GRAPH_VALUES = """
MATCH p = (a:R {k: 1})-[e:TO]->(b:R)
RETURN a, e, p, b {.k, .v} AS projected, point({latitude: 1.5, longitude: 2.5}) AS at,
  vecf32([0.5, 1.0]) AS vector, localdatetime('2026-12-03T10:11:12') AS at_time
"""


async def _theirs(engine: FalkorDBEngine, query: str, params: dict[str, Any]) -> list[Any]:
    result = await engine._graph.ro_query(query, params)
    names = [column[1] for column in result.header]
    return [dict(zip(names, record, strict=True)) for record in result.result_set]


async def test_read_rows_are_falkordbs_own(falkordb_server: EmbeddedServer) -> None:
    engine = FalkorDBEngine.from_socket(falkordb_server.socket_path, f"r_{uuid.uuid4().hex}")
    try:
        await engine.write("test", "CREATE (:R {k: 1, v: 'one'})-[:TO {w: 0.5}]->(:R {k: 2})")
        params = {"p": ["x", 1, 2.5, True, None], "m": {"nested": {"list": [1, "two"]}}}
        ours = await engine.read("test", SCALARS, params)
        assert ours == await _theirs(engine, SCALARS, params)
        row = ours[0]
        assert row["big"] == -9007199254740993 and isinstance(row["big"], int)
        assert row["map"] == {"a": 1, "b": {"c": [1, {"d": "x"}]}, "e": None}
        assert row["unicode"] == "naïve ☃ 𝄞" and row["yes"] is True and row["no"] is False
        assert row["param_map"] == {"nested": {"list": [1, "two"]}}

        mixed = await engine.read("test", GRAPH_VALUES)
        theirs = await _theirs(engine, GRAPH_VALUES, {})
        assert len(mixed) == 1
        assert mixed[0].keys() == theirs[0].keys()
        for name in ("projected", "at", "vector", "at_time"):
            assert mixed[0][name] == theirs[0][name], name
        # Nodes, edges and paths: falkordb's objects, equal by content.
        for name in ("a", "e", "p"):
            assert type(mixed[0][name]) is type(theirs[0][name]), name
            assert str(mixed[0][name]) == str(theirs[0][name]), name
        assert mixed[0]["a"].properties == {"k": 1, "v": "one"}

        assert await engine.read("test", "MATCH (n:Nothing) RETURN n") == []
        # Writes too (an idempotent one, run both ways).
        update = "MATCH (a:R {k: 1}) SET a.w = 2 RETURN a.k AS k, a {.k, .w} AS m, [a.w] AS l"
        written = await engine.write("test", update)
        theirs_written = await engine._graph.query(update)
        names = [column[1] for column in theirs_written.header]
        assert written == [dict(zip(names, r, strict=True)) for r in theirs_written.result_set]
        assert written == [{"k": 1, "m": {"k": 1, "w": 2}, "l": [2]}]
    finally:
        await engine.write("test", "MATCH (n) DETACH DELETE n")
        await engine.close()
