"""Similarity edges: compute top-10 neighbours of synthetic embeddings and store them.

Run from the repository root:

    .venv/bin/python bench/similarity.py                       # 10k tracks (< 2 min)
    .venv/bin/python bench/similarity.py --sizes 10000,100000

For each size: n unit vectors of dimension 64 drawn around 200 Gaussian cluster centres;
seconds to compute the edges (exact up to workers.similarity.EXACT_MAX, HNSW beyond when
hnswlib is installed); seconds to write them into a fresh embedded FalkorDB (tracks are
created first, untimed) and edges/s; recall@10 of the method used against exact search
(every item up to 10k, a sample of 1,000 queries beyond); and the median milliseconds of
one incremental update (one new track's neighbours) over 50 runs.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import numpy.typing as npt

from graph import catalog_writes, similarity
from graph.embedded import ensure_server
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from workers import similarity as sim

DIM = 64
CLUSTERS = 200
K = 10
RECALL_SAMPLE = 1000
INCREMENTAL_RUNS = 50


def embeddings(n: int, seed: int = 0) -> npt.NDArray[np.float32]:
    """n clustered unit vectors: a cluster centre plus Gaussian noise, normalised."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLUSTERS, DIM)).astype(np.float32)
    points = centres[rng.integers(0, CLUSTERS, n)] + 0.6 * rng.normal(size=(n, DIM))
    points = points.astype(np.float32)
    unit: npt.NDArray[np.float32] = points / np.linalg.norm(points, axis=1, keepdims=True)
    return unit


def recall(
    matrix: npt.NDArray[np.float32], found: npt.NDArray[np.int64], sample: npt.NDArray[np.int64]
) -> float:
    """recall@K of `found` (labels per row of `sample`) against exact search."""
    labels, _ = sim.exact_search(matrix, K + 1, queries=matrix[sample], block_rows=256)
    hits = 0
    for row, query in enumerate(sample):
        truth = [int(x) for x in labels[row] if x != query][:K]
        hits += len(set(truth) & {int(x) for x in found[row]})
    return hits / (len(sample) * K)


def timed_incremental(matrix: npt.NDArray[np.float32], ids: list[str], index: Any | None) -> float:
    """Median milliseconds of one new track's neighbours (the track is the last row)."""
    rng = np.random.default_rng(1)
    times = []
    for i in rng.integers(0, len(ids), INCREMENTAL_RUNS):
        start = time.perf_counter()
        sim.incremental(matrix[i], matrix, ids, K, source=ids[i], index=index)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def write(ids_count: int, rows: list[sim.EdgeRow], method: str) -> tuple[float, int]:
    """Create the tracks in a fresh embedded FalkorDB, then time writing the edges."""
    with tempfile.TemporaryDirectory(prefix="apollonia-sim-") as tmp:
        server = ensure_server(tmp)
        engine = FalkorDBEngine.from_socket(server.socket_path, "bench_similarity")
        try:
            await migrate(engine)
            track_ids: list[str] = []
            for start in range(0, ids_count, catalog_writes.MAX_IMPORT):
                batch = [
                    {"title": f"Track {i}"}
                    for i in range(start, min(start + catalog_writes.MAX_IMPORT, ids_count))
                ]
                created = await catalog_writes.create_tracks(engine, batch)
                track_ids.extend(r["id"] for r in created)
            by_index = {f"t{i}": track_id for i, track_id in enumerate(track_ids)}
            mapped = [
                {
                    "source": by_index[r["source"]],
                    "target": by_index[r["target"]],
                    "score": r["score"],
                }
                for r in rows
            ]
            begin = time.perf_counter()
            written = await similarity.write_edges(engine, mapped, method)
            seconds = time.perf_counter() - begin
            assert await similarity.edge_count(engine, track_ids) == written
            return seconds, written
        finally:
            await engine.close()
            server.stop()


def run(n: int) -> None:
    matrix = embeddings(n)
    ids = [f"t{i}" for i in range(n)]
    begin = time.perf_counter()
    rows, method = sim.top_k(matrix, ids, K, min_score=0.0)
    compute = time.perf_counter() - begin
    print(f"n={n:,} dim={DIM} k={K} method={method}")
    print(f"  compute: {compute:.2f} s ({len(rows):,} edges)")

    seconds, written = asyncio.run(write(n, rows, method))
    print(f"  write:   {seconds:.2f} s, {written:,} edges, {written / seconds:,.0f} edges/s")

    rng = np.random.default_rng(2)
    if n <= 10_000:
        sample = np.arange(n, dtype=np.int64)
    else:
        sample = np.sort(rng.choice(n, RECALL_SAMPLE, replace=False)).astype(np.int64)
    index = sim.build_index(matrix) if sim.hnsw_available() else None
    if method == "hnsw" and index is not None:
        found, _ = sim.hnsw_search(index, matrix, K)
    else:
        found, _ = sim.exact_search(matrix, K)
    score = recall(matrix, found[sample], sample)
    print(f"  recall@{K} ({method}, {len(sample):,} queries): {score:.4f}")
    if method == "exact" and index is not None:
        approx, _ = sim.hnsw_search(index, matrix, K)
        print(f"  recall@{K} (hnsw, for comparison): {recall(matrix, approx[sample], sample):.4f}")

    print(f"  incremental (exact pass): {timed_incremental(matrix, ids, None):.2f} ms median")
    if index is not None:
        print(f"  incremental (hnsw query): {timed_incremental(matrix, ids, index):.2f} ms median")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000", help="comma-separated item counts")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size)


if __name__ == "__main__":
    main()
