"""A real `apollonia serve` subprocess on 127.0.0.1 for the benchmarks."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from bench._client import HOST
from graph.embedded import DEFAULT_FSYNC, EmbeddedServer, ensure_server

LOG_NAME = "server.log"


class BenchError(Exception):
    """The benchmark could not run (as opposed to: a target was missed)."""


@contextlib.contextmanager
def scratch_database(
    prefix: str, appendfsync: str = DEFAULT_FSYNC
) -> Iterator[tuple[Path, EmbeddedServer]]:
    """An embedded FalkorDB in a new temporary folder; stopped and removed at the end."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    db = ensure_server(data_dir, appendfsync=appendfsync)
    try:
        yield data_dir, db
    finally:
        db.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def in_scratch_folder(prefix: str, run: Callable[[Path], Coroutine[Any, Any, None]]) -> None:
    """`run(folder)` on a new temporary folder, which is removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        asyncio.run(run(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def redis_url(self) -> str:
        return f"unix://{self.data_dir / 'falkordb.sock'}"

    def db_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.data_dir / "falkordb.pid").read_text().strip())
        return None

    def log_tail(self, size: int | None = 3000) -> str:
        with contextlib.suppress(OSError):
            text = (self.data_dir / LOG_NAME).read_text(errors="replace")
            return text if size is None else text[-size:]
        return ""

    def stop(self, keep_database: bool = False) -> None:
        """SIGTERM (uvicorn closes its sockets, `serve` stops the embedded FalkorDB it
        started), then SIGKILL to the process group, then the embedded FalkorDB if it is
        still up, unless `keep_database` (one the bench started itself and measures
        again: stopped and started, it is reloaded, and a reloaded database is faster
        than one as loaded; see `apollonia compact`)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        db = None if keep_database else self.db_pid()
        if db is not None and Path(f"/proc/{db}").exists():
            from graph.embedded import EmbeddedServer

            EmbeddedServer(self.data_dir, self.data_dir / "falkordb.sock", db, True).stop()


def start_server(
    data_dir: Path,
    defaults: Mapping[str, str],
    overrides: Mapping[str, str],
    timeout: float = 120.0,
    ready_path: str = "/health",
) -> ServerProcess:
    """`apollonia serve` on a free port of 127.0.0.1 over `data_dir`, once `ready_path`
    answers 200 (`/health` needs a worker too; `/health/ready` only the graph and Redis).

    Its environment: `defaults`, then the caller's environment, then `overrides`."""
    port = free_port()
    script = Path(sys.executable).with_name("apollonia")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]
    command += ["serve", "--data-dir", str(data_dir), "--host", HOST, "--port", str(port)]
    env = {**defaults, **os.environ, **overrides}
    with (data_dir / LOG_NAME).open("wb") as log:
        # cwd = the data folder, so that no `.env` of the work tree changes the settings;
        # its own session, so that its process group can be killed at the end.
        process = subprocess.Popen(
            command,
            cwd=data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(process, port, data_dir)
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, timeout=2, trust_env=False) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"the server exited at start-up:\n{server.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if http.get(ready_path).status_code == 200:
                    return server
            time.sleep(0.1)
    server.stop()
    raise BenchError(f"the server did not become healthy in {timeout:.0f} s")


def settle_persistence(server: EmbeddedServer, timeout: float = 300.0) -> float:
    """Write now the snapshot that a bulk load has made due, and wait for any background
    save or AOF rewrite to end; the seconds it took. Otherwise the server's save rules
    (`save ... 60 10000`) fork a snapshot of the whole graph a minute into the load,
    that is during the first measurements (at 100k tracks it took half a core)."""
    client = redis.Redis(unix_socket_path=str(server.socket_path), socket_timeout=timeout)
    started = time.monotonic()

    def busy() -> bool:
        info = client.info("persistence")
        return bool(info["rdb_bgsave_in_progress"] or info["aof_rewrite_in_progress"])

    try:
        while busy() and time.monotonic() - started < timeout:
            time.sleep(0.1)
        client.save()  # in the foreground: nothing is left due
        while busy() and time.monotonic() - started < timeout:
            time.sleep(0.1)
    finally:
        client.close()
    return time.monotonic() - started
