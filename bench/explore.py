"""Exploration: neighbourhood, sonic path and recommendations on a synthetic catalogue,
as graph functions and as GraphQL over HTTP.

Run from the repository root:

    .venv/bin/python bench/explore.py                        # 10k tracks
    .venv/bin/python bench/explore.py --sizes 10000,100000

For each size: a fresh embedded FalkorDB holding n tracks in families of 20 (one
artist, tempo and key each; ten families make a genre), L2-normalised 64-dimensional
audio embeddings clustered by family, stored as the analysis stores them, their 10
nearest neighbours as SIMILAR_TO edges (workers.similarity), public collections and
plays within genres. Bulk-loaded with UNWIND batches of 5k (untimed) into the graph
`apollonia` of a temporary data folder, then a real `apollonia serve` subprocess is
started on 127.0.0.1 over that folder (anonymous reads, a query rate limit too high
to refuse anything, no worker). Then, one operation after the other, the milliseconds
(p50, p99) of each operation called one at a time on the same random tracks, first as
the graph function behind the GraphQL field (from this process, through the same
unix socket), then as a GraphQL request over HTTP (one client, one keep-alive
connection; the request is encoded beforehand, the time ends when the whole response
is read): `neighborhood` at depth 2 (first 50) and 3 (first 200), `sonicPath` with 10
steps between random tracks in both modes (NO_PATH answers are counted and timed too),
and `recommendations` with first 50 from a seed track, artist or genre and a target,
as an anonymous caller. The GraphQL documents select what the explorer page
(server/static/explore) shows of each track: id, title, artists' names and three
audio features; and the edges, transitions or reasons of the answer.
"""

import argparse
import asyncio
import contextlib
import math
import random
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import numpy.typing as npt
import orjson

from bench import _client, _server
from bench._server import BenchError, ServerProcess
from graph import exploration, ids, similarity
from graph.embedded import ensure_server
from graph.engine import GraphEngine
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from music.keys import PITCH_CLASSES, camelot
from resolvers.recommendation_input import parse_recommendation_input
from workers import similarity as sim

DIM, K, FAMILY, GENRE_FAMILIES, BATCH = 64, 10, 20, 10, 5000
GRAPH_NAME = "apollonia"

# What the explorer page (server/static/explore/explore.js) asks of each track.
TRACK_FIELDS = "id title artists { name } audioFeatures { camelot energy tempo }"
NEIGHBORHOOD_DOC = (
    "query Neighborhood($id: ID!, $depth: Int!, $first: Int!) {"
    " neighborhood(trackId: $id, depth: $depth, first: $first) {"
    f" nodes {{ distance track {{ {TRACK_FIELDS} }} }} edges {{ source target score }} }} }}"
)
SONIC_PATH_DOC = (
    "query SonicPath($from: ID!, $to: ID!, $mode: SonicPathMode!) {"
    " sonicPath(fromId: $from, toId: $to, steps: 10, mode: $mode) {"
    f" tracks {{ {TRACK_FIELDS} }}"
    " transitions { from { id } to { id } score reasons { feature value description } } } }"
)
RECOMMENDATIONS_DOC = (
    "query Recommendations($input: RecommendationInput!) { recommendations(input: $input) {"
    f" score track {{ {TRACK_FIELDS} }} reasons {{ signal value description }} }} }}"
)

TRACKS_QUERY = (
    "UNWIND $rows AS r CREATE (t:Track {id: r.id, title: r.title, duration: r.duration,"
    " af_tempo: r.tempo, af_key: r.key, af_mode: r.mode, af_camelot: r.camelot,"
    " af_energy: r.energy, af_danceability: r.dance, af_loudness: r.loud,"
    " analysis_status: 'ANALYZED', created_at: 0, updated_at: 0})"
    " SET t.embedding_audio = vecf32(r.vector)"
)
NODES_QUERY = "UNWIND $rows AS r CREATE (n:{label} {{id: r.id, name: r.name, name_key: r.key}})"
LINKS_QUERY = (
    "UNWIND $rows AS r MATCH (a:{a} {{id: r.a}}) MATCH (b:{b} {{id: r.b}}) CREATE (a)-[:{rel}]->(b)"
)
COLLECTIONS_QUERY = (
    "UNWIND $rows AS r MATCH (u:User {id: r.owner})"
    " CREATE (u)-[:OWNS]->(:Collection {id: r.id, name: r.id, public: true})"
)


def embeddings(n: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Genre centres, family centres around them, tracks around those: about three in
    four nearest neighbours fall in the track's family, and the kNN graph is connected."""
    families = -(-n // FAMILY)
    genres = -(-families // GENRE_FAMILIES)
    genre_centres = 0.3 * rng.normal(size=(genres, DIM))
    family_of_genre = np.arange(families) // GENRE_FAMILIES
    centres = genre_centres[family_of_genre] + 0.6 * rng.normal(size=(families, DIM))
    points = centres[np.arange(n) // FAMILY] + 0.8 * rng.normal(size=(n, DIM))
    unit = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    return unit


async def _batches(engine: GraphEngine, query: str, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await engine.write("bench_load", query, {"rows": rows[start : start + BATCH]})


async def load(engine: GraphEngine, n: int, rng: np.random.Generator) -> dict[str, list[str]]:
    """The catalogue; returns the ids of its tracks, artists, genre names and users."""
    matrix = embeddings(n, rng)
    track_ids = [ids.new_id("Track") for _ in range(n)]
    families = -(-n // FAMILY)
    keys = [
        (random.choice(PITCH_CLASSES), random.choice(("major", "minor"))) for _ in range(families)
    ]
    tempos = [random.uniform(70, 170) for _ in range(families)]
    rows = []
    for i, track_id in enumerate(track_ids):
        f = i // FAMILY
        key, mode = keys[f]
        rows.append({
            "id": track_id, "title": f"Track {i}", "duration": random.uniform(120, 420),
            "tempo": tempos[f] + random.uniform(-2, 2), "key": key, "mode": mode,
            "camelot": camelot(key, mode),  # type: ignore[arg-type]
            "energy": random.random(), "dance": random.random(),
            "loud": random.uniform(-20, -4), "vector": [float(x) for x in matrix[i]],
        })  # fmt: skip
    await _batches(engine, TRACKS_QUERY, rows)
    artists = [ids.new_id("Artist") for _ in range(families)]
    genres = [f"Genre {g}" for g in range(-(-families // GENRE_FAMILIES))]
    genre_ids = [ids.new_id("Genre") for _ in genres]
    nodes = NODES_QUERY.format(label="Artist")
    await _batches(engine, nodes, [{"id": a, "name": a, "key": a.lower()} for a in artists])
    nodes = NODES_QUERY.format(label="Genre")
    await _batches(
        engine,
        nodes,
        [
            {"id": g, "name": name, "key": name.lower()}
            for g, name in zip(genre_ids, genres, strict=True)
        ],
    )
    by = [{"a": t, "b": artists[i // FAMILY]} for i, t in enumerate(track_ids)]
    await _batches(engine, LINKS_QUERY.format(a="Track", b="Artist", rel="BY"), by)
    in_genre = [
        {"a": t, "b": genre_ids[i // FAMILY // GENRE_FAMILIES]} for i, t in enumerate(track_ids)
    ]
    await _batches(engine, LINKS_QUERY.format(a="Track", b="Genre", rel="IN_GENRE"), in_genre)

    begin = time.perf_counter()
    edges, method = sim.top_k(matrix, track_ids, K, min_score=-1.0)
    print(f"  {len(edges):,} edges ({method}) in {time.perf_counter() - begin:.1f} s", end="")
    begin = time.perf_counter()
    await similarity.write_edges(engine, edges, method)
    print(f", written in {time.perf_counter() - begin:.1f} s")

    users = [ids.new_id("User") for _ in range(max(1, n // 500))]
    await _batches(
        engine, "UNWIND $rows AS r CREATE (:User {id: r.id})", [{"id": u} for u in users]
    )
    span = FAMILY * GENRE_FAMILIES
    collections, contains, plays = [], [], []
    for _c in range(max(1, n // 100)):
        cid, start = ids.new_id("Collection"), random.randrange(0, n, span)
        collections.append({"id": cid, "owner": random.choice(users)})
        for t in random.sample(track_ids[start : start + span], 20):
            contains.append({"a": cid, "b": t})
    for user in users:
        start = random.randrange(0, n, span)
        plays += [{"a": user, "b": t} for t in random.sample(track_ids[start : start + span], 50)]
    await _batches(engine, COLLECTIONS_QUERY, collections)
    await _batches(engine, LINKS_QUERY.format(a="Collection", b="Track", rel="CONTAINS"), contains)
    await _batches(engine, LINKS_QUERY.format(a="User", b="Track", rel="PLAYED"), plays)
    return {"tracks": track_ids, "artists": artists, "genres": genres, "users": users}


Timing = tuple[list[float], int]  # milliseconds of each run, how many ended in NO_PATH


async def timed(runs: int, call: Callable[[int], Awaitable[Any]]) -> Timing:
    """Milliseconds of each run, and how many ended in NO_PATH."""
    times, no_path = [], 0
    for i in range(runs):
        begin = time.perf_counter()
        try:
            await call(i)
        except exploration.NoPathError:
            no_path += 1
        times.append((time.perf_counter() - begin) * 1000)
    return times, no_path


_LENGTH_RE = re.compile(rb"content-length:\s*(\d+)")


class Http:
    """One keep-alive HTTP/1.1 connection to the server, one GraphQL request at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> "Http":
        self.reader, self.writer = await asyncio.open_connection(_client.HOST, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()

    def request(self, document: str, variables: dict[str, Any]) -> bytes:
        body = orjson.dumps({"query": document, "variables": variables})
        return _client.http_request(self.port, body)

    async def send(self, request: bytes) -> tuple[bytes, bytes]:
        """The status line and headers, and the body, of the answer to `request`."""
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = _LENGTH_RE.search(head.lower())
        if length is None:
            raise BenchError("a response without Content-Length")
        return head, await self.reader.readexactly(int(length.group(1)))

    async def timed(self, requests: list[bytes]) -> Timing:
        """Milliseconds of each request (sent as encoded, until the whole answer is
        read), and how many were answered NO_PATH; any other error stops the bench."""
        times, no_path = [], 0
        for request in requests:
            begin = time.perf_counter()
            head, body = await self.send(request)
            times.append((time.perf_counter() - begin) * 1000)
            no_path += check(head, body)
        return times, no_path


def check(head: bytes, body: bytes) -> bool:
    """Whether a GraphQL answer is NO_PATH; BenchError for any other error."""
    errors = orjson.loads(body).get("errors") if head.startswith(b"HTTP/1.1 200") else None
    if head.startswith(b"HTTP/1.1 200") and not errors:
        return False
    if errors and all(e.get("extensions", {}).get("code") == "NO_PATH" for e in errors):
        return True
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    raise BenchError(f"GraphQL request failed: {status} {body[:500].decode(errors='replace')}")


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile the graph-level figures have always used."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def ratio(a: float, b: float) -> str:
    return "-" if not b or math.isnan(a) else f"{a / b:.2f}x"


def report(n: int, rows: list[tuple[str, Timing, Timing]]) -> None:
    """One table: each operation as a graph function and over HTTP, and their ratio."""
    print()
    print(f"n={n:,}, milliseconds, {len(rows[0][1][0])} calls each, one at a time")
    print(f"  {'':34}{'graph function':>18}{'GraphQL over HTTP':>20}{'ratio HTTP/graph':>18}")
    print(f"  {'':34}{'p50':>9}{'p99':>9}{'p50':>10}{'p99':>10}{'p50':>9}{'p99':>9}")
    notes = []
    for name, (graph, graph_no_path), (http, http_no_path) in rows:
        g50, g99 = percentile(graph, 50), percentile(graph, 99)
        h50, h99 = percentile(http, 50), percentile(http, 99)
        print(
            f"  {name:<34}{g50:9.2f}{g99:9.2f}{h50:10.2f}{h99:10.2f}"
            f"{ratio(h50, g50):>9}{ratio(h99, g99):>9}"
        )
        if graph_no_path or http_no_path:
            notes.append(
                f"  {name}: NO_PATH {graph_no_path}/{len(graph)} as a function, "
                f"{http_no_path}/{len(http)} over HTTP"
            )
    for note in notes:
        print(note)


def start_server(data_dir: Path) -> ServerProcess:
    """`apollonia serve` over `data_dir`'s graph: quiet and without a worker unless the
    environment says otherwise; anonymous reads and no rate limit in any case (the
    requests carry no token, and the bench measures the API, not the limiter)."""
    defaults = {"LOG_LEVEL": "warning", "APOLLONIA_RUN_WORKER": "false"}
    overrides = {
        "GRAPH_URL": f"falkordb-embedded://{data_dir}",
        "GRAPH_NAME": GRAPH_NAME,
        "APOLLONIA_ALLOW_ANONYMOUS_READ": "true",
        "APOLLONIA_RATE_LIMIT_QUERY": "1000000000/minute",
    }
    # /health/ready: /health would wait for a worker as well.
    return _server.start_server(data_dir, defaults, overrides, ready_path="/health/ready")


async def run(n: int, runs: int) -> None:
    rng = np.random.default_rng(1)
    random.seed(1)
    with tempfile.TemporaryDirectory(prefix="apollonia-explore-") as tmp:
        data_dir = Path(tmp)
        db = ensure_server(data_dir)
        engine = FalkorDBEngine.from_socket(db.socket_path, GRAPH_NAME)
        server: ServerProcess | None = None
        try:
            await migrate(engine)
            print(f"n={n:,}")
            begin = time.perf_counter()
            made = await load(engine, n, rng)
            await engine.wait_for_indexes(120)
            print(f"  loaded in {time.perf_counter() - begin:.1f} s")
            server = start_server(data_dir)
            print(f"  server {server.url} (pid {server.pid})", flush=True)
            tracks = made["tracks"]
            pick = random.Random(2)
            a = [pick.choice(tracks) for _ in range(runs)]
            b = [pick.choice(tracks) for _ in range(runs)]

            def seeds(i: int) -> dict[str, Any]:
                kind = i % 3
                if kind == 0:
                    return {"seed_track_ids": [a[i]]}
                if kind == 1:
                    return {"seed_artist_ids": [pick.choice(made["artists"])]}
                return {"seed_genres": [pick.choice(made["genres"])], "seed_track_ids": [a[i]]}

            inputs = [seeds(i) | {"first": 50, "target": {"energy": 0.7}} for i in range(runs)]
            checked = [parse_recommendation_input(values, None) for values in inputs]

            def camel(values: dict[str, Any]) -> dict[str, Any]:
                return {
                    re.sub(r"_(\w)", lambda m: m.group(1).upper(), k): v for k, v in values.items()
                }

            def neighborhood(depth: int, first: int) -> tuple[Any, list[dict[str, Any]]]:
                return (
                    lambda i: exploration.neighborhood(engine, a[i], depth, first),
                    [{"id": a[i], "depth": depth, "first": first} for i in range(runs)],
                )

            def sonic_path(mode: str) -> tuple[Any, list[dict[str, Any]]]:
                return (
                    lambda i: exploration.sonic_path(engine, a[i], b[i], 10, mode),
                    [{"from": a[i], "to": b[i], "mode": mode} for i in range(runs)],
                )

            operations = [
                ("neighborhood depth 2, first 50", NEIGHBORHOOD_DOC, *neighborhood(2, 50)),
                ("neighborhood depth 3, first 200", NEIGHBORHOOD_DOC, *neighborhood(3, 200)),
                ("sonicPath 10 steps, SIMILARITY", SONIC_PATH_DOC, *sonic_path("SIMILARITY")),
                ("sonicPath 10 steps, HARMONIC", SONIC_PATH_DOC, *sonic_path("HARMONIC")),
                (
                    "recommendations first 50",
                    RECOMMENDATIONS_DOC,
                    lambda i: exploration.recommendations(engine, checked[i], None),
                    [{"input": camel(inputs[i])} for i in range(runs)],
                ),
            ]
            rows = []
            for _ in range(20):  # warm up
                await exploration.neighborhood(engine, pick.choice(tracks), 2)
            for name, document, call, variables in operations:
                graph = await timed(runs, call)
                # A new connection each time: the server closes one idle for 5 s.
                async with Http(server.port) as http:
                    requests = [http.request(document, v) for v in variables]
                    for request in requests[:10]:  # warm up: the document cache, the path
                        check(*await http.send(request))
                    over_http = await http.timed(requests)
                rows.append((name, graph, over_http))
                print(f"  measured {name}", flush=True)
            report(n, rows)
        finally:
            # The server first: it must not outlive the database it uses.
            if server is not None:
                server.stop()
            await engine.close()
            db.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000", help="comma-separated track counts")
    parser.add_argument("--runs", type=int, default=200, help="calls per measurement")
    args = parser.parse_args()
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            asyncio.run(run(size, args.runs))
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
