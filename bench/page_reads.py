"""What a track page reads, by sort order, filter and catalogue size: nodes and queries.

Run from the repository root:

    .venv/bin/python bench/page_reads.py --tracks 1000,100000

For each size: a fresh embedded FalkorDB, the synthetic catalogue of bench/_load.py,
then 10 consecutive 50-track pages (with artists, album and genres, as the API asks)
in every sort order, both directions, unfiltered and filtered on one genre. Prints per
page the nodes the index windows read (the `scanned` of graph/pages.py), the graph
queries sent and the median time in this process. Nodes read and queries are exact
counts, unaffected by a busy machine; the times are not.
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _load
from bench._server import scratch_database
from graph import catalog
from graph.engine import Row
from graph.engine.falkordb import FalkorDBEngine
from graph.queries.catalog import PAGE_RELATIONS, TrackFilter

PAGES = 10
SIZE = 50
SORTS = ("TITLE", "CREATED_AT", "YEAR", "DURATION")
FILTERS = {"all": TrackFilter(), "genre": TrackFilter(genre_keys=["jazz"])}

Key = tuple[str, str, str]


class CountingEngine(FalkorDBEngine):
    """Counts the page queries and the nodes their windows read."""

    scanned = 0
    queries = 0

    async def read(self, operation: str, query: str, params: Any = None) -> list[Row]:
        rows = await super().read(operation, query, params)
        if operation == "tracks_page":
            self.queries += 1
            if rows and "scanned" in rows[0]:
                self.scanned += int(rows[0]["scanned"])
        return rows


async def measure(tracks: int) -> dict[Key, tuple[float, float, float]]:
    with scratch_database("apollonia-page-reads-") as (_, server):
        engine = CountingEngine.from_socket(server.socket_path, "bench")
        assert isinstance(engine, CountingEngine)
        await _load.fresh_catalogue(engine, tracks)
        out: dict[Key, tuple[float, float, float]] = {}
        for name, flt in FILTERS.items():
            for sort in SORTS:
                for direction in ("ASC", "DESC"):
                    await catalog.tracks_page(engine, flt, sort, direction, None, SIZE + 1)  # type: ignore[arg-type]
                    engine.scanned = engine.queries = 0
                    after = None
                    times: list[float] = []
                    for _ in range(PAGES):
                        started = time.perf_counter()
                        _, keys = await catalog.tracks_page(
                            engine,
                            flt,
                            sort,
                            direction,  # type: ignore[arg-type]
                            after,
                            SIZE + 1,
                            PAGE_RELATIONS,
                        )
                        times.append((time.perf_counter() - started) * 1000)
                        if len(keys) <= SIZE:
                            break  # the last page of this list
                        after = keys[SIZE - 1]
                    out[(name, sort, direction)] = (
                        engine.scanned / len(times),
                        engine.queries / len(times),
                        statistics.median(times),
                    )
        await engine.close()
        return out


async def main(sizes: list[int]) -> None:
    results = {n: await measure(n) for n in sizes}
    header = "".join(f"{f'{n:,} tracks':>28}" for n in sizes)
    print(f"{'filter':7}{'sort':11}{'dir':5}{header}")
    print(f"{'':23}" + "".join(f"{'nodes  queries       ms':>28}" for _ in sizes))
    for key in results[sizes[0]]:
        cells = "".join(
            f"{results[n][key][0]:13.1f}{results[n][key][1]:8.1f}{results[n][key][2]:7.2f}"
            for n in sizes
        )
        print(f"{key[0]:7}{key[1]:11}{key[2]:5}{cells}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", default="1000,100000", help="catalogue sizes, comma-separated")
    args = parser.parse_args()
    asyncio.run(main([int(n) for n in args.tracks.split(",")]))
