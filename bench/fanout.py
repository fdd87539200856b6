"""Event fan-out: N WebSocket subscribers on one server, and what one event costs to reach them.

Run from the repository root (each run takes under 3 minutes, `--time-limit`):

    .venv/bin/python bench/fanout.py                                  # 1,000 over /ws
    .venv/bin/python bench/fanout.py --protocol graphql-transport-ws  # 1,000 over GraphQL
    .venv/bin/python bench/fanout.py --subscribers 10000              # the 10k target
    .venv/bin/python bench/fanout.py --subscribers 10000 --processes 1   # one client process
    .venv/bin/python bench/fanout.py --subscribers 20000              # past the fd limit
    .venv/bin/python bench/fanout.py --subscribers 10000 --server-gc-threshold 700,10,1000

What it does, only on 127.0.0.1 and bounded in count and time:

1. Raises this process's RLIMIT_NOFILE to its hard limit (`--nofile` asks for more, which
   only a privileged process gets), then starts the real server as a subprocess, which
   inherits it: `apollonia serve --data-dir D --port P` on a fresh temporary data folder
   (LOG_LEVEL=warning, APOLLONIA_ACCESS_TOKEN_TTL=3600, rate limits out of reach; the
   caller's environment wins).
   `apollonia serve` starts the embedded FalkorDB, which is also the event bus (Redis).
   The server imports bench/_fanout_gcprobe.py as its sitecustomize (through PYTHONPATH;
   no product file changes), which logs every garbage collection's pause (and applies
   `--server-gc-threshold`); `--no-gc-probe` leaves the server alone.
2. Registers one user over HTTP (`register`) and uses its access token for every socket.
3. Opens a probe socket on /ws that sends `ping` every 10 ms and times the `pong`: the
   server's event-loop lag. Reads the server's VmRSS (/proc/<pid>/status).
4. Opens `--subscribers` sockets from `--processes` client processes (default: one per
   2,500 sockets, at most 4; bench/_fanout_client.py, a lean asyncio WebSocket client),
   at most `--connect-concurrency` handshakes at a time, each subscribed to `media.added`:
   - `--protocol ws`: /ws?token=T, {"type": "subscribe", "event_type": "media.added"};
   - `--protocol graphql-transport-ws`: /graphql, connection_init with
     {"authorization": "Bearer T"}, `subscription { mediaAdded { timestamp track { id
     title } } }`.
   Then publishes warm-up events until every socket has received one (its subscription is
   live), and reads the server's VmRSS again: (after - before) / sockets = RSS per
   connection.
5. Publishes from this process through `events.Events(redis_url)` (as a worker
   process would), each event carrying its publish time `time.time_ns()` (in the event
   data, and as "<seq> <sent>" in the track title, which the GraphQL subscription
   returns); each client records receipt - sent. Two phases:
   - paced: `--events` events, each published once the previous one reached every
     subscriber: latency to the last subscriber (p50/p99 over events) and, per event,
     p50/p99 across subscribers (their medians over events);
   - burst: `--burst` events published back to back: deliveries per second (all deliveries
     / from the first publish to the last receipt) and the same latencies.
   For each phase: CPU of the server, the embedded DB, the client processes, this process
   and the rest of the machine (% of one core), the probe's ping round trip (event-loop
   lag) and the server's garbage-collection pauses.
6. Prints the figures, the server log's warnings and errors counted by kind, and a closing
   note (what this machine held, what limits it); closes the sockets, stops the server
   (SIGTERM, then SIGKILL to its process group) and the embedded FalkorDB, and removes the
   data folder. Exits 0 whether or not every socket opened (failures are reported: that is
   the point past 10k); 2 if the benchmark could not run at all.
"""

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _server
from bench._client import CpuMeter, percentile
from bench._fanout_client import (
    CHANNEL,
    HOST,
    PROTOCOLS,
    WARM_SEQ,
    Recorder,
    Subscriber,
    WorkerSpec,
    run_loop,
    text_frame,
    worker_main,
)
from bench._server import BenchError, ServerProcess
from events import Events

TRACK_ID = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
PASSWORD = "fan-out-bench-password"
SUBSCRIBERS_PER_PROCESS = 2500
FD_MARGIN = 64  # the server's own descriptors besides its sockets (log, DB, Redis, ...)
GC_LOG = "gc.log"


# --- the machine and the server --------------------------------------------------------


def raise_nofile(wanted: int | None) -> tuple[int, int]:
    """RLIMIT_NOFILE soft = hard (or `wanted`, when this process may raise the hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if wanted is not None and wanted > hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted, wanted
        print(f"note: could not raise RLIMIT_NOFILE to {wanted:,} (hard limit {hard:,})")
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft, hard


def meminfo() -> dict[str, int]:
    """/proc/meminfo in kB."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            with contextlib.suppress(ValueError, IndexError):
                values[name] = int(rest.split()[0])
    return values


def status_kb(pid: int, key: str) -> float:
    """A kB field (VmRSS, VmHWM) of /proc/<pid>/status; NaN if unreadable."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return float(line.split()[1])
    return math.nan


def open_fds(pid: int) -> int:
    with contextlib.suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return -1


def start_server(
    data_dir: Path,
    gc_probe: bool = True,
    gc_threshold: str | None = None,
    timeout: float = 120.0,
) -> ServerProcess:
    """`apollonia serve` on a free port of 127.0.0.1 over `data_dir`, once it is healthy;
    with bench/_fanout_gcprobe.py as its sitecustomize when `gc_probe` or `gc_threshold`."""
    defaults = {
        "LOG_LEVEL": "warning",
        "APOLLONIA_ACCESS_TOKEN_TTL": "3600",
        "APOLLONIA_RATE_LIMIT_MUTATION": "1000000/minute",
        # Every socket here is the one bench user's, and a subscription is charged to its
        # query budget like a GraphQL one: at the default 600/minute the sockets after
        # about the 60th waited for a subscription_confirmed that never came.
        "APOLLONIA_RATE_LIMIT_QUERY": "1000000000/minute",
    }
    env = {"GRAPH_URL": f"falkordb-embedded://{data_dir}"}
    if gc_probe or gc_threshold:
        folder = data_dir / "gcprobe"
        folder.mkdir()
        shutil.copy(Path(__file__).with_name("_fanout_gcprobe.py"), folder / "sitecustomize.py")
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(folder), os.environ.get("PYTHONPATH")])
        )
        if gc_probe:
            env["FANOUT_GC_LOG"] = str(data_dir / GC_LOG)
        if gc_threshold:
            env["FANOUT_GC_THRESHOLD"] = gc_threshold
    return _server.start_server(data_dir, defaults, env, timeout)


def register(url: str) -> str:
    """An access token of a new user."""
    document = "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }"
    variables = {
        "input": {"email": "fanout@example.com", "username": "fanout", "password": PASSWORD}
    }
    response = httpx.post(
        f"{url}/graphql",
        json={"query": document, "variables": variables},
        timeout=30,
        trust_env=False,
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise BenchError(f"register failed: {response.status_code} {body}")
    return str(body["data"]["register"]["accessToken"])


# --- the probe: the server's event-loop lag ---------------------------------------------


class Probe(Subscriber):
    """A /ws socket that pings and times the pongs (the server answers them in its loop)."""

    def __init__(self, spec: WorkerSpec) -> None:
        super().__init__(spec, Recorder())
        self.rtts_ms: list[float] = []
        self.pong: asyncio.Future[None] | None = None

    def message(self, raw: bytes, now: int) -> None:
        if b'"pong"' in raw and self.pong is not None and not self.pong.done():
            self.pong.set_result(None)
        elif b'"authenticated"' in raw and not self.ready.done():
            self.ready.set_result(None)

    async def run(self, interval: float = 0.01) -> None:
        loop = asyncio.get_running_loop()
        ping = {"type": "ping"}
        while not self.closed:
            self.pong = loop.create_future()
            sent = time.perf_counter()
            self.send(text_frame(ping))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.pong, 60)
            self.rtts_ms.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(interval)

    def take(self) -> list[float]:
        values, self.rtts_ms = self.rtts_ms, []
        return values


# --- the client processes -----------------------------------------------------------------


@dataclass
class WorkerHandle:
    index: int
    process: multiprocessing.process.BaseProcess
    pipe: Connection
    replies: "asyncio.Queue[tuple[Any, ...]]"


class Clients:
    """The client processes, their replies and their per-event completion notices."""

    def __init__(self, specs: Sequence[WorkerSpec]) -> None:
        self.loop = asyncio.get_running_loop()
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[WorkerHandle] = []
        self.done: dict[int, set[int]] = {}  # seq -> workers whose subscribers all got it
        self.changed = asyncio.Event()
        for spec in specs:
            ours, theirs = self.context.Pipe()
            process = self.context.Process(
                target=worker_main,
                args=(spec, theirs),
                name=f"fanout-client-{spec.index}",
                daemon=True,
            )
            process.start()
            theirs.close()
            handle = WorkerHandle(spec.index, process, ours, asyncio.Queue())
            self.workers.append(handle)
            threading.Thread(target=self._read, args=(handle,), daemon=True).start()

    def _read(self, handle: WorkerHandle) -> None:
        while True:
            try:
                message = handle.pipe.recv()
            except (EOFError, OSError):
                message = ("exited",)
            self.loop.call_soon_threadsafe(self._deliver, handle, message)
            if message[0] == "exited":
                return

    def _deliver(self, handle: WorkerHandle, message: tuple[Any, ...]) -> None:
        if message[0] == "done":
            self.done.setdefault(int(message[2]), set()).add(handle.index)
            self.changed.set()
        else:
            handle.replies.put_nowait(message)

    @property
    def pids(self) -> dict[str, int]:
        return {f"client{w.index}": int(w.process.pid or 0) for w in self.workers}

    async def ask(self, command: tuple[Any, ...], expect: str, within: float) -> list[Any]:
        """Send `command` to every worker; their replies of kind `expect`."""
        for worker in self.workers:
            worker.pipe.send(command)
        return await self.collect(expect, within)

    async def collect(self, expect: str, within: float) -> list[Any]:
        """The next message of kind `expect` from every worker (`within` seconds)."""
        replies = []
        async with asyncio.timeout(within):
            for worker in self.workers:
                while True:
                    reply = await worker.replies.get()
                    if reply[0] == "exited":
                        raise BenchError(f"client process {worker.index} exited")
                    if reply[0] == expect:
                        replies.append(reply)
                        break
        return replies

    async def wait_done(self, seqs: Sequence[int], within: float) -> bool:
        """Until every worker reported every seq complete; False after `within` s."""
        everyone = {w.index for w in self.workers}
        deadline = time.monotonic() + within
        while not all(self.done.get(s, set()) >= everyone for s in seqs):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
        return True

    def stop(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError, ValueError):
                worker.pipe.send(("stop",))
        for worker in self.workers:
            worker.process.join(10)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(5)


# --- figures ------------------------------------------------------------------------------


@dataclass
class Phase:
    """The figures of one measured phase."""

    name: str
    events: int
    expected: int = 0  # deliveries: events x subscribers
    delivered: int = 0
    complete: bool = True
    all_ms: list[float] = field(default_factory=list)  # every delivery
    last_ms: list[float] = field(default_factory=list)  # per event: the last subscriber
    p50_ms: list[float] = field(default_factory=list)  # per event, across subscribers
    p99_ms: list[float] = field(default_factory=list)
    seconds: float = math.nan  # first publish -> last receipt
    publish_seconds: float = math.nan
    cpu: dict[str, float] = field(default_factory=dict)
    lag_ms: list[float] = field(default_factory=list)
    client_cpu_seconds: float = math.nan
    others: float = 0.0  # % of one core used by the rest of the machine

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else math.nan


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


GcRecord = tuple[float, int, float]  # time.time(), generation, pause ms


def read_gc_log(path: Path) -> list[GcRecord]:
    """The server's collections, from bench/_fanout_gcprobe.py."""
    records: list[GcRecord] = []
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                at, generation, ms = line.split()
                records.append((float(at), int(generation), float(ms)))
    return records


@dataclass
class GcWindow:
    """The server's collections within one window of the run."""

    name: str
    seconds: float
    counts: Counter[int]
    paused_ms: float
    longest_ms: float
    longest_full_ms: float

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    @property
    def paused_share(self) -> float:
        """% of the window's wall time."""
        return 100 * self.paused_ms / 1000 / self.seconds if self.seconds > 0 else math.nan

    @classmethod
    def of(cls, records: list[GcRecord], name: str, start: float, end: float) -> "GcWindow":
        inside = [r for r in records if start <= r[0] <= end]
        return cls(
            name,
            end - start,
            Counter(r[1] for r in inside),
            sum(r[2] for r in inside),
            max((r[2] for r in inside), default=math.nan),
            max((r[2] for r in inside if r[1] == 2), default=math.nan),
        )


def gc_table(stats: dict[str, GcWindow], threshold: str | None) -> str:
    lines = [
        f"server garbage collections (gc thresholds {threshold or 'of the app, GC_THRESHOLDS'}; "
        "each pause stops the event loop):",
        f"  {'window':24}{'seconds':>8}{'gen0/gen1/gen2':>18}{'paused ms':>11}{'% wall':>8}"
        f"{'longest ms':>12}{'longest gen2':>14}",
    ]
    for w in stats.values():
        lines.append(
            f"  {w.name:24}{w.seconds:>8.1f}{f'{w.counts[0]}/{w.counts[1]}/{w.counts[2]}':>18}"
            f"{w.paused_ms:>11,.0f}{fmt(w.paused_share, 0):>7}%"
            f"{fmt(w.longest_ms, 0):>12}{fmt(w.longest_full_ms, 0):>14}"
        )
    return "\n".join(lines)


@dataclass
class Options:
    subscribers: int
    protocol: str
    processes: int
    events: int
    burst: int
    deflate: bool
    connect_concurrency: int
    time_limit: float
    nofile: int | None
    keep_data: bool
    gc_probe: bool
    gc_threshold: str | None


class Bench:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.started = time.monotonic()
        self.server: ServerProcess | None = None
        self.clients: Clients | None = None
        self.probe: Probe | None = None
        self.events: Events | None = None
        self.lines: list[str] = []
        self.seq = 0
        self.connected = 0
        self.connect_seconds = math.nan
        self.connect_errors: Counter[str] = Counter()
        self.other: Counter[str] = Counter()
        self.first_other = ""
        self.rss_before = self.rss_after = self.hwm_after = math.nan
        self.db_rss_before = self.db_rss_after = math.nan
        self.fds_after = -1
        self.idle_lag: list[float] = []
        self.warm_seconds = math.nan
        self.warm = 0
        self.phases: list[Phase] = []
        self.skipped: list[str] = []
        self.open_at_end = -1
        self.windows: dict[str, tuple[float, float]] = {}  # time.time() spans, for GC
        self.tasks: list[asyncio.Task[None]] = []

    def left(self) -> float:
        return self.o.time_limit - (time.monotonic() - self.started)

    def say(self, text: str) -> None:
        print(text, flush=True)

    def progress(self, text: str) -> None:
        """A progress line with the wall clock, to match the server log's times."""
        print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    # publishing

    async def publish(self, seq: int) -> None:
        assert self.events is not None
        sent = time.time_ns()
        data = {
            "seq": seq,
            "sent": sent,
            "track_id": TRACK_ID,
            "track": {"id": TRACK_ID, "title": f"{seq} {sent}"},
        }
        await self.events.publish(CHANNEL, CHANNEL, data)

    # phases

    def meter(self) -> CpuMeter:
        assert self.server is not None and self.clients is not None
        pids = {"server": self.server.pid, "bench": os.getpid(), **self.clients.pids}
        db = self.server.db_pid()
        if db is not None:
            pids["db"] = db
        return CpuMeter(pids)

    async def open_connections(self, data_dir: Path) -> None:
        assert self.server is not None
        token = register(self.server.url)
        loop = asyncio.get_running_loop()
        probe_spec = WorkerSpec(-1, self.server.port, "ws", token, 1)
        _, self.probe = await loop.create_connection(
            lambda: Probe(probe_spec), HOST, self.server.port
        )
        await asyncio.wait_for(self.probe.ready, 10)
        self.tasks.append(asyncio.create_task(self.probe.run()))
        await asyncio.sleep(1.0)
        self.probe.take()
        self.rss_before = status_kb(self.server.pid, "VmRSS")
        db = self.server.db_pid()
        self.db_rss_before = status_kb(db, "VmRSS") if db else math.nan

        n, p = self.o.subscribers, self.o.processes
        shares = [n // p + (1 if i < n % p else 0) for i in range(p)]
        specs = [
            WorkerSpec(
                i,
                self.server.port,
                self.o.protocol,
                token,
                share,
                connect_concurrency=max(1, self.o.connect_concurrency // p),
                deflate=self.o.deflate,
            )
            for i, share in enumerate(shares)
        ]
        self.progress(f"opening {n:,} {self.o.protocol} subscribers from {p} client process(es)...")
        started = time.perf_counter()
        opened = time.time()
        self.clients = Clients(specs)
        replies = await self.clients.collect("connected", max(60.0, self.left() - 60))
        self.connect_seconds = time.perf_counter() - started
        for reply in replies:
            stats = reply[2]
            self.connected += stats["open"]
            self.connect_errors.update(stats["errors"])
        self.progress(
            f"{self.connected:,} open in {self.connect_seconds:.1f} s"
            + (f"; failed: {dict(self.connect_errors)}" if self.connect_errors else "")
        )

        # Warm-up: events until every open socket has one (its subscription is live).
        self.events = Events(self.server.redis_url)
        await self.events.__aenter__()
        started = time.perf_counter()
        deadline = time.monotonic() + min(60.0, max(5.0, self.left() - 60))
        while time.monotonic() < deadline:
            await self.publish(WARM_SEQ)
            await asyncio.sleep(0.25)
            stats = [r[1] for r in await self.clients.ask(("stats",), "stats", 30)]
            self.warm = sum(s["warm"] for s in stats)
            if self.warm >= sum(s["open"] for s in stats):
                break
        self.warm_seconds = time.perf_counter() - started
        self.windows["open + warm-up"] = (opened, time.time())
        idle = time.time()
        await asyncio.sleep(0.5)
        self.idle_lag = self.probe.take()  # the idle loop with every socket open
        await asyncio.sleep(1.5)
        self.idle_lag += self.probe.take()
        self.windows["idle, all open"] = (idle, time.time())
        self.rss_after = status_kb(self.server.pid, "VmRSS")
        self.fds_after = open_fds(self.server.pid)
        self.db_rss_after = status_kb(db, "VmRSS") if db else math.nan
        self.progress(
            f"{self.warm:,} subscriptions live after {self.warm_seconds:.1f} s of warm-up; "
            f"server RSS {self.rss_before / 1024:,.1f} -> {self.rss_after / 1024:,.1f} MiB"
        )

    async def phase(self, name: str, count: int, paced: bool) -> Phase:
        assert self.clients is not None and self.probe is not None
        phase = Phase(name, count)
        seqs = list(range(self.seq, self.seq + count))
        self.seq += count
        targets = [r[1] for r in await self.clients.ask(("arm",), "armed", 30)]
        live = sum(targets)
        phase.expected = live * count
        timeout = max(10.0, 2.0 * live / 1000) if paced else max(30.0, live * count / 5000)
        timeout = min(timeout, max(5.0, self.left() - 30))
        meter = self.meter()
        self.probe.take()
        meter.start()
        first_sent = time.time_ns()
        window_start = time.time()
        published = time.perf_counter()
        if paced:
            for seq in seqs:
                await self.publish(seq)
                if not await self.clients.wait_done([seq], timeout):
                    phase.complete = False
                    break
                await asyncio.sleep(0.05)  # let the stragglers' sockets settle
        else:
            for seq in seqs:
                await self.publish(seq)
            phase.publish_seconds = time.perf_counter() - published
            phase.complete = await self.clients.wait_done(seqs, timeout)
        phase.cpu = meter.stop()
        phase.lag_ms = self.probe.take()
        self.windows[name] = (window_start, time.time())
        reports = await self.clients.ask(("report", seqs), "report", 120)
        per_seq: dict[int, list[float]] = {s: [] for s in seqs}
        last_receipt = 0
        for _, latencies, receipts, stats, _cpu in reports:
            for seq, values in latencies.items():
                per_seq[seq].extend(v / 1e6 for v in values)
            last_receipt = max([last_receipt, *receipts.values()])
            self.other.update(stats["other"])
            self.first_other = self.first_other or stats["first_other"]
        for seq in seqs:
            values = per_seq[seq]
            phase.delivered += len(values)
            phase.all_ms.extend(values)
            if values:
                phase.last_ms.append(max(values))
                phase.p50_ms.append(percentile(values, 50))
                phase.p99_ms.append(percentile(values, 99))
        if last_receipt:
            phase.seconds = (last_receipt - first_sent) / 1e9
        return phase

    # the run

    async def main(self, data_dir: Path) -> None:
        self.server = start_server(data_dir, self.o.gc_probe, self.o.gc_threshold)
        self.progress(
            f"server: pid {self.server.pid} on {self.server.url}, embedded FalkorDB pid "
            f"{self.server.db_pid()}, data in {data_dir}"
        )
        try:
            await self.open_connections(data_dir)
            if self.warm == 0:
                raise BenchError("no subscription received the warm-up events")
            if self.left() > 20:
                self.progress(f"paced: {self.o.events} events, one at a time...")
                self.phases.append(await self.phase("paced, one at a time", self.o.events, True))
            else:
                self.skipped.append("paced")
            if self.left() > 20:
                self.progress(f"burst: {self.o.burst} events back to back...")
                self.phases.append(
                    await self.phase(f"burst of {self.o.burst}", self.o.burst, False)
                )
            else:
                self.skipped.append("burst")
            self.hwm_after = status_kb(self.server.pid, "VmHWM")
            if self.clients is not None:
                stats = [r[1] for r in await self.clients.ask(("stats",), "stats", 30)]
                self.open_at_end = sum(s["open"] for s in stats)
        finally:
            for task in getattr(self, "tasks", []):
                task.cancel()
            if self.probe is not None:
                self.probe.close()
            if self.events is not None:
                with contextlib.suppress(Exception):
                    await self.events.__aexit__()
            if self.clients is not None:
                await asyncio.to_thread(self.clients.stop)

    # reporting

    def report(self, limits: tuple[int, int], log: str, gc_records: list[GcRecord]) -> None:
        o = self.o
        cpus = os.cpu_count() or 1
        mem = meminfo()
        per_conn_kib = (
            (self.rss_after - self.rss_before) / self.connected if self.connected else math.nan
        )
        out = self.say
        out("")
        out(
            f"Event fan-out: {o.subscribers:,} subscribers, protocol {o.protocol}"
            f"{' (permessage-deflate)' if o.deflate else ''}, {o.processes} client "
            f"process(es); {o.events} paced events, a burst of {o.burst}"
            + (f"; server gc.set_threshold({o.gc_threshold})" if o.gc_threshold else "")
        )
        out(
            f"machine: {cpus} CPUs, {mem.get('MemTotal', 0) / 1048576:.1f} GiB RAM "
            f"({mem.get('MemAvailable', 0) / 1048576:.1f} GiB available); RLIMIT_NOFILE "
            f"{limits[0]:,}/{limits[1]:,}; ephemeral ports "
            + Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().strip().replace("\t", "-")
        )
        out("")
        rate = self.connected / self.connect_seconds if self.connect_seconds else math.nan
        failed = sum(self.connect_errors.values())
        out(
            f"  sockets open           {self.connected:,} of {o.subscribers:,} in "
            f"{self.connect_seconds:.1f} s ({rate:,.0f}/s, handshake + subscribe); "
            f"failed {failed:,}" + (f": {dict(self.connect_errors)}" if failed else "")
        )
        out(f"  subscriptions live     {self.warm:,} (after {self.warm_seconds:.1f} s of warm-up)")
        out(
            f"  server RSS             {self.rss_before / 1024:,.1f} MiB before, "
            f"{self.rss_after / 1024:,.1f} MiB after = {fmt(per_conn_kib)} KiB per connection; "
            f"peak (VmHWM) by the end {self.hwm_after / 1024:,.1f} MiB; "
            f"{self.fds_after:,} open fds"
        )
        out(
            f"  embedded DB RSS        {self.db_rss_before / 1024:,.1f} -> "
            f"{self.db_rss_after / 1024:,.1f} MiB (one Redis subscription for all sockets)"
        )
        out(
            f"  idle loop lag          ping RTT p50 {fmt(median(self.idle_lag), 2)} ms, "
            f"p99 {fmt(percentile(self.idle_lag, 99), 2)} ms, max "
            f"{fmt(max(self.idle_lag, default=math.nan), 0)} ms with every socket open"
        )
        out("")
        out(
            f"  {'phase':22}{'deliveries':>17}{'last sub p50':>13}{'p99':>8}"
            f"{'event p50':>11}{'p99':>8}{'deliv/s':>10}{'lag p50':>9}{'p99':>8}{'max':>8}"
            f"   cpu % srv/db/clients/bench/others"
        )
        for ph in self.phases:
            clients = sum(v for k, v in ph.cpu.items() if k.startswith("client"))
            ours = [
                ph.cpu.get("server", math.nan),
                ph.cpu.get("db", math.nan),
                clients,
                ph.cpu.get("bench", math.nan),
            ]
            ph.others = max(0.0, ph.cpu.get("machine", math.nan) - sum(ours))
            cpu = "/".join(fmt(v, 0) for v in [*ours, ph.others])
            out(
                f"  {ph.name:22}{f'{ph.delivered:,}/{ph.expected:,}':>17}"
                f"{fmt(median(ph.last_ms)):>13}{fmt(percentile(ph.last_ms, 99)):>8}"
                f"{fmt(median(ph.p50_ms)):>11}{fmt(median(ph.p99_ms)):>8}"
                f"{fmt(ph.rate, 0):>10}{fmt(median(ph.lag_ms)):>9}"
                f"{fmt(percentile(ph.lag_ms, 99)):>8}{fmt(max(ph.lag_ms, default=math.nan), 0):>8}"
                f"   {cpu}" + ("" if ph.complete else "  INCOMPLETE (timed out)")
            )
        out(
            "  (ms. last sub: publish -> receipt at the last subscriber, p50/p99 over events;"
            " event: p50/p99 across subscribers per event, median over events; deliv/s:\n"
            "   deliveries from the first publish to the last receipt; lag: the probe's ping"
            f" round trip; cpu: % of one core of {cpus}; others: the rest of the machine,\n"
            "   other processes and kernel softirq)"
        )
        if self.skipped:
            out(f"  skipped for --time-limit: {', '.join(self.skipped)}")
        if self.other:
            out(f"  other messages seen by the clients: {dict(self.other)}")
            out(f"    first: {self.first_other}")
        if log.strip():
            out("")
            out("server log, warnings and errors by kind:")
            out(log_summary(log) or "  none")
        gc_stats = {
            name: GcWindow.of(gc_records, name, *span) for name, span in self.windows.items()
        }
        if o.gc_probe:
            out("")
            out(gc_table(gc_stats, o.gc_threshold))
        self.note(per_conn_kib, limits, mem, gc_stats)

    def note(
        self,
        per_conn_kib: float,
        limits: tuple[int, int],
        mem: dict[str, int],
        gc_stats: dict[str, GcWindow],
    ) -> None:
        out = self.say
        paced = next((p for p in self.phases if p.name.startswith("paced")), None)
        burst = next((p for p in self.phases if p.name.startswith("burst")), None)
        out("")
        out("Closing note")
        held = self.connected == self.o.subscribers and self.warm == self.connected
        out(
            f"  This machine {'held' if held else 'did NOT hold'} {self.o.subscribers:,} "
            f"{self.o.protocol} subscribers on one server process "
            f"({self.connected:,} open, {self.warm:,} live)."
        )
        if burst is not None and burst.delivered and not math.isnan(burst.rate):
            server_cpu = burst.cpu.get("server", math.nan)
            clients = sum(v for k, v in burst.cpu.items() if k.startswith("client"))
            per_delivery_us = server_cpu / 100 / burst.rate * 1e6 if burst.rate else math.nan
            out(
                f"  Fan-out: {burst.rate:,.0f} deliveries/s = {burst.rate / self.warm:,.1f} "
                f"events/s to every subscriber, with the server process at {server_cpu:.0f}% "
                f"of one core (~{per_delivery_us:.0f} us of server CPU per delivery) and the "
                f"clients at {clients:.0f}%: the single server process is the bottleneck."
                if server_cpu > 80
                else f"  Fan-out: {burst.rate:,.0f} deliveries/s; the server at {server_cpu:.0f}% "
                f"of one core, the clients at {clients:.0f}%."
            )
            if paced is not None and paced.last_ms:
                out(
                    f"  One event reaches the last of {self.warm:,} subscribers in "
                    f"{median(paced.last_ms):,.0f} ms (p50; p99 "
                    f"{percentile(paced.last_ms, 99):,.0f} ms); events faster than "
                    f"{burst.rate / self.warm:,.1f}/s queue up in the server."
                )
        windows = [w for w in gc_stats.values() if w.count]
        if windows:
            full = sum(w.counts[2] for w in windows)
            longest = max(w.longest_ms for w in windows)
            share = (
                100
                * sum(w.paused_ms for w in windows)
                / 1000
                / sum(w.seconds for w in gc_stats.values())
            )
            out(
                f"  Garbage collection: the server's collector stopped its event loop "
                f"{fmt(share, 0)}% of the time, {full} full collections among them, the longest "
                f"pause {longest:,.0f} ms (a full collection walks every live object: sockets"
                " x their tasks and queues, and the events queued for them)."
            )
        fd_cap = limits[0] - FD_MARGIN
        mem_cap = mem.get("MemAvailable", 0) / per_conn_kib if per_conn_kib > 0 else math.nan
        peak_kib = (
            (self.hwm_after - self.rss_before) / self.connected if self.connected else math.nan
        )
        out(
            f"  Limits: file descriptors cap the server at ~{fd_cap:,} sockets "
            f"(RLIMIT_NOFILE {limits[0]:,}, hard limit {limits[1]:,}; EMFILE beyond); memory "
            f"at {per_conn_kib:,.0f} KiB per idle socket ({peak_kib:,.0f} KiB at the peak) "
            f"would allow ~{mem_cap:,.0f} in MemAvailable; ephemeral ports ~28,000 client "
            "sockets to one server address."
        )
        noisy = [p.name for p in self.phases if p.others > 25]
        if noisy:
            out(
                f"  Noise: other processes kept the machine busy during {', '.join(noisy)} "
                "(the 'others' CPU column); compare runs."
            )
        if self.connect_errors or self.other or any(not p.complete for p in self.phases):
            out(
                "  It broke here: "
                + "; ".join(
                    [f"{k}: {v:,}" for k, v in self.connect_errors.items()]
                    + [f"{k}: {v:,}" for k, v in self.other.items()]
                    + [f"{p.name} incomplete" for p in self.phases if not p.complete]
                )
            )


_LOG_RE = re.compile(r"^\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d),\d+ (WARNING|ERROR|CRITICAL) (\S+) (.*)$")
_DETAIL_RE = re.compile(r"\(.*?\)|: .*$|\d+")


def log_summary(log: str, kinds: int = 8) -> str:
    """The server log's warnings and errors, counted by logger and message shape, with the
    first and last time each was seen (uncounted lines: tracebacks and the like)."""
    seen: dict[tuple[str, str, str], list[Any]] = {}
    other: Counter[str] = Counter()
    for line in log.splitlines():
        match = _LOG_RE.match(line)
        if match is None:
            if line.strip():
                other[_DETAIL_RE.sub("…", line.strip())[:120]] += 1
            continue
        clock, level, logger, message = match.groups()
        key = (level, logger, _DETAIL_RE.sub("…", message)[:90])
        entry = seen.setdefault(key, [0, clock, clock, message[:160]])
        entry[0] += 1
        entry[2] = clock
    lines = [
        f"  {count:>7,} x {level} {logger}: {example}  [{first}-{last}]"
        for (level, logger, _), (count, first, last, example) in sorted(
            seen.items(), key=lambda item: -item[1][0]
        )[:kinds]
    ]
    if other:
        lines.append(f"  {sum(other.values()):>7,} other lines (tracebacks, uvicorn), most:")
        lines += [f"  {count:>7,} x {text}" for text, count in other.most_common(4)]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="ws")
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help=f"client processes (default: one per {SUBSCRIBERS_PER_PROCESS:,} subscribers, "
        "at most 4)",
    )
    parser.add_argument("--events", type=int, default=20, help="paced events (20)")
    parser.add_argument(
        "--burst",
        type=int,
        default=50,
        help="events in the burst (50; the server drops a subscriber that "
        "falls 256 behind, APOLLONIA_WS_QUEUE)",
    )
    parser.add_argument(
        "--deflate", action="store_true", help="offer permessage-deflate, as browsers do"
    )
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=256,
        help="handshakes in flight, all processes together (256)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=170.0,
        help="seconds for the whole run; later phases are skipped (170)",
    )
    parser.add_argument(
        "--nofile",
        type=int,
        default=None,
        help="ask for this RLIMIT_NOFILE (above the hard limit: privileged)",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the data folder")
    parser.add_argument(
        "--no-gc-probe", action="store_true", help="do not time the server's garbage collections"
    )
    parser.add_argument(
        "--server-gc-threshold",
        default=None,
        metavar="A,B,C",
        help="gc.set_threshold(A, B, C) in the server (default: Python's)",
    )
    args = parser.parse_args(argv)
    if args.subscribers < 1 or args.events < 1 or args.burst < 1:
        parser.error("--subscribers, --events and --burst must be positive")
    processes = args.processes or min(4, math.ceil(args.subscribers / SUBSCRIBERS_PER_PROCESS))
    return Options(
        args.subscribers,
        args.protocol,
        max(1, min(processes, args.subscribers)),
        args.events,
        args.burst,
        args.deflate,
        args.connect_concurrency,
        args.time_limit,
        args.nofile,
        args.keep_data,
        not args.no_gc_probe,
        args.server_gc_threshold,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    limits = raise_nofile(options.nofile)
    needed = options.subscribers + FD_MARGIN
    if limits[0] < needed:
        print(
            f"note: RLIMIT_NOFILE {limits[0]:,} < {needed:,}: the server will refuse sockets "
            "(EMFILE) before all are open"
        )
    data_dir = Path(tempfile.mkdtemp(prefix="apollonia-fanout-"))
    bench = Bench(options)
    code = 0
    log = ""
    try:
        try:
            run_loop(bench.main(data_dir))
        finally:
            if bench.server is not None:
                bench.server.stop()
                log = bench.server.log_tail(None)
        bench.report(limits, log, read_gc_log(data_dir / GC_LOG))
    except BenchError as e:
        print(f"benchmark error: {e}", file=sys.stderr)
        code = 2
    finally:
        if not options.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
