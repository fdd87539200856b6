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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.access_log import SETTINGS, alternate, print_pair, run
from graph.embedded import EmbeddedServer

CONFIGS = {  # the access log on, as in production
    "1 process": SETTINGS["on"] | {"APOLLONIA_WEB_WORKERS": "1"},
    "2 processes": SETTINGS["on"] | {"APOLLONIA_WEB_WORKERS": "2"},
}


async def main(args: argparse.Namespace, data_dir: Path, db: EmbeddedServer) -> None:
    results = await alternate(args, data_dir, db, CONFIGS)
    print_pair(results, "2 processes", "1 process")


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], main, "processes"))
