"""Similarity edges between tracks: batch writes, per-source replacement and reads.

The neighbour rows come from workers/similarity.py; this module only stores and reads
them. Writes go in batches of at most WRITE_BATCH rows, one transaction each.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.queries import similarity as q

WRITE_BATCH = 5000
METHODS = frozenset({"exact", "hnsw", "vector_index"})
MAX_FIRST = 100


def _check(rows: Sequence[Mapping[str, Any]], method: str) -> list[dict[str, Any]]:
    """Validated rows with one row per (source, target) pair (the last one wins)."""
    if method not in METHODS:
        raise ValueError(f"unknown similarity method {method!r}")
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        source, target, score = row["source"], row["target"], float(row["score"])
        if source == target:
            raise ValueError(f"track {source} cannot be similar to itself")
        if score != score:  # NaN
            raise ValueError("similarity score is NaN")
        unique[(source, target)] = {"source": source, "target": target, "score": score}
    return list(unique.values())


async def write_edges(engine: GraphEngine, rows: Sequence[Mapping[str, Any]], method: str) -> int:
    """Create or update SIMILAR_TO edges from `{source, target, score}` rows.

    Rows whose ends do not exist are skipped. Returns the number of edges written.
    """
    checked = _check(rows, method)
    now = now_ms()
    batches = [
        {"rows": checked[i : i + WRITE_BATCH], "method": method, "now": now}
        for i in range(0, len(checked), WRITE_BATCH)
    ]
    result = await engine.write_batches("similarity_write", q.WRITE_SIMILAR_QUERY, batches)
    return sum(int(r["written"]) for r in result)


async def replace_edges(
    engine: GraphEngine,
    track_ids: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    method: str,
) -> int:
    """Replace the outgoing SIMILAR_TO edges of `track_ids` with `rows`.

    Each query deletes a batch of sources' old edges and writes their new ones in one
    transaction, so between queries every track keeps a full set of edges. Every row's
    source must be in `track_ids`; a source without rows just loses its edges.
    Returns the number of edges written.
    """
    checked = _check(rows, method)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    wanted = set(track_ids)
    for row in checked:
        if row["source"] not in wanted:
            raise ValueError(f"row source {row['source']} is not among the tracks replaced")
        by_source[row["source"]].append(row)
    now = now_ms()
    batches: list[dict[str, Any]] = []
    sources: list[str] = []
    batch_rows: list[dict[str, Any]] = []
    for track_id in dict.fromkeys(track_ids):
        own = by_source.get(track_id, [])
        if sources and len(batch_rows) + len(own) > WRITE_BATCH:
            batches.append({"sources": sources, "rows": batch_rows, "method": method, "now": now})
            sources, batch_rows = [], []
        sources.append(track_id)
        batch_rows.extend(own)
    if sources:
        batches.append({"sources": sources, "rows": batch_rows, "method": method, "now": now})
    result = await engine.write_batches("similarity_replace", q.REPLACE_SIMILAR_QUERY, batches)
    return sum(int(r["written"]) for r in result)


async def neighbours(
    engine: GraphEngine,
    track_ids: Sequence[str],
    first: int = 10,
    min_score: float = 0.0,
) -> list[list[Row]]:
    """The `first` most similar tracks of each track, best first, in one query.

    Each entry is `{track, score, method, computed_at}`; the result lines up with
    `track_ids` (an empty list for a track without edges or that does not exist).
    """
    if not 0 < first <= MAX_FIRST:
        raise ValueError(f"'first' must be between 1 and {MAX_FIRST}")
    ids = list(dict.fromkeys(track_ids))
    rows = await engine.read(
        "similarity_neighbours",
        q.NEIGHBOURS_QUERY,
        {"ids": ids, "first": first, "min_score": float(min_score)},
    )
    found = {r["id"]: list(r["neighbours"]) for r in rows}
    return [found.get(track_id, []) for track_id in track_ids]


async def edge_count(engine: GraphEngine, track_ids: Sequence[str]) -> int:
    """How many SIMILAR_TO edges leave `track_ids`."""
    rows = await engine.read(
        "similarity_count", q.COUNT_SIMILAR_QUERY, {"ids": list(dict.fromkeys(track_ids))}
    )
    return int(rows[0]["edges"]) if rows else 0
