"""Closed-loop load generators for 127.0.0.1 and the figures they collect.

- `raw`: asyncio streams, one keep-alive HTTP/1.1 connection per client, requests
  pre-encoded as bytes; it parses only the status line, Content-Length and
  Server-Timing. About 50 µs of client CPU per request (measured: 6% of a core at
  1,300 req/s), so it is not what limits a Python server on the same machine.
- `httpx`: httpx.AsyncClient with one pooled connection per client (the usual Python
  choice, measured beside `raw` to show what it caps at).
- `wrk`: the C load generator, when installed (`apt-get install wrk`); no per-request
  Server-Timing, and latency percentiles as wrk reports them.

Each closed-loop client sends a request, waits for the whole response, and repeats, until
the time or the request budget runs out.
"""

import asyncio
import contextlib
import math
import os
import random
import re
import resource
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
CLIENTS = ("raw", "httpx", "wrk")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """The outcome of one measurement."""

    label: str
    concurrency: int
    elapsed: float
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    graph_ms: list[float] = field(default_factory=list)  # Server-Timing graph;dur
    errors: int = 0
    first_error: str = ""
    client: str = ""  # the load generator
    cpu: dict[str, float] = field(default_factory=dict)  # process -> % of one core
    # Set by generators that report aggregates only (wrk).
    reported: tuple[int, float, float] | None = None  # requests, p50 ms, p99 ms

    @property
    def count(self) -> int:
        return self.reported[0] if self.reported else len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def p50(self) -> float:
        return self.reported[1] if self.reported else percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return self.reported[2] if self.reported else percentile(self.latencies_ms, 99)

    @property
    def server_p50(self) -> float:
        return percentile(self.server_ms, 50)

    @property
    def graph_p50(self) -> float:
        """The median time the server waited on the graph (nan: not reported)."""
        return percentile(self.graph_ms, 50) if self.graph_ms else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class CpuMeter:
    """CPU time of some processes over an interval, as % of one core. A process counts
    with its descendants (the API processes of `serve --workers N` are children of the
    server's), except those measured under a name of their own."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._start: dict[str, float] = {}
        self._wall = 0.0

    @staticmethod
    def _own_seconds(pid: int) -> float:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return math.nan
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(child) for child in text.split()]

    def _seconds(self, pid: int) -> float:
        """CPU seconds of `pid` and its live descendants not measured apart."""
        apart = set(self.pids.values()) - {pid}
        total, todo, seen = 0.0, [pid], set()
        while todo:
            current = todo.pop()
            if current in seen or current in apart:
                continue
            seen.add(current)
            seconds = self._own_seconds(current)
            if current == pid and math.isnan(seconds):
                return math.nan
            total += 0.0 if math.isnan(seconds) else seconds
            todo.extend(self._children(current))
        return total

    @staticmethod
    def _machine() -> float:
        """Busy CPU seconds of the whole machine, all cores."""
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return math.nan
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / _CLOCK_TICKS

    def start(self) -> None:
        self._start = {name: self._seconds(pid) for name, pid in self.pids.items()}
        self._start["machine"] = self._machine()
        self._wall = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """% of one core per process, and "machine" for all processes together."""
        wall = time.perf_counter() - self._wall
        used = {
            name: 100 * (self._seconds(pid) - self._start[name]) / wall
            for name, pid in self.pids.items()
        }
        used["machine"] = 100 * (self._machine() - self._start["machine"]) / wall
        return used


# struct tcp_info (linux/tcp.h): tcpi_data_segs_in is the u32 at byte 152 (Linux 4.6+).
DATA_SEGS_IN = 152


def data_segments_in(sock: socket.socket) -> int:
    """How many TCP segments carrying data `sock` has received, by the kernel's count."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < DATA_SEGS_IN + 4:
        raise RuntimeError("this kernel's TCP_INFO has no tcpi_data_segs_in")
    return int(struct.unpack_from("I", info, DATA_SEGS_IN)[0])


def http_request(port: int, body: bytes, path: str = "/graphql") -> bytes:
    """A complete keep-alive HTTP/1.1 POST of a JSON body."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


_TIMING_RE = re.compile(rb"server-timing:\s*app;dur=([0-9.]+)(?:, graph;dur=([0-9.]+))?")
_LENGTH_RE = re.compile(rb"content-length:\s*(\d+)")


def _check(run: Run, status_ok: bool, head: bytes, body: bytes) -> None:
    """Count a failed response (not 200, or GraphQL errors); keep the first for the report."""
    if status_ok and b'"errors"' not in body:
        return
    run.errors += 1
    if not run.first_error:
        run.first_error = (head.split(b"\r\n", 1)[0] + b" " + body[:300]).decode(errors="replace")


Client = Callable[[int, Callable[[], bool], Run], Awaitable[None]]


async def closed_loop(
    concurrency: int, duration: float, max_requests: int, client: Client, run: Run
) -> None:
    """Run `concurrency` copies of `client`; each calls `more()` before every request,
    which says no once `duration` seconds have passed or `max_requests` were sent.
    Sets `run.elapsed`; a run that outlasts its time by 60 s is cancelled (TimeoutError).
    """
    stop_at = time.perf_counter() + duration
    budget = [max_requests]

    def more() -> bool:
        if budget[0] <= 0 or time.perf_counter() >= stop_at:
            return False
        budget[0] -= 1
        return True

    started = time.perf_counter()
    clients = asyncio.gather(*(client(i, more, run) for i in range(concurrency)))
    await asyncio.wait_for(clients, duration + 60)
    run.elapsed = time.perf_counter() - started


async def run_raw(
    label: str,
    port: int,
    requests: Sequence[bytes],
    concurrency: int,
    duration: float,
    max_requests: int,
    seed: int = 1,
) -> Run:
    """Closed loop over raw asyncio streams; `requests` are complete HTTP requests."""
    run = Run(label, concurrency, 0.0)

    async def client(index: int, more: Callable[[], bool], out: Run) -> None:
        rnd = random.Random(seed * 1000 + index)
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while more():
                request = requests[rnd.randrange(len(requests))]
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                lower = head.lower()
                length = _LENGTH_RE.search(lower)
                if length is None:
                    raise RuntimeError("response without Content-Length")
                body = await reader.readexactly(int(length.group(1)))
                out.latencies_ms.append((time.perf_counter() - sent) * 1000)
                timing = _TIMING_RE.search(lower)
                if timing is not None:
                    out.server_ms.append(float(timing.group(1)))
                    if timing.group(2) is not None:
                        out.graph_ms.append(float(timing.group(2)))
                _check(out, head.startswith(b"HTTP/1.1 200"), head, body)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await closed_loop(concurrency, duration, max_requests, client, run)
    return run


async def run_httpx(
    label: str,
    port: int,
    bodies: Sequence[bytes],
    concurrency: int,
    duration: float,
    max_requests: int,
    seed: int = 1,
) -> Run:
    """Closed loop through one httpx.AsyncClient; `bodies` are JSON request bodies."""
    run = Run(label, concurrency, 0.0)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json"}
    url = f"http://{HOST}:{port}/graphql"
    async with httpx.AsyncClient(limits=limits, timeout=60, trust_env=False) as http:

        async def client(index: int, more: Callable[[], bool], out: Run) -> None:
            rnd = random.Random(seed * 1000 + index)
            while more():
                body = bodies[rnd.randrange(len(bodies))]
                sent = time.perf_counter()
                response = await http.post(url, content=body, headers=headers)
                content = response.content
                out.latencies_ms.append((time.perf_counter() - sent) * 1000)
                timing = _TIMING_RE.search(
                    b"server-timing: " + response.headers.get("server-timing", "").encode()
                )
                if timing is not None:
                    out.server_ms.append(float(timing.group(1)))
                    if timing.group(2) is not None:
                        out.graph_ms.append(float(timing.group(2)))
                status = f"HTTP {response.status_code}".encode()
                _check(out, response.status_code == 200, status, content)

        await closed_loop(concurrency, duration, max_requests, client, run)
    return run


_WRK_SCRIPT = """
bodies = {%s}
local headers = {["Content-Type"] = "application/json"}
math.randomseed(1)
request = function()
  return wrk.format("POST", "/graphql", headers, bodies[math.random(#bodies)])
end
"""
_WRK_LATENCY_RE = re.compile(r"^\s*(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.MULTILINE)
_WRK_REQUESTS_RE = re.compile(r"(\d+) requests in ([0-9.]+)(us|ms|s|m)")
_WRK_ERRORS_RE = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(body: bytes) -> str:
    return '"' + body.decode().replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    label: str, port: int, bodies: Sequence[bytes], concurrency: int, duration: float
) -> Run:
    """One `wrk` run (a single thread: the server needs the other core)."""
    with tempfile.TemporaryDirectory(prefix="apollonia-wrk-") as folder:
        script = Path(folder) / "bodies.lua"
        script.write_text(_WRK_SCRIPT % ", ".join(_lua_string(b) for b in bodies))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        output = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(duration))}s",
                "--latency",
                "-s",
                str(script),
                f"http://{HOST}:{port}/graphql",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        ).stdout
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    latencies = {m[0]: float(m[1]) * _UNIT_MS[m[2]] for m in _WRK_LATENCY_RE.findall(output)}
    done = _WRK_REQUESTS_RE.search(output)
    if done is None or set(latencies) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    elapsed = float(done.group(2)) * _UNIT_MS[done.group(3)] / 1000
    run = Run(label, concurrency, elapsed)
    run.reported = (int(done.group(1)), latencies["50"], latencies["99"])
    errors = _WRK_ERRORS_RE.search(output)
    run.errors = int(errors.group(1)) if errors else 0
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run.cpu["client"] = 100 * used / wall
    return run
