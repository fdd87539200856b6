"""`apollonia serve` survives the death of its embedded database (issue 11).

A real `apollonia serve` (API, embedded FalkorDB and a worker) in a temporary data
folder, and a client writing all the while. The database is killed with SIGSEGV, then
with SIGKILL: each time `/health/ready` goes 503, the server is restarted on the same
folder and is ready again within 10 s, every write the API acknowledged is still in the
graph, the restart is counted, a `/ws` subscriber from before gets events again, and
the worker runs an upload's analysis afterwards.
"""

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis
from websockets.asyncio.client import connect

from graph.embedded import PIDFILE_NAME, SOCKET_NAME, ensure_server, process_alive
from graph.engine.falkordb import FalkorDBEngine
from tests import audio_fixtures as af
from tests.support import GraphQLClient, free_port
from tests.test_upload_pipeline import upload, wait_for_job, wav_bytes

BACK_WITHIN = 10.0
REGISTER = """mutation R($input: RegisterInput!) { register(input: $input) { accessToken } }"""
CREATE_ARTIST = "mutation A($name: String!) { createArtist(input: {name: $name}) { id } }"
CREATE_TRACK = "mutation T($title: String!) { createTrack(input: {title: $title}) { id } }"
RESTARTS = "apollonia_graph_restarts_total"


class Serve:
    """`apollonia serve` in a subprocess."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {
            **os.environ,
            "APOLLONIA_ENV": "development",
            # The writer below creates artists as fast as the API takes them.
            "APOLLONIA_RATE_LIMIT_MUTATION": "100000/minute",
            "LOG_LEVEL": "warning",
            "APOLLONIA_WORKER_HEARTBEAT_MS": "3000",
            "APOLLONIA_JOB_MIN_BACKOFF_MS": "200",
        }
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
            env=env,
            cwd=self.data_dir,
        )

    def database_pid(self) -> int:
        """The database's pid from its pid file, which redis-server truncates and then
        writes as it starts: read again for a moment while it is empty (a fresh-clone CI
        run read it in that moment, just after the database was restarted)."""
        deadline = time.monotonic() + 5
        while True:
            text = (self.data_dir / PIDFILE_NAME).read_text().strip()
            if text.isdigit() or time.monotonic() > deadline:
                return int(text)
            time.sleep(0.01)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    data = tmp_path / "data"
    data.mkdir()
    server = Serve(data)
    await server.start()
    yield server
    await server.stop()
    pidfile = data / PIDFILE_NAME
    if pidfile.exists():  # never leave a database behind
        pid = int(pidfile.read_text().strip())
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)


async def _ready(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/health/ready", timeout=3)).status_code == 200
    except httpx.HTTPError:
        return False


async def _wait_ready(http: httpx.AsyncClient, seconds: float) -> float:
    started = time.monotonic()
    while not await _ready(http):
        assert time.monotonic() - started < seconds, f"not ready within {seconds} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def _restarts(http: httpx.AsyncClient) -> float:
    text = (await http.get("/metrics")).text
    line = next(line for line in text.splitlines() if line.startswith(RESTARTS + " "))
    return float(line.split()[1])


class Writer:
    """Creates artists one after another; keeps the ids the API acknowledged."""

    def __init__(self, gql: GraphQLClient) -> None:
        self.gql = gql
        self.acknowledged: list[str] = []
        self.refused = 0
        self.unexpected: list[str] = []
        self.running = True

    async def run(self) -> None:
        i = 0
        while self.running:
            i += 1
            try:
                body = await self.gql.raw(CREATE_ARTIST, {"name": f"artist {i}"})
            except (httpx.HTTPError, AssertionError):
                self.refused += 1
                await asyncio.sleep(0.02)
                continue
            if body.get("errors"):
                # Refused while the database was down: a stable code, no internal text.
                code = body["errors"][0]["extensions"]["code"]
                if code not in ("INTERNAL", "SERVICE_UNAVAILABLE"):
                    self.unexpected.append(code)
                self.refused += 1
                await asyncio.sleep(0.02)
            else:
                self.acknowledged.append(body["data"]["createArtist"]["id"])

    async def wait_for_more(self, count: int, within: float = 60.0) -> None:
        target = len(self.acknowledged) + count
        deadline = time.monotonic() + within
        while len(self.acknowledged) < target:
            assert not self.unexpected, f"writes refused with {sorted(set(self.unexpected))}"
            assert time.monotonic() < deadline, f"no {count} more writes in {within:.0f} s"
            await asyncio.sleep(0.02)


async def test_serve_restarts_a_killed_database_and_loses_no_acknowledged_write(
    serve: Serve, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=serve.url, timeout=30) as http:
        await _wait_ready(http, 90)
        assert await _restarts(http) == 0
        registered = await GraphQLClient(http).query(
            REGISTER,
            {"input": {"email": "s@example.com", "username": "survivor", "password": "p" * 12}},
        )
        token = registered["register"]["accessToken"]
        gql = GraphQLClient(http, token)
        # A /ws subscriber from before the kills, to see that events come back too.
        socket = await connect(f"ws://127.0.0.1:{serve.port}/ws?token={token}")
        await socket.send('{"type": "subscribe", "event_type": "media.added"}')
        assert "authenticated" in str(await socket.recv())
        assert "subscription_confirmed" in str(await socket.recv())
        writer = Writer(gql)
        writing = asyncio.create_task(writer.run())
        try:
            for number, sig in enumerate((signal.SIGSEGV, signal.SIGKILL), start=1):
                await writer.wait_for_more(20)
                before = serve.database_pid()
                os.kill(before, sig)
                killed = time.monotonic()
                # Down: readiness says so.
                seen_down = False
                while time.monotonic() - killed < BACK_WITHIN:
                    if not await _ready(http):
                        seen_down = True
                        break
                    await asyncio.sleep(0.01)
                assert seen_down, f"/health/ready stayed 200 after {sig.name}"
                back = await _wait_ready(http, BACK_WITHIN - (time.monotonic() - killed))
                print(f"{sig.name}: ready again {time.monotonic() - killed:.2f} s after the kill")
                assert serve.database_pid() != before
                assert process_alive(serve.database_pid())
                assert back < BACK_WITHIN
                # The supervisor counts a restart once the new server is up, which can be a
                # moment after readiness has seen it.
                counted = time.monotonic() + 2.0
                while await _restarts(http) < number and time.monotonic() < counted:
                    await asyncio.sleep(0.05)
                assert await _restarts(http) == number
                await writer.wait_for_more(20)
        finally:
            writer.running = False
            await writing

        # The database `serve` restarted runs with the durable default (with `everysec`
        # a CI run lost one acknowledged write here: tests/test_durability.py).
        probe = redis.Redis(unix_socket_path=str(serve.data_dir / SOCKET_NAME))
        assert probe.config_get("appendfsync") == {"appendfsync": "always"}
        probe.close()
        # Every acknowledged write is in the graph.
        engine = FalkorDBEngine.from_socket(serve.data_dir / SOCKET_NAME, "apollonia")
        try:
            rows = await engine.read("check", "MATCH (a:Artist) RETURN a.id AS id")
        finally:
            await engine.close()
        missing = set(writer.acknowledged) - {r["id"] for r in rows}
        assert not missing, f"{len(missing)} acknowledged writes lost"
        print(f"{len(writer.acknowledged)} writes acknowledged, {writer.refused} refused")
        assert not writer.unexpected, f"writes refused with {sorted(set(writer.unexpected))}"

        # Events reach the subscriber that was there before the kills.
        created = await gql.query(CREATE_TRACK, {"title": "after the restarts"})
        event = await asyncio.wait_for(socket.recv(), 10)
        assert created["createTrack"]["id"] in str(event)
        await socket.close()

        # The worker beside the server still runs jobs.
        content = wav_bytes(tmp_path, af.click_track(100, seconds=3), "after.wav")
        body = await upload(gql, content, "after.wav")
        assert "errors" not in body, body
        job = await wait_for_job(gql, body["data"]["uploadTrack"]["job"]["id"], seconds=120)
        assert job["status"] == "completed", job


async def test_serve_watches_a_database_it_found_running(tmp_path: Path) -> None:
    """A database another process started (here this test) is found by `serve`, left
    running when `serve` stops, and restarted when it dies; the database `serve` (or its
    worker) restarted is its own, stopped with it."""
    data = tmp_path / "data"
    found = ensure_server(data)
    server = Serve(data)
    try:
        for _ in range(2):
            await server.start()
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                await _wait_ready(http, 90)
            assert server.database_pid() == found.pid
            await server.stop()
            assert process_alive(found.pid)  # its starter still runs: not this serve's to stop
        await server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            await _wait_ready(http, 90)
            os.kill(found.pid, signal.SIGKILL)
            await asyncio.to_thread(os.waitpid, found.pid, 0)  # this test's child
            killed = time.monotonic()
            while server.database_pid() == found.pid or not await _ready(http):
                assert time.monotonic() - killed < BACK_WITHIN, "not restarted in time"
                await asyncio.sleep(0.05)
            counted = time.monotonic() + 2.0
            while await _restarts(http) < 1 and time.monotonic() < counted:
                await asyncio.sleep(0.05)
            assert await _restarts(http) == 1
        restarted = server.database_pid()
        await server.stop()
        assert not process_alive(restarted)
    finally:
        await server.stop()
        for pid in (found.pid, *_pids(data)):
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_serve_adopts_a_database_whose_starter_is_gone(tmp_path: Path) -> None:
    """A database left running by a process that has ended (a `serve` that was killed)
    is this `serve`'s once found: it stops it with itself."""
    data = tmp_path / "data"
    data.mkdir()
    started = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        f"from graph.embedded import ensure_server; ensure_server({str(data)!r})",
        cwd=Path(__file__).parent.parent,
    )
    assert await asyncio.wait_for(started.wait(), 60) == 0
    [left] = _pids(data)
    server = Serve(data)
    try:
        await server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            await _wait_ready(http, 90)
        assert server.database_pid() == left
        await server.stop()
        assert not process_alive(left)
    finally:
        await server.stop()
        if process_alive(left):
            os.kill(left, signal.SIGKILL)


def _pids(data: Path) -> list[int]:
    pidfile = data / PIDFILE_NAME
    return [int(pidfile.read_text().strip())] if pidfile.exists() else []
