"""What a compaction buys: two databases loaded alike, one compacted, timed side by side.

    .venv/bin/python bench/compaction.py --tracks 100000      # about 2 minutes

Loads `--tracks` tracks twice, the way bench/graphql_nested.py does (bench/_load.py: 500
per transaction), into two fresh embedded FalkorDB servers in temporary folders; compacts
the second (graph.embedded.compact, what `apollonia compact` and a worker after
APOLLONIA_COMPACT_AFTER jobs do); then times, in `--rounds` rounds alternating between
the two (their order reversed every other round), the single Cypher query of 3
consecutive 50-track pages in each of the 4 sort orders (the exact window of each page,
with its artists, album and genres). Prints the median of the rounds' medians for each
and their ratio; then four readers loop over those queries while the first database is
compacted, and the failed queries and the slowest are counted. `--module-args` adds
FalkorDB module arguments to the first database (for example `DELTA_MAX_PENDING_CHANGES
100`), to test another explanation of the difference. Talks only to the two servers' unix sockets.
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graph.embedded as embedded
from bench import _load, _server
from bench.graphql_nested import GRAPH_NAME, SORTS, Query, page_cypher, page_rows
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate

PAGES = 3


async def load(folder: Path, tracks: int) -> tuple[embedded.EmbeddedServer, FalkorDBEngine]:
    server = embedded.ensure_server(folder)
    engine = FalkorDBEngine.from_socket(server.socket_path, GRAPH_NAME)
    await migrate(engine)
    started = time.perf_counter()
    await _load.load(engine, _load.catalogue(tracks), lambda *_: None)
    print(f"  {folder.name}: {tracks:,} tracks in {time.perf_counter() - started:.1f} s")
    _server.settle_persistence(server)  # no background save during the timing
    return server, engine


async def pages(engine: FalkorDBEngine) -> list[Query]:
    """The exact single query of PAGES consecutive pages in each sort order."""
    queries = []
    for sort in SORTS:
        position = None
        for _ in range(PAGES):
            rows = page_rows(await engine.read("bench", *page_cypher(sort, position, None)))
            queries.append(page_cypher(sort, position, rows[-1]["sort_key"][0] + 1))
            position = rows[-1]["sort_key"]
    return queries


async def median_ms(engine: FalkorDBEngine, queries: list[Query]) -> float:
    times = []
    for text, params in queries:
        started = time.perf_counter()
        await engine.read("bench", text, params)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def reads_during_compaction(
    engine: FalkorDBEngine, socket_path: Path, queries: list[Query]
) -> tuple[int, int, float, float]:
    """Four readers loop over `queries` while the database is compacted: how many
    queries failed, how many were answered, the slowest (s) and the compaction's time.
    The server refuses commands with LOADING while it reloads; the engine waits."""
    done = asyncio.Event()
    failed = answered = 0
    slowest = 0.0

    async def reader(offset: int) -> None:
        nonlocal failed, answered, slowest
        i = offset
        while not done.is_set():
            text, params = queries[i % len(queries)]
            started = time.perf_counter()
            try:
                await engine.read("bench", text, params)
                answered += 1
            except Exception:  # any failure is what this counts
                failed += 1
            slowest = max(slowest, time.perf_counter() - started)
            i += 1

    readers = [asyncio.create_task(reader(k)) for k in range(4)]
    await asyncio.sleep(1.0)
    result = await asyncio.to_thread(embedded.compact, socket_path)
    await asyncio.sleep(1.0)
    done.set()
    await asyncio.gather(*readers)
    return failed, answered, slowest, result.seconds


def with_module_args(module_args: str) -> None:
    """Start the next embedded servers with these FalkorDB module arguments."""
    plain = embedded._config

    def config(*args: Any, **kwargs: Any) -> str:
        lines = plain(*args, **kwargs).split("\n")
        return "\n".join(
            f"{line} {module_args}" if line.startswith("loadmodule") else line for line in lines
        )

    embedded._config = config  # type: ignore[assignment]


async def run(args: argparse.Namespace, root: Path) -> None:
    servers: list[tuple[embedded.EmbeddedServer, FalkorDBEngine]] = []
    plain = embedded._config
    try:
        print("loading:")
        if args.module_args:
            with_module_args(args.module_args)
        servers.append(await load(root / "as-loaded", args.tracks))
        embedded._config = plain  # type: ignore[assignment]
        servers.append(await load(root / "compacted", args.tracks))
        (first_server, first), (second_server, second) = servers
        done = embedded.compact(second_server.socket_path)
        print(f"  compacted the second in {done.seconds:.2f} s")
        queries = {id(first): await pages(first), id(second): await pages(second)}
        samples: dict[int, list[float]] = {id(first): [], id(second): []}
        for turn in range(args.rounds):
            for engine in (first, second) if turn % 2 == 0 else (second, first):
                samples[id(engine)].append(await median_ms(engine, queries[id(engine)]))
        loaded = statistics.median(samples[id(first)])
        compacted = statistics.median(samples[id(second)])
        extra = f" (module args: {args.module_args})" if args.module_args else ""
        failed, answered, slowest, seconds = await reads_during_compaction(
            first, first_server.socket_path, queries[id(first)]
        )
        print(
            f"\nclients during a compaction of the first ({seconds:.2f} s): 4 readers, "
            f"{answered} queries answered, {failed} failed, the slowest {slowest:.2f} s"
        )
        print(
            f"\n{args.tracks:,} tracks, {len(SORTS) * PAGES} pages, {args.rounds} alternating "
            f"rounds, median ms of the single page query:\n"
            f"  as loaded{extra}: {loaded:.2f}\n  compacted: {compacted:.2f}\n"
            f"  as loaded / compacted: {loaded / compacted:.2f}x"
        )
    finally:
        embedded._config = plain  # type: ignore[assignment]
        for server, engine in servers:
            await engine.close()
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--module-args", default="", help="FalkorDB module arguments (first db)")
    args = parser.parse_args(argv)
    if args.tracks < 50 * PAGES * 2 or args.rounds < 1:
        parser.error("need --tracks >= 300 and --rounds >= 1")
    _server.in_scratch_folder("apollonia-compaction-", lambda root: run(args, root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
