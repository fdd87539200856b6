"""One new track joining the similarity graph, the way the analysis job does it.

Run from the repository root:

    .venv/bin/python bench/incremental.py                      # 10k and 100k tracks

For each size: n clustered unit vectors (bench/similarity.py) stored on tracks in a fresh
embedded FalkorDB with the vector index, then 50 times: a new track's top-10 through the
vector index (`analysis_store.nearest`), and the whole update the job makes (its edges
replaced, the reverse edges merged, the neighbours trimmed back to 10). Medians and p99
in milliseconds, with the exact numpy pass over the same vectors side by side.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.similarity import embeddings
from graph import analysis_store, similarity
from graph.embedded import ensure_server
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from workers import similarity as sim

K = 10
RUNS = 50
BATCH = 5000


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


async def run(n: int, engine: FalkorDBEngine) -> None:
    matrix = embeddings(n + RUNS)
    ids = [f"trk_{i:026d}" for i in range(n + RUNS)]
    query = (
        "UNWIND $rows AS row CREATE (t:Track {id: row.id, title: row.id, "
        f"embedding_audio: {engine.dialect.vector_value('row.vector')}}})"
    )
    started = time.perf_counter()
    for i in range(0, n + RUNS, BATCH):
        rows = [
            {"id": ids[j], "vector": matrix[j].tolist()} for j in range(i, min(i + BATCH, n + RUNS))
        ]
        await engine.write("bench_load", query, {"rows": rows})
    await engine.wait_for_indexes(300)
    print(f"{n:,} tracks: loaded and indexed in {time.perf_counter() - started:.1f} s")
    query_ms: list[float] = []
    update_ms: list[float] = []
    exact_ms: list[float] = []
    recall_hits = 0
    for r in range(RUNS):
        i = n + r
        vector = matrix[i].tolist()
        t0 = time.perf_counter()
        found = await analysis_store.nearest(engine, ids[i], vector, K)
        t1 = time.perf_counter()
        out = [{"source": ids[i], "target": other, "score": s} for other, s in found]
        back = [{"source": other, "target": ids[i], "score": s} for other, s in found]
        await similarity.replace_edges(engine, [ids[i]], out, "vector_index")
        await similarity.write_edges(engine, back, "vector_index")
        await analysis_store.trim_edges(engine, [other for other, _ in found], K)
        t2 = time.perf_counter()
        truth = sim.incremental(matrix[i], matrix[:n], ids[:n], K, source=ids[i])
        t3 = time.perf_counter()
        query_ms.append((t1 - t0) * 1000)
        update_ms.append((t2 - t0) * 1000)
        exact_ms.append((t3 - t2) * 1000)
        recall_hits += len({o for o, _ in found} & {row["target"] for row in truth})
    print(
        f"  vector index top-{K}: p50 {statistics.median(query_ms):.2f} ms, "
        f"p99 {p99(query_ms):.2f} ms; recall@{K} vs exact {recall_hits / (RUNS * K):.3f}"
    )
    print(
        f"  whole update (query + edges both ways + trim): p50 "
        f"{statistics.median(update_ms):.2f} ms, p99 {p99(update_ms):.2f} ms"
    )
    print(
        f"  exact numpy pass over the same {n:,} vectors: p50 {statistics.median(exact_ms):.2f} ms"
    )
    edges = await engine.read("bench", "MATCH ()-[r:SIMILAR_TO]->() RETURN count(r) AS n")
    print(f"  edges written: {edges[0]['n']}")


async def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = ensure_server(folder)
        try:
            for n in sizes:
                engine = FalkorDBEngine.from_socket(server.socket_path, f"bench_inc_{n}")
                await migrate(engine)
                try:
                    await run(n, engine)
                finally:
                    await engine.delete_graph()
                    await engine.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    np.random.seed(0)
    asyncio.run(main([int(s) for s in args.sizes.split(",")]))
