"""What `appendfsync always` (the embedded default) costs against `everysec`.

Run from the repository root:

    .venv/bin/python bench/durability.py                  # 3 rounds, 16 writers, 20k tracks

`everysec` can lose acknowledged writes when the database process dies while a
background fsync is slow (tests/test_durability.py shows it); `always` cannot. Per round,
for each policy (the order alternating), a fresh embedded FalkorDB in a temporary folder
on the same disk as the system's temporary files:
- single writes: `--writers` clients each creating artists one after another
  (`catalog_writes.create_artist`, one graph query each) for `--duration` seconds:
  writes/s, p50 and p99 in ms;
- a bulk import of `--tracks` tracks (`bench/_load.py`, 500 a query): seconds.
Then the medians and the ratios always / everysec, per round and their median, and the
median fdatasync of a 100-byte append on that disk (the cost `always` adds per turn).
"""

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._client import percentile
from bench._load import catalogue, load
from bench._server import scratch_database
from graph import catalog_writes
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate

POLICIES = ("everysec", "always")


def fdatasync_ms(folder: Path, count: int = 200) -> float:
    """The median time of a 100-byte append and its fdatasync in `folder`."""
    path = folder / "fsync-probe"
    times = []
    with path.open("wb") as out:
        for _ in range(count):
            out.write(b"x" * 100)
            out.flush()
            started = time.perf_counter()
            os.fdatasync(out.fileno())
            times.append((time.perf_counter() - started) * 1000)
    path.unlink()
    return statistics.median(times)


async def single_writes(engine: FalkorDBEngine, writers: int, seconds: float) -> list[float]:
    """Latencies (ms) of artists created by `writers` clients for `seconds`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def writer(index: int) -> None:
        number = 0
        while time.perf_counter() < deadline:
            number += 1
            started = time.perf_counter()
            await catalog_writes.create_artist(engine, f"Writer {index} artist {number}")
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(writer(i) for i in range(writers)))
    return latencies


async def one_round(policy: str, args: argparse.Namespace) -> dict[str, float]:
    with scratch_database(f"apollonia-durability-{policy}-", policy) as (_, server):
        engine = FalkorDBEngine.from_socket(server.socket_path, "bench")
        try:
            await migrate(engine)
            latencies = await single_writes(engine, args.writers, args.duration)
            bulk = await load(engine, catalogue(args.tracks))
        finally:
            await engine.close()
    return {
        "rate": len(latencies) / args.duration,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "bulk": bulk,
    }


async def main(args: argparse.Namespace) -> None:
    probe = Path(tempfile.mkdtemp(prefix="apollonia-durability-probe-"))
    try:
        print(f"fdatasync of a 100-byte append here: median {fdatasync_ms(probe):.3f} ms")
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    print(
        f"{args.writers} writers for {args.duration:.0f} s, then a bulk import of"
        f" {args.tracks:,} tracks; {args.rounds} rounds"
    )
    print(f"  {'round':>5} {'policy':>9} {'writes/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'bulk s':>7}")
    results: dict[str, list[dict[str, float]]] = {policy: [] for policy in POLICIES}
    for round_ in range(args.rounds):
        for policy in POLICIES if round_ % 2 == 0 else POLICIES[::-1]:
            r = await one_round(policy, args)
            results[policy].append(r)
            print(
                f"  {round_ + 1:>5} {policy:>9} {r['rate']:>9,.0f} {r['p50']:>7.2f}"
                f" {r['p99']:>7.2f} {r['bulk']:>7.2f}",
                flush=True,
            )
    always, everysec = results["always"], results["everysec"]
    for key, label in (("rate", "writes/s"), ("p99", "p99 ms"), ("bulk", "bulk import s")):
        a = statistics.median(r[key] for r in always)
        e = statistics.median(r[key] for r in everysec)
        paired = [x[key] / y[key] for x, y in zip(always, everysec, strict=True)]
        print(
            f"median {label}: always {a:,.2f}, everysec {e:,.2f}; always / everysec per round "
            + ", ".join(f"{p:.2f}x" for p in paired)
            + f", median {statistics.median(paired):.2f}x"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--tracks", type=int, default=20_000)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args(None)))
