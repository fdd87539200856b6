"""The embedded FalkorDB: shared by processes through its data folder, durable on a crash."""

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
import redis

from graph import catalog, catalog_writes
from graph.embedded import Supervisor, ensure_server, process_alive
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate

COUNT_IN_OTHER_PROCESS = """
import asyncio, sys
from graph.embedded import ensure_server
from graph.engine.falkordb import FalkorDBEngine
from graph import catalog
from graph.queries.catalog import TrackFilter

async def main() -> None:
    server = ensure_server(sys.argv[1])
    engine = FalkorDBEngine.from_socket(server.socket_path, "shared")
    print(server.started_here, await catalog.tracks_count(engine, TrackFilter()))
    await engine.close()

asyncio.run(main())
"""


async def test_a_second_process_shares_the_running_server(tmp_path: Path) -> None:
    server = ensure_server(tmp_path)
    try:
        engine = FalkorDBEngine.from_socket(server.socket_path, "shared")
        await migrate(engine)
        await catalog_writes.create_tracks(engine, [{"title": f"t{i}"} for i in range(7)])
        await engine.close()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            COUNT_IN_OTHER_PROCESS,
            str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0
        assert out.decode().split() == ["False", "7"]
        assert process_alive(server.pid)
    finally:
        server.stop()
    assert not process_alive(server.pid)


async def test_acknowledged_writes_survive_a_killed_server(tmp_path: Path) -> None:
    server = ensure_server(tmp_path, appendfsync="always")
    engine = FalkorDBEngine.from_socket(server.socket_path, "durable")
    await migrate(engine)
    rows = await catalog_writes.create_tracks(
        engine, [{"title": f"t{i}", "artist_names": ["A"]} for i in range(600)]
    )
    await engine.close()
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while process_alive(server.pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not process_alive(server.pid)

    again = ensure_server(tmp_path)
    try:
        assert again.started_here and again.pid != server.pid
        engine = FalkorDBEngine.from_socket(again.socket_path, "durable")
        found = await catalog.tracks_by_id(engine, [rows[0]["id"], rows[-1]["id"]])
        assert [t["title"] for t in found if t] == ["t0", "t599"]
        artists = await catalog.artists_page(engine, None, None, 10)
        assert [a["name"] for a in artists[0]] == ["A"]
        await engine.close()
    finally:
        again.stop()


DUMP = (
    "MATCH (t:Track) OPTIONAL MATCH (t)-[:BY]->(a:Artist) "
    "WITH t, collect(a.name) AS artists "
    "RETURN t.id AS id, properties(t) AS props, artists ORDER BY id"
)


async def _compact_cli(data_dir: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "GRAPH_NAME")}
    env["GRAPH_URL"] = f"falkordb-embedded://{data_dir}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "compact",
        "--data-dir",
        str(data_dir),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


async def test_compact_reloads_the_running_server_and_keeps_every_write(tmp_path: Path) -> None:
    code, out = await _compact_cli(tmp_path)
    assert code == 0 and "is not running" in out, out
    server = ensure_server(tmp_path)
    try:
        engine = FalkorDBEngine.from_socket(server.socket_path, "apollonia")
        await migrate(engine)
        await catalog_writes.create_tracks(
            engine, [{"title": f"t{i}", "artist_names": [f"A{i % 3}"]} for i in range(300)]
        )
        # A property added to every track after the import: the writes that scatter them.
        await engine.write("t", "MATCH (t:Track) SET t.play_count_hint = size(t.title)")
        before = await engine.read("t", DUMP)
        code, out = await _compact_cli(tmp_path)
        assert code == 0, out
        assert out.startswith("compacted in "), out
        # The same process, the same data, and it takes writes again.
        assert process_alive(server.pid)
        assert await engine.read("t", DUMP) == before
        await catalog_writes.create_tracks(engine, [{"title": "after"}])
        assert len(await engine.read("t", DUMP)) == 301
        await engine.close()
    finally:
        server.stop()


START_IN_OTHER_PROCESS = """
import sys
from graph.embedded import ensure_server
server = ensure_server(sys.argv[1])
print(server.pid, server.started_here)
"""


async def test_processes_starting_at_once_share_one_server(tmp_path: Path) -> None:
    """Four processes look for the folder's server at the same moment: one starts it,
    the others find it (a lock on the folder), so there is one server on its files."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            START_IN_OTHER_PROCESS,
            str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 120)
    answers = [out.decode().split() for out, _ in outs]
    try:
        assert all(p.returncode == 0 for p in processes)
        assert len({pid for pid, _ in answers}) == 1
        assert sorted(started for _, started in answers) == ["False", "False", "False", "True"]
        assert process_alive(int(answers[0][0]))
    finally:
        for pid in {int(pid) for pid, _ in answers}:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_one_supervisor_watches_a_folder(tmp_path: Path) -> None:
    server = ensure_server(tmp_path)
    first = Supervisor(server).start()
    second = Supervisor(server).start()
    try:
        assert first.watching and not second.watching
        second.stop()
        first.stop()
        # Released: the next process to serve the folder watches it.
        third = Supervisor(server).start()
        assert third.watching
        third.stop()
    finally:
        server.stop()


def test_a_stop_sends_shutdown_once_and_keeps_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server closing the connection is SHUTDOWN's success. redis-py's default retry
    policy took it for a failure and sent the command again three times, with backoff,
    into a socket no longer served: every stop of `serve` took 5 s more."""
    server = ensure_server(tmp_path / "db")
    redis.Redis(unix_socket_path=str(server.socket_path)).set("kept", "yes")
    backoffs: list[float] = []
    monkeypatch.setattr(redis.retry, "sleep", backoffs.append)  # redis-py's backoff
    server.stop()
    assert not process_alive(server.pid)
    assert backoffs == []
    monkeypatch.undo()
    again = ensure_server(tmp_path / "db")
    try:
        assert redis.Redis(unix_socket_path=str(again.socket_path)).get("kept") == b"yes"
    finally:
        again.stop()
