"""FalkorDB reads: falkordb's own result parser against FalkorDBEngine.read's, side by side.

Run from the repository root:

    .venv/bin/python bench/result_parse.py            # 1,000 tracks, 200 reads each

Loads `--tracks` tracks into a fresh embedded FalkorDB (bench/_load.py), then runs the
same queries `--reads` times each way, alternating: `AsyncGraph.ro_query` (falkordb's
parser, which awaits a coroutine per cell) with its rows made into dicts, and
`FalkorDBEngine.read` (the same command, parsed in plain Python, falling back to
falkordb's parser for nodes, edges and paths). The queries: the nested 50-track page
that `tracks` sends (maps with lists of maps), and `track(id)`'s one-row lookup.
Prints the median wall time of each and their ratio; then the parsers alone on the same
raw reply of each query (no database time). Exits 0.
"""

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from falkordb.asyncio.query_result import QueryResult

from bench import _load
from bench._server import scratch_database
from bench.graphql_nested import GRAPH_NAME, TRACK_CYPHER, page_cypher
from graph.engine.falkordb import FalkorDBEngine, _parse, _rows


async def falkordb_rows(engine: FalkorDBEngine, query: str, params: dict[str, Any]) -> Any:
    result = await engine._graph.ro_query(query, params)
    names = [column[1] for column in result.header]
    return [dict(zip(names, record, strict=True)) for record in result.result_set]


async def main(args: argparse.Namespace, engine: FalkorDBEngine) -> None:
    ids = await _load.fresh_catalogue(engine, args.tracks)
    page_query, page_params = page_cypher("TITLE", None, None)
    rnd = random.Random(5)
    workloads = {
        "nested 50-track page": lambda: (page_query, page_params),
        "track(id)": lambda: (TRACK_CYPHER, {"id": rnd.choice(ids)}),
    }
    print(f"{args.tracks:,} tracks, {args.reads} reads each way, alternating; median ms")
    print(f"  {'query':<22} {'falkordb parser':>16} {'engine.read':>12} {'ratio':>7}")
    for name, make in workloads.items():
        query, params = make()
        assert await engine.read("bench", query, params) == await falkordb_rows(
            engine, query, params
        ), name
        times: dict[str, list[float]] = {"theirs": [], "ours": []}
        for _ in range(args.reads):
            query, params = make()
            for way in ("theirs", "ours"):
                started = time.perf_counter()
                if way == "ours":
                    await engine.read("bench", query, params)
                else:
                    await falkordb_rows(engine, query, params)
                times[way].append((time.perf_counter() - started) * 1000)
        theirs, ours = statistics.median(times["theirs"]), statistics.median(times["ours"])
        print(f"  {name:<22} {theirs:>16.3f} {ours:>12.3f} {theirs / ours:>6.2f}x")
    print("the parsers alone, on one raw reply of each query; median ms")
    for name, make in workloads.items():
        query, params = make()
        command = engine._graph._build_params_header(params) + query
        reply = await engine._graph.execute_command(
            "GRAPH.RO_QUERY", engine.graph_name, command, "--compact"
        )
        times = {"theirs": [], "ours": []}
        for _ in range(args.reads):
            started = time.perf_counter()
            result = QueryResult(engine._graph)
            await result.parse(reply)
            _rows(result)
            times["theirs"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await _parse(engine._graph, reply)
            times["ours"].append((time.perf_counter() - started) * 1000)
        theirs, ours = statistics.median(times["theirs"]), statistics.median(times["ours"])
        print(f"  {name:<22} {theirs:>16.3f} {ours:>12.3f} {theirs / ours:>6.2f}x")


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args(argv)
    with scratch_database("apollonia-bench-parse-") as (_, db):
        engine = FalkorDBEngine.from_socket(db.socket_path, GRAPH_NAME)

        async def go() -> None:
            try:
                await main(args, engine)
            finally:
                await engine.close()

        asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(run())
