"""What the access log costs `track(id)`: the same server with it on and off, side by side.

Run from the repository root:

    .venv/bin/python bench/access_log.py                  # 2,000 tracks, 3 rounds
    .venv/bin/python bench/access_log.py --rounds 5 --duration 5

Loads `--tracks` tracks into a fresh embedded FalkorDB (bench/_load.py), then, for each
of `--rounds` rounds and in alternating order, starts `apollonia serve` over it with
the access log on (LOG_LEVEL=info, APOLLONIA_ACCESS_LOG=true, JSON lines written to
the server's log file, as in production) and off (APOLLONIA_ACCESS_LOG=false), and
measures `track(id)` at `--concurrency` closed-loop clients for `--duration` seconds
after a warm-up (bench/_client.py's lean client, 127.0.0.1 only). Prints each round's
requests/s, p50/p99 and the server's CPU time per request (which contention on
the machine hardly changes), the medians, and the ratio off/on of the medians: the access
log's share of throughput. Exits 0; 2 if the benchmark could not run.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _client, _load
from bench._client import CpuMeter, Run, percentile
from bench._server import BenchError, ServerProcess, scratch_database
from bench.graphql_nested import GRAPH_NAME, start_server, track_workload
from graph.embedded import EmbeddedServer
from graph.engine.falkordb import FalkorDBEngine

SETTINGS = {
    "on": {"LOG_LEVEL": "info", "APOLLONIA_ACCESS_LOG": "true", "LOG_FORMAT": "json"},
    "off": {"LOG_LEVEL": "info", "APOLLONIA_ACCESS_LOG": "false", "LOG_FORMAT": "json"},
}


async def load(db: EmbeddedServer, tracks: int) -> list[str]:
    engine = FalkorDBEngine.from_socket(db.socket_path, GRAPH_NAME)
    try:
        ids = await _load.fresh_catalogue(engine, tracks)
    finally:
        await engine.close()
    return random.Random(3).sample(ids, min(2000, len(ids)))


def start_with(data_dir: Path, env: dict[str, str]) -> ServerProcess:
    """`apollonia serve` over `data_dir` with `env` added to this process' environment
    while it starts (the server inherits it)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return start_server(data_dir)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def measure(
    data_dir: Path, label: str, env: dict[str, str], ids: list[str], args: argparse.Namespace
) -> Run:
    """`track(id)` on `apollonia serve` over `data_dir` with `env` added to this process'
    environment: requests/s, latencies, and the server's CPU per request (all its API
    processes; the embedded database measured apart) in `run.cpu["server_ms"]`."""
    server = start_with(data_dir, env)
    try:
        requests = [_client.http_request(server.port, b) for b in track_workload(ids).bodies()]
        await _client.run_raw("warm-up", server.port, requests, args.concurrency, 1.0, 10**6)
        # The database apart (it is the bench's, kept up from run to run, so every run
        # measures it as loaded; it was stopped after the first, and the later runs
        # measured a reloaded database, which `serve` started as its own descendant).
        pids = {"server": server.pid}
        db = server.db_pid()
        if db is not None:
            pids["db"] = db
        meter = CpuMeter(pids)
        meter.start()
        run = await _client.run_raw(
            label, server.port, requests, args.concurrency, args.duration, 10**7
        )
        used = meter.stop()
        # The server's CPU per request, in ms: what the log costs whatever else runs.
        run.cpu = {"server_ms": used["server"] / 100 * run.elapsed / run.count * 1000}
        return run
    finally:
        server.stop(keep_database=True)


def rate(run: Run) -> float:
    return run.count / run.elapsed


async def alternate(
    args: argparse.Namespace,
    data_dir: Path,
    db: EmbeddedServer,
    configs: dict[str, dict[str, str]],
    ids: list[str] | None = None,
) -> dict[str, list[Run]]:
    """`track(id)` under each configuration (label -> environment), `args.rounds` times,
    the order alternating by round; each run printed as it ends. The catalogue is
    loaded first unless the caller did (`ids`: the tracks to ask for)."""
    if ids is None:
        ids = await load(db, args.tracks)
    results: dict[str, list[Run]] = {label: [] for label in configs}
    print(f"track(id) at {args.concurrency} clients, {args.duration:.0f} s a run")
    labels = list(configs)
    width = max(4, *map(len, labels))
    print(
        f"  {'round':>5} {'':>{width}} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'server CPU ms/request':>22}"
    )
    for round_ in range(args.rounds):
        for label in labels if round_ % 2 == 0 else labels[::-1]:
            run = await measure(data_dir, label, configs[label], ids, args)
            results[label].append(run)
            lat = run.latencies_ms
            print(
                f"  {round_ + 1:>5} {label:>{width}} {rate(run):>8,.0f} {percentile(lat, 50):>8.2f}"
                f" {percentile(lat, 99):>8.2f} {run.cpu['server_ms']:>22.3f}",
                flush=True,
            )
    return results


def medians(results: dict[str, list[Run]]) -> dict[str, dict[str, float]]:
    """Per configuration: the medians of requests/s, p50, p99 and server CPU ms/request."""
    return {
        label: {
            "rate": statistics.median(rate(r) for r in runs),
            "p50": statistics.median(percentile(r.latencies_ms, 50) for r in runs),
            "p99": statistics.median(percentile(r.latencies_ms, 99) for r in runs),
            "cpu": statistics.median(r.cpu["server_ms"] for r in runs),
        }
        for label, runs in results.items()
    }


def print_pair(results: dict[str, list[Run]], better: str, base: str) -> None:
    """Medians of `better` and `base` side by side, and the ratio better/base of
    requests/s: of the medians, and per round (each round measures both back to back, so
    the ratio is paired and the machine's drift between rounds cancels out of it)."""
    m = medians(results)
    a, b = m[better], m[base]
    paired = [rate(x) / rate(y) for x, y in zip(results[better], results[base], strict=True)]
    print(
        f"median req/s: {better} {a['rate']:,.0f}, {base} {b['rate']:,.0f};"
        f" {better} / {base} {a['rate'] / b['rate']:.2f}x; per round "
        + ", ".join(f"{r:.2f}x" for r in paired)
        + f", median {statistics.median(paired):.2f}x"
    )
    print(
        f"median p50 / p99 ms: {better} {a['p50']:.2f} / {a['p99']:.2f},"
        f" {base} {b['p50']:.2f} / {b['p99']:.2f}"
    )
    print(f"median server CPU per request: {better} {a['cpu']:.3f} ms, {base} {b['cpu']:.3f} ms")


async def main(args: argparse.Namespace, data_dir: Path, db: EmbeddedServer) -> None:
    m = medians(await alternate(args, data_dir, db, SETTINGS))
    on, off = m["on"], m["off"]
    print(
        f"median req/s: access log on {on['rate']:,.0f}, off {off['rate']:,.0f};"
        f" off/on {off['rate'] / on['rate']:.3f}x"
        f" (the log costs {100 * (1 - on['rate'] / off['rate']):.1f}% of throughput)"
    )
    print(f"median p99 ms: on {on['p99']:.2f}, off {off['p99']:.2f}")
    print(
        f"median server CPU per request: on {on['cpu']:.3f} ms, off {off['cpu']:.3f} ms;"
        f" on/off {on['cpu'] / off['cpu']:.3f}x"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--tracks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--concurrency", type=int, default=32)
    return parser.parse_args(argv)


Main = Callable[[argparse.Namespace, Path, EmbeddedServer], Coroutine[Any, Any, None]]


def run(argv: Sequence[str] | None = None, bench: Main = main, name: str = "log") -> int:
    """`bench` over a scratch database with the command line's arguments; 2 if it could
    not run."""
    args = parse_args(argv)
    with scratch_database(f"apollonia-bench-{name}-") as (data_dir, db):
        try:
            asyncio.run(bench(args, data_dir, db))
        except BenchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(run())
