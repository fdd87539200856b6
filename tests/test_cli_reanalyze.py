"""`apollonia reanalyze`: every catalogued file analysed again by the worker, with a
progress bar, and the similarity graph rebuilt after it."""

import asyncio
from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.test_cli import _apollonia


async def _until_analysed(engine: GraphEngine, count: int) -> None:
    query = "MATCH (t:Track) WHERE t.analysis_status = 'ANALYZED' RETURN count(t) AS n"
    for _ in range(600):
        if (await engine.read("n", query))[0]["n"] == count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the scan's analysis did not finish")


async def test_reanalyze_redoes_every_track_then_rebuilds_similarity(
    falkordb_server: EmbeddedServer,
    engine: GraphEngine,
    worker_settings: Settings,
    worker: Any,
    tmp_path: Path,
) -> None:
    graph = worker_settings.graph_name
    library = Path(worker_settings.scan_roots[0])
    af.encode(library / "one.m4a", af.mixture(100, "C", "major", 6, 44100), 44100)
    af.encode(library / "two.ogg", af.mixture(128, "A", "minor", 6, 44100), 44100)
    code, out = await _apollonia(falkordb_server, graph, tmp_path, "scan", str(library))
    assert code == 0, out
    await _until_analysed(engine, 2)
    await engine.write("v", "MATCH (t:Track) SET t.af_tempo = 1.0 RETURN count(t) AS n")

    code, out = await _apollonia(falkordb_server, graph, tmp_path, "reanalyze")
    assert code == 0, out
    assert "2 tracks, 2 analysed, 0 failed; similarity rebuilt: True" in out, out
    assert "2/2" in out  # the progress bar
    jobs = await engine.read(
        "j", "MATCH (j:Job) RETURN j.kind AS kind, j.status AS s, count(*) AS n ORDER BY kind"
    )
    assert jobs == [
        {"kind": "analyze", "s": "completed", "n": 4},
        {"kind": "rebuild_similarity", "s": "completed", "n": 1},
    ]
    tempos = await engine.read("t", "MATCH (t:Track) RETURN t.af_tempo AS tempo ORDER BY tempo")
    assert [round(r["tempo"]) for r in tempos] == [100, 128]
