"""The embedded server's allocator: libc's malloc against mimalloc, as loaded and compacted.

    .venv/bin/python bench/allocator.py --tracks 100000      # about 4 minutes

Loads `--tracks` tracks the way bench/graphql_nested.py does (bench/_load.py) into four
fresh embedded FalkorDB servers in temporary folders: with libc's malloc (falkordblite's
build) and with mimalloc (`APOLLONIA_GRAPH_ALLOCATOR`, graph/embedded.py), each once as
loaded and once compacted (graph.embedded.compact). Prints each import's seconds and the
server's RSS after it. Then records the graph queries the server itself sends for 5
consecutive 50-track pages in each of the 4 sort orders (graph.catalog.tracks_page with
the page relations, after a first walk has taught it the keys' density), and times them
on every database in `--rounds` rounds, the databases' order reversed every other round:
the median of the rounds' medians per database and its ratio to libc compacted. Talks
only to the four servers' unix sockets.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graph.embedded as embedded
from bench import _load, _server
from bench.compaction import median_ms
from bench.graphql_nested import GRAPH_NAME, SORTS, Query
from graph import catalog
from graph.engine import Row
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from graph.queries import catalog as q

PAGES = 5
DATABASES = (
    ("libc, as loaded", "libc", False),
    ("libc, compacted", "libc", True),
    ("mimalloc, as loaded", "mimalloc", False),
    ("mimalloc, compacted", "mimalloc", True),
)


class Recorder:
    """An engine that records the reads sent through it (and sends them on)."""

    def __init__(self, engine: FalkorDBEngine) -> None:
        self.engine = engine
        self.sent: list[Query] = []

    async def read(self, operation: str, query: str, params: Any = None) -> list[Row]:
        self.sent.append((query, dict(params or {})))
        return await self.engine.read(operation, query, params)


async def page_queries(engine: FalkorDBEngine) -> list[Query]:
    """The window queries of PAGES consecutive pages in each sort order, as the server
    sends them once it has learnt the keys' density (a first walk teaches it)."""
    recorder = Recorder(engine)
    queries: list[Query] = []
    for sort in SORTS:
        for walk in range(2):
            recorder.sent = []
            after = None
            for _ in range(PAGES):
                _, keys = await catalog.tracks_page(
                    recorder,  # type: ignore[arg-type]
                    q.TrackFilter(),
                    sort,
                    "ASC",
                    after,
                    51,
                    q.PAGE_RELATIONS,
                )
                after = keys[49]
            if walk:
                queries += [(text, p) for text, p in recorder.sent if "AS low" not in text]
    return queries


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(args: argparse.Namespace, root: Path) -> None:
    servers: dict[str, tuple[embedded.EmbeddedServer, FalkorDBEngine]] = {}
    try:
        print("loading:")
        for index, (label, allocator, compacted) in enumerate(DATABASES):
            server = embedded.ensure_server(root / str(index), allocator=allocator)
            engine = FalkorDBEngine.from_socket(server.socket_path, GRAPH_NAME)
            servers[label] = (server, engine)
            await migrate(engine)
            started = time.perf_counter()
            await _load.load(engine, _load.catalogue(args.tracks))
            seconds = time.perf_counter() - started
            _server.settle_persistence(server)
            print(
                f"  {label}: {args.tracks:,} tracks in {seconds:.1f} s, "
                f"server RSS {rss_mb(server.pid):.0f} MB",
                flush=True,
            )
            if compacted:
                done = embedded.compact(server.socket_path)
                print(
                    f"    compacted in {done.seconds:.2f} s, "
                    f"server RSS {rss_mb(server.pid):.0f} MB",
                    flush=True,
                )
        queries = {label: await page_queries(engine) for label, (_, engine) in servers.items()}
        samples: dict[str, list[float]] = {label: [] for label in servers}
        labels = list(servers)
        for turn in range(args.rounds):
            for label in labels if turn % 2 == 0 else labels[::-1]:
                samples[label].append(await median_ms(servers[label][1], queries[label]))
        base = statistics.median(samples["libc, compacted"])
        print(
            f"\n{args.tracks:,} tracks, the server's queries of {len(SORTS) * PAGES} pages, "
            f"{args.rounds} alternating rounds, median ms:"
        )
        for label in labels:
            value = statistics.median(samples[label])
            print(f"  {label:22} {value:6.2f}   {value / base:.2f}x libc compacted")
    finally:
        for server, engine in servers.values():
            await engine.close()
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    if args.tracks < 51 * PAGES * 2 or args.rounds < 1:
        parser.error(f"need --tracks >= {51 * PAGES * 2} and --rounds >= 1")
    if embedded.mimalloc_library() is None:
        print("error: mimalloc (cmeel-mimalloc) is not installed", file=sys.stderr)
        return 2
    _server.in_scratch_folder("apollonia-allocator-", lambda root: run(args, root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
