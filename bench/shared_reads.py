"""Reads by key shared between concurrent requests against a read for each request:
`track(id)` with APOLLONIA_SHARED_READS on (the default) and off, side by side.

Run from the repository root:

    .venv/bin/python bench/shared_reads.py                  # 2,000 tracks, 3 rounds
    .venv/bin/python bench/shared_reads.py --rounds 5 --duration 5

Loads `--tracks` tracks into a fresh embedded FalkorDB, then for each configuration
counts the graph reads per `track(id)` request at `--concurrency` clients (the server's
`apollonia_graph_queries_total` before and after a 2 s run), and for each of `--rounds`
rounds, in alternating order, starts `apollonia serve` over the catalogue (the access
log on, JSON lines, as in production) and measures `track(id)` at `--concurrency`
closed-loop clients for `--duration` seconds after a warm-up (bench/_client.py's lean
client, 127.0.0.1 only). Prints each run, the medians, and the ratio shared / own of
requests/s: of the medians, and per round (paired). Exits 0; 2 if it could not run.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _client
from bench.access_log import SETTINGS, alternate, load, print_pair, run, start_with
from bench.graphql_nested import graph_queries, track_workload
from graph.embedded import EmbeddedServer

CONFIGS = {
    "shared reads": SETTINGS["on"] | {"APOLLONIA_SHARED_READS": "true"},
    "a read each": SETTINGS["on"] | {"APOLLONIA_SHARED_READS": "false"},
}


async def reads_per_request(
    data_dir: Path, env: dict[str, str], ids: list[str], concurrency: int
) -> float:
    """Graph reads per `track(id)` request at `concurrency` clients, over 2 s."""
    server = start_with(data_dir, env)
    try:
        requests = [_client.http_request(server.port, b) for b in track_workload(ids).bodies()]
        await _client.run_raw("warm-up", server.port, requests, concurrency, 0.5, 10**6)
        before = graph_queries(server.url)
        done = await _client.run_raw("count", server.port, requests, concurrency, 2.0, 10**6)
        return (graph_queries(server.url) - before) / done.count
    finally:
        server.stop(keep_database=True)


async def main(args: argparse.Namespace, data_dir: Path, db: EmbeddedServer) -> None:
    ids = await load(db, args.tracks)
    for label, env in CONFIGS.items():
        reads = await reads_per_request(data_dir, env, ids, args.concurrency)
        print(f"{label}: {reads:.3f} graph reads per track(id) request")
    results = await alternate(args, data_dir, db, CONFIGS, ids)
    print_pair(results, "shared reads", "a read each")


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], main, "shared"))
