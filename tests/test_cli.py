"""The `apollonia` command against the session's embedded server."""

import asyncio
import os
import sys
from pathlib import Path

from graph.embedded import EmbeddedServer
from graph.engine.falkordb import FalkorDBEngine
from tests.support import TEST_JWT_SECRET


async def _apollonia(server: EmbeddedServer, graph: str, tmp: Path, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "GRAPH_URL": f"falkordb+unix://{server.socket_path}",
        "GRAPH_NAME": graph,
        "REDIS_URL": server.redis_url,
        "APOLLONIA_JWT_SECRET": TEST_JWT_SECRET,
        "APOLLONIA_ADMIN_PASSWORD": "a long admin password",
        "APOLLONIA_DATA_DIR": str(tmp),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *args,
        env=env,
        cwd=tmp,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


async def test_create_admin_makes_an_admin_who_can_sign_in(
    falkordb_server: EmbeddedServer, tmp_path: Path
) -> None:
    graph = f"cli_{tmp_path.name}"
    code, out = await _apollonia(
        falkordb_server,
        graph,
        tmp_path,
        "create-admin",
        "--email",
        "Root@Example.com",
        "--username",
        "root",
    )
    assert code == 0, out
    assert "admin root created" in out
    engine = FalkorDBEngine.from_socket(falkordb_server.socket_path, graph)
    try:
        rows = await engine.read(
            "t", "MATCH (u:User) RETURN u.email AS email, u.role AS role, u.password_hash AS h"
        )
        assert [(r["email"], r["role"]) for r in rows] == [("root@example.com", "admin")]
        assert rows[0]["h"].startswith("$argon2id$")
        again, out = await _apollonia(
            falkordb_server,
            graph,
            tmp_path,
            "create-admin",
            "--email",
            "root@example.com",
            "--username",
            "other",
        )
        assert again == 1 and "already registered" in out
        code, out = await _apollonia(falkordb_server, graph, tmp_path, "demo")
        assert code == 0 and "46 tracks added, 46 queued for analysis" in out, out
        code, out = await _apollonia(falkordb_server, graph, tmp_path, "demo")
        assert code == 0 and "already loaded" in out, out
        code, out = await _apollonia(falkordb_server, graph, tmp_path, "migrate")
        assert code == 0 and "migrations applied" in out, out
    finally:
        await engine.delete_graph()
        await engine.close()


async def test_scan_command_catalogues_a_folder_and_queues_analysis(
    falkordb_server: EmbeddedServer, tmp_path: Path
) -> None:
    from tests import audio_fixtures as af

    graph = f"cli_{tmp_path.name}"
    library = tmp_path / "music"
    (library / "a").mkdir(parents=True)
    af.write(library / "a" / "one.flac", af.click_track(100, seconds=4), 22050)
    af.write(library / "two.wav", af.click_track(120, seconds=4), 22050)
    engine = FalkorDBEngine.from_socket(falkordb_server.socket_path, graph)
    try:
        code, out = await _apollonia(falkordb_server, graph, tmp_path, "scan", str(library))
        assert code == 0, out
        assert "2 added" in out and "2/2" in out  # the summary and the progress bar
        rows = await engine.read(
            "t", "MATCH (t:Track) RETURN t.title AS title, t.analysis_status AS s ORDER BY title"
        )
        assert rows == [{"title": "one", "s": "QUEUED"}, {"title": "two", "s": "QUEUED"}]
        jobs = await engine.read("j", "MATCH (j:Job) RETURN j.kind AS kind, j.status AS s")
        assert jobs == [{"kind": "analyze", "s": "queued"}] * 2
        again, out = await _apollonia(falkordb_server, graph, tmp_path, "scan", str(library))
        assert again == 0 and "0 added" in out and "2 unchanged" in out
        refused, out = await _apollonia(
            falkordb_server, graph, tmp_path, "scan", str(tmp_path / "nowhere")
        )
        assert refused == 1 and "PATH_NOT_FOUND" in out
    finally:
        await engine.delete_graph()
        await engine.close()
