"""The newcomer's path, end to end: `apollonia serve` on a fresh data folder, then
`apollonia demo`; /explore in Debian's chromium, without signing in, shows a track's
neighbourhood with similarity edges within 60 s of the demo starting, the track
plays (the <audio> element reaches `canplay`), and so do a sonic path's tracks, in order.

Real processes all the way: the embedded FalkorDB and Redis, the worker that
`serve` starts (it analyses the demo's synthesised audio), and the browser.
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from graph.embedded import PIDFILE_NAME, process_alive
from tests.support import free_port
from tests.test_explore_page import ARTIFACTS, BROWSER_DIR, ROOT, _install_browser

DEADLINE_SECONDS = 60


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPH_", "NEO4J_"))}
    env.pop("REDIS_URL", None)
    return {**env, "APOLLONIA_ENV": "development", "APOLLONIA_DATA_DIR": str(data_dir)}


def _serve(port: int, env: dict[str, str], log: Path) -> "subprocess.Popen[bytes]":
    """`apollonia serve` (the embedded database, the API and a worker), logging to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its worker and database with it: see the end
        )


async def _wait_ready(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/health/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.5)
    raise AssertionError("apollonia serve did not become ready")


async def _wait_worker(url: str, seconds: float) -> None:
    """Until the worker `serve` started beats (after its numba warm-up, which a fresh
    install compiles once): a user runs the demo in a second terminal, after that."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                body = (await http.get("/health")).json()
                if body["components"]["worker"]["status"] == "up":
                    return
            await asyncio.sleep(0.5)
    raise AssertionError("the worker beside apollonia serve did not start")


async def test_demo_sounds_and_explore_shows_edges_without_sign_in(tmp_path: Path) -> None:
    await asyncio.to_thread(_install_browser)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(tmp_path / "data")
    ARTIFACTS.mkdir(exist_ok=True)
    serve = _serve(port, env, ARTIFACTS / "explore-demo-serve.log")
    try:
        await _wait_ready(url, 120)
        await _wait_worker(url, 180)
        demo_started = time.time()
        demo = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.cli",
            "demo",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(demo.communicate(), 60)
        assert demo.returncode == 0, out.decode()
        assert "46 tracks added, 46 queued for analysis" in out.decode()

        driver = await asyncio.create_subprocess_exec(
            "node",
            str(BROWSER_DIR / "explore_demo.mjs"),
            cwd=BROWSER_DIR,
            env={
                **os.environ,
                "BASE_URL": url,
                "QUERY": "So What",
                "DEADLINE_MS": str(int((demo_started + DEADLINE_SECONDS) * 1000)),
                "SCREENSHOT": str(ARTIFACTS / "explore-demo.png"),
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(driver.communicate(), 120)
        lines = [x for x in stdout.decode().splitlines() if x.startswith("RESULT ")]
        assert lines, stderr.decode()
        result = json.loads(lines[-1][len("RESULT ") :])
        assert "error" not in result, result["error"]
        assert result["loginHidden"], "the page asked for a sign-in"
        assert result["edges"] > 0 and result["nodes"] > 1, result
        seconds = result["graphAt"] / 1000 - demo_started
        assert seconds <= DEADLINE_SECONDS, f"edges after {seconds:.1f} s"
        assert result["playing"] == result["centre"]
        assert result["steps"] == ["anonymous", "graph", "canplay", "path"]
        assert result["path"][0] == result["centre"] and len(result["path"]) >= 2
        assert result["consoleErrors"] == []
        print(f"edges on /explore {seconds:.1f} s after `apollonia demo` started")
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(serve.wait, 30)
        except subprocess.TimeoutExpired:
            serve.kill()
            await asyncio.to_thread(serve.wait)
        # A `serve` killed before its shutdown ran left its worker and embedded database
        # running after the suite (once, in a full run): whatever is left of its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(serve.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, ValueError):  # and the database, in its own
            pid = int((tmp_path / "data" / PIDFILE_NAME).read_text().strip())
            if process_alive(pid):
                os.kill(pid, signal.SIGTERM)
