"""A response in one write against uvicorn's two: `track(id)` with the server's
coalescing HTTP protocol (server/http_protocol.py) and with uvicorn's own, side by side.

Run from the repository root:

    .venv/bin/python bench/http_writes.py                  # 2,000 tracks, 3 rounds
    .venv/bin/python bench/http_writes.py --rounds 5 --duration 5

Loads `--tracks` tracks into a fresh embedded FalkorDB, then for each configuration
(APOLLONIA_COALESCE_WRITES=true, the default, and =false) counts the TCP segments with
data that one kept-alive client connection receives per `track(id)` answer (Linux's
TCP_INFO `tcpi_data_segs_in`, over 200 requests), and for each of `--rounds` rounds, in
alternating order, starts `apollonia serve` over the catalogue (the access log on, JSON
lines, as in production) and measures `track(id)` at `--concurrency` closed-loop clients
for `--duration` seconds after a warm-up (bench/_client.py's lean client, 127.0.0.1
only). Prints each run, the medians, and the ratio one write / two writes of requests/s:
of the medians, and per round (paired). Exits 0; 2 if it could not run.
"""

import argparse
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _client
from bench.access_log import SETTINGS, alternate, load, print_pair, run, start_with
from bench.graphql_nested import track_workload
from graph.embedded import EmbeddedServer

CONFIGS = {
    "one write": SETTINGS["on"] | {"APOLLONIA_COALESCE_WRITES": "true"},
    "uvicorn's two": SETTINGS["on"] | {"APOLLONIA_COALESCE_WRITES": "false"},
}
ANSWERS = 200


def segments_per_answer(data_dir: Path, env: dict[str, str], ids: list[str]) -> float:
    """Data segments one connection receives per `track(id)` answer, on average."""
    server = start_with(data_dir, env)
    try:
        requests = [_client.http_request(server.port, b) for b in track_workload(ids).bodies()]
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            before = _client.data_segments_in(sock)
            for n in range(ANSWERS):
                sock.sendall(requests[n % len(requests)])
                answer = b""
                while b"\r\n\r\n" not in answer:
                    answer += sock.recv(65536)
                head, _, body = answer.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += sock.recv(65536)
            return (_client.data_segments_in(sock) - before) / ANSWERS
    finally:
        server.stop(keep_database=True)


async def main(args: argparse.Namespace, data_dir: Path, db: EmbeddedServer) -> None:
    ids = await load(db, args.tracks)
    for label, env in CONFIGS.items():
        segments = segments_per_answer(data_dir, env, ids)
        print(f"{label}: {segments:.2f} TCP segments with data per track(id) answer")
    results = await alternate(args, data_dir, db, CONFIGS, ids)
    print_pair(results, "one write", "uvicorn's two")


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], main, "writes"))
