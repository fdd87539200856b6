"""Similarity: exact top-k against brute force, validation, and the SIMILAR_TO edges."""

from typing import Any

import numpy as np
import pytest

from graph import catalog_writes, similarity
from graph.engine import GraphEngine
from workers import similarity as sim


def _unit(n: int, d: int = 16, seed: int = 0) -> np.ndarray[Any, np.dtype[np.float32]]:
    matrix = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _brute(matrix: np.ndarray[Any, Any], k: int) -> list[list[int]]:
    scores = matrix.astype(np.float64) @ matrix.T.astype(np.float64)
    np.fill_diagonal(scores, -np.inf)
    return [list(np.argsort(-row, kind="stable")[:k]) for row in scores]


def _targets(rows: list[sim.EdgeRow], source: str) -> list[str]:
    return [r["target"] for r in rows if r["source"] == source]


def test_exact_top_k_matches_brute_force_across_blocks() -> None:
    matrix = _unit(700)
    ids = [f"t{i}" for i in range(700)]
    labels, scores = sim.exact_search(matrix, 10, block_rows=64)
    assert [list(r) for r in labels] == _brute(matrix, 10)
    assert np.all(np.diff(scores, axis=1) <= 0)
    rows, method = sim.top_k(matrix, ids, 10, min_score=-1.0)
    assert method == "exact"
    assert len(rows) == 7000
    assert all(r["source"] != r["target"] for r in rows)
    assert _targets(rows, "t3") == [f"t{i}" for i in _brute(matrix, 10)[3]]


def test_min_score_is_honoured() -> None:
    matrix = _unit(300)
    ids = [f"t{i}" for i in range(300)]
    rows, _ = sim.top_k(matrix, ids, 10, min_score=0.45)
    assert rows and all(r["score"] >= 0.45 for r in rows)
    everything, _ = sim.top_k(matrix, ids, 10, min_score=-1.0)
    assert len(rows) == sum(r["score"] >= 0.45 for r in everything) < len(everything)


def test_small_inputs_and_k_larger_than_n() -> None:
    assert sim.top_k(_unit(1), ["a"], 10)[0] == []
    rows, _ = sim.top_k(_unit(3), ["a", "b", "c"], 10, min_score=-1.0)
    assert len(rows) == 6


@pytest.mark.skipif(not sim.hnsw_available(), reason="hnswlib is not installed")
def test_hnsw_recall_is_high() -> None:
    matrix = _unit(2000)
    ids = [f"t{i}" for i in range(2000)]
    exact, _ = sim.top_k(matrix, ids, 10, -1.0, "exact")
    approx, method = sim.top_k(matrix, ids, 10, -1.0, "hnsw")
    assert method == "hnsw"
    assert all(r["source"] != r["target"] for r in approx)
    hits = {(r["source"], r["target"]) for r in exact} & {
        (r["source"], r["target"]) for r in approx
    }
    assert len(hits) / len(exact) > 0.95


@pytest.mark.parametrize(
    "bad",
    [
        np.full((4, 8), np.nan, dtype=np.float32),
        np.ones((4,), dtype=np.float32),
        np.ones((4, 8), dtype=np.float32),  # not normalised
    ],
)
def test_bad_matrices_are_rejected(bad: np.ndarray[Any, Any]) -> None:
    with pytest.raises(ValueError):
        sim.top_k(bad, ["a", "b", "c", "d"], 2)


def test_wrong_dimension_and_ids_are_rejected() -> None:
    matrix = _unit(4, d=8)
    with pytest.raises(ValueError, match="dimension"):
        sim.validate(matrix, ["a", "b", "c", "d"], dim=16)
    with pytest.raises(ValueError):
        sim.validate(matrix, ["a", "b", "c"])
    with pytest.raises(ValueError, match="unique"):
        sim.validate(matrix, ["a", "a", "c", "d"])
    with pytest.raises(ValueError, match="shape"):
        sim.incremental(_unit(1, d=7)[0], matrix, ["a", "b", "c", "d"], source="n")
    nan = np.full(8, np.nan, dtype=np.float32)
    with pytest.raises(ValueError, match="NaN"):
        sim.incremental(nan, matrix, ["a", "b", "c", "d"], source="n")


def test_incremental_agrees_with_full_computation() -> None:
    matrix = _unit(500)
    ids = [f"t{i}" for i in range(500)]
    full, _ = sim.top_k(matrix, ids, 10, min_score=0.0)
    new = sim.incremental(matrix[-1], matrix[:-1], ids[:-1], 10, source="t499")
    assert [r["target"] for r in new] == _targets(full, "t499")
    again = sim.incremental(matrix[-1], matrix, ids, 10, source="t499")
    assert again == new
    if sim.hnsw_available():
        index = sim.build_index(matrix)
        approx = sim.incremental(matrix[-1], matrix, ids, 10, source="t499", index=index)
        assert len({r["target"] for r in approx} & set(_targets(full, "t499"))) >= 9


async def _tracks(engine: GraphEngine, n: int) -> list[str]:
    rows = await catalog_writes.create_tracks(engine, [{"title": f"T{i}"} for i in range(n)])
    return [r["id"] for r in rows]


async def test_replace_edges_replaces_and_is_idempotent(engine: GraphEngine) -> None:
    ids = await _tracks(engine, 30)
    matrix = _unit(30, seed=1)
    rows, method = sim.top_k(matrix, ids, 5, min_score=-1.0)
    assert await similarity.write_edges(engine, rows, method) == 150
    assert await similarity.write_edges(engine, rows, method) == 150
    assert await similarity.edge_count(engine, ids) == 150

    changed = ids[:10]
    fresh = [{"source": s, "target": ids[-1], "score": 0.5} for s in changed if s != ids[-1]]
    for _ in range(2):
        assert await similarity.replace_edges(engine, changed, fresh, "exact") == 10
        assert await similarity.edge_count(engine, changed) == 10
        assert await similarity.edge_count(engine, ids[10:]) == 100
    got = await similarity.neighbours(engine, changed[:2], first=10)
    assert [[n["track"]["id"] for n in ns] for ns in got] == [[ids[-1]], [ids[-1]]]
    assert await similarity.replace_edges(engine, [ids[10]], [], "exact") == 0
    assert await similarity.edge_count(engine, ids) == 105
    with pytest.raises(ValueError):
        await similarity.replace_edges(engine, [ids[0]], [dict(fresh[1])], "exact")


async def test_neighbours_are_ordered_by_score(engine: GraphEngine) -> None:
    ids = await _tracks(engine, 40)
    rows, method = sim.top_k(_unit(40, seed=2), ids, 8, min_score=-1.0)
    await similarity.replace_edges(engine, ids, rows, method)
    got = await similarity.neighbours(engine, [ids[0], "trk_missing", ids[1]], first=5)
    assert got[1] == []
    for track_id, found in ((ids[0], got[0]), (ids[1], got[2])):
        scores = [n["score"] for n in found]
        assert scores == sorted(scores, reverse=True) and len(scores) == 5
        assert [n["track"]["id"] for n in found] == _targets(rows, track_id)[:5]
        assert found[0]["method"] == "exact" and found[0]["track"]["title"]
    high = await similarity.neighbours(engine, [ids[0]], first=10, min_score=0.2)
    assert all(n["score"] >= 0.2 for n in high[0])
