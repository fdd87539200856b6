"""Exploration: neighbourhood, sonic path and recommendations on a synthetic catalogue.

Run from the repository root:

    .venv/bin/python bench/explore.py                        # 10k tracks
    .venv/bin/python bench/explore.py --sizes 10000,100000

For each size: a fresh embedded FalkorDB holding n tracks in families of 20 (one
artist, tempo and key each; ten families make a genre), L2-normalised 64-dimensional
audio embeddings clustered by family, stored as the analysis stores them, their 10
nearest neighbours as SIMILAR_TO edges (workers.similarity), public collections and
plays within genres. Bulk-loaded with UNWIND batches of 5k (untimed), then the
milliseconds (p50, p99) of the graph functions behind the GraphQL fields, called one
at a time on random tracks: `neighborhood` at depth 2 (first 50), `sonicPath` with 10
steps between random tracks (NO_PATH answers are counted and timed too), and
`recommendations` with first 50 from a seed track, artist or genre and a target.
"""

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import numpy.typing as npt

from graph import exploration, ids, similarity
from graph.embedded import ensure_server
from graph.engine import GraphEngine
from graph.falkordb_engine import FalkorDBEngine
from graph.migrations import migrate
from workers import similarity as sim
from workers.keys import PITCH_CLASSES, camelot

DIM, K, FAMILY, GENRE_FAMILIES, BATCH = 64, 10, 20, 10, 5000

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


async def timed(runs: int, call: Callable[[int], Awaitable[Any]]) -> tuple[list[float], int]:
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


def report(name: str, times: list[float], no_path: int = 0) -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    extra = f", NO_PATH {no_path}/{len(times)}" if no_path else ""
    print(f"  {name:<34} p50 {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms{extra}")


async def run(n: int, runs: int) -> None:
    rng = np.random.default_rng(1)
    random.seed(1)
    with tempfile.TemporaryDirectory(prefix="apollonia-explore-") as tmp:
        server = ensure_server(tmp)
        engine = FalkorDBEngine.from_socket(server.socket_path, "bench_explore")
        try:
            await migrate(engine)
            print(f"n={n:,}")
            begin = time.perf_counter()
            made = await load(engine, n, rng)
            await engine.wait_for_indexes(120)
            print(f"  loaded in {time.perf_counter() - begin:.1f} s")
            tracks, users = made["tracks"], made["users"]
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

            for _ in range(20):  # warm up
                await exploration.neighborhood(engine, pick.choice(tracks), 2)
            report(
                "neighborhood depth 2, first 50",
                *await timed(runs, lambda i: exploration.neighborhood(engine, a[i], 2, 50)),
            )
            report(
                "neighborhood depth 3, first 200",
                *await timed(runs, lambda i: exploration.neighborhood(engine, a[i], 3, 200)),
            )
            report(
                "sonicPath 10 steps, SIMILARITY",
                *await timed(runs, lambda i: exploration.sonic_path(engine, a[i], b[i], 10)),
            )
            report(
                "sonicPath 10 steps, HARMONIC",
                *await timed(
                    runs, lambda i: exploration.sonic_path(engine, a[i], b[i], 10, "HARMONIC")
                ),
            )
            report("recommendations first 50", *await timed(
                runs, lambda i: exploration.recommendations(
                    engine, seeds(i) | {"first": 50, "target": {"energy": 0.7}},
                    users[i % len(users)])))  # fmt: skip
        finally:
            await engine.close()
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000", help="comma-separated track counts")
    parser.add_argument("--runs", type=int, default=200, help="calls per measurement")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        asyncio.run(run(size, args.runs))


if __name__ == "__main__":
    main()
