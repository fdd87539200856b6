"""`track(id)` with one API process and with two (`apollonia serve --workers N`), side
by side over one catalogue.

Run from the repository root:

    .venv/bin/python bench/api_processes.py                  # 2,000 tracks, 3 rounds
    .venv/bin/python bench/api_processes.py --rounds 5 --duration 5

Loads `--tracks` tracks into a fresh embedded FalkorDB, then for each of `--rounds`
rounds, in alternating order, starts `apollonia serve` over it with
APOLLONIA_WEB_WORKERS=1 and =2 (the access log on, JSON lines, as in production) and
measures `track(id)` at `--concurrency` closed-loop clients for `--duration` seconds
after a warm-up (bench/_client.py's lean client, 127.0.0.1 only; the load generator
shares the machine's cores with the server and the database). Prints each run, the
medians, and the ratio 2/1 of requests/s: of the medians, and per round (paired).
Exits 0; 2 if it could not run.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.access_log import SETTINGS, alternate, medians, rate, run
from graph.embedded import EmbeddedServer

CONFIGS = {  # the access log on, as in production
    "1": SETTINGS["on"] | {"APOLLONIA_WEB_WORKERS": "1"},
    "2": SETTINGS["on"] | {"APOLLONIA_WEB_WORKERS": "2"},
}


async def main(args: argparse.Namespace, data_dir: Path, db: EmbeddedServer) -> None:
    results = await alternate(args, data_dir, db, CONFIGS)
    m = medians(results)
    one, two = m["1"], m["2"]
    # Each round measures both back to back: their ratio is paired, and the machine's
    # drift from one round to the next cancels out of it.
    paired = [rate(b) / rate(a) for a, b in zip(results["1"], results["2"], strict=True)]
    print(
        f"median req/s: 1 process {one['rate']:,.0f}, 2 processes {two['rate']:,.0f};"
        f" 2/1 {two['rate'] / one['rate']:.2f}x; per round 2/1 "
        + ", ".join(f"{r:.2f}x" for r in paired)
        + f", median {statistics.median(paired):.2f}x"
    )
    print(
        f"median p50 / p99 ms: 1 process {one['p50']:.2f} / {one['p99']:.2f},"
        f" 2 processes {two['p50']:.2f} / {two['p99']:.2f}"
    )
    print(
        f"median server CPU per request (all its processes): 1 process {one['cpu']:.3f} ms,"
        f" 2 processes {two['cpu']:.3f} ms"
    )


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], main, "processes"))
