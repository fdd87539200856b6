"""Top-k similar tracks by cosine similarity of their (L2-normalised) embeddings.

Exact search is a blocked matrix product plus `argpartition`: each block of query rows
is scored against every item, so memory stays at block x n floats whatever n is. Past
`EXACT_MAX` items, an HNSW index (hnswlib) answers instead when it is installed.

Everything is validated before a row is produced: FalkorDB stores a vector of the wrong
dimension without complaint, so a bad matrix must never reach the writer.
"""

import importlib
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Method = Literal["exact", "hnsw"]

DEFAULT_K = 10
EXACT_MAX = 20_000
BLOCK_ROWS = 2048
# Scores held at once: a block of rows against all n items (float32), about 128 MB.
BLOCK_CELLS = 32 * 1024 * 1024
NORM_TOLERANCE = 1e-3
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 200
HNSW_EF = 64


class EdgeRow(TypedDict):
    """One directed similarity edge: `target` is among the nearest items of `source`."""

    source: str
    target: str
    score: float


def _hnswlib() -> Any | None:
    """The hnswlib module, or None when it is not installed (it ships no type hints)."""
    try:
        return importlib.import_module("hnswlib")
    except ImportError:
        return None


def hnsw_available() -> bool:
    """True when the approximate method can be used."""
    return _hnswlib() is not None


def validate(matrix: Any, ids: Sequence[str], dim: int | None = None) -> Matrix:
    """Return `matrix` as a C-contiguous float32 (n, d) array, or raise ValueError.

    Checks the shape (and `dim` when given), one id per row, unique ids, finite values
    and unit norms.
    """
    array = np.ascontiguousarray(matrix, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"embeddings must be a 2-d matrix, got {array.ndim} dimension(s)")
    n, d = array.shape
    if dim is not None and d != dim:
        raise ValueError(f"embeddings have dimension {d}, expected {dim}")
    if d == 0:
        raise ValueError("embeddings have dimension 0")
    if len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} embeddings")
    if len(set(ids)) != n:
        raise ValueError("ids must be unique")
    if not np.isfinite(array).all():
        raise ValueError("embeddings contain NaN or infinite values")
    _check_norms(array)
    return array


def _check_norms(array: Matrix) -> None:
    norms = np.linalg.norm(array, axis=-1)
    if norms.size and float(np.abs(norms - 1.0).max()) > NORM_TOLERANCE:
        raise ValueError("embeddings must be L2-normalised")


def choose_method(n: int) -> Method:
    """Exact up to EXACT_MAX items (or without hnswlib), HNSW beyond."""
    return "hnsw" if n > EXACT_MAX and hnsw_available() else "exact"


def top_k(
    matrix: Any,
    ids: Sequence[str],
    k: int = DEFAULT_K,
    min_score: float = 0.0,
    method: Method | None = None,
) -> tuple[list[EdgeRow], Method]:
    """Each item's k most similar other items scoring at least `min_score`.

    Returns the edge rows (grouped by source, best first) and the method used.
    """
    array = validate(matrix, ids)
    if k < 1:
        raise ValueError("k must be at least 1")
    used = method or choose_method(len(ids))
    if len(ids) < 2:
        return [], used
    if used == "hnsw":
        labels, scores = hnsw_search(build_index(array), array, k)
    else:
        labels, scores = exact_search(array, k)
    return _rows(ids, np.arange(len(ids)), labels, scores, min_score), used


def exact_search(
    matrix: Matrix, k: int, queries: Matrix | None = None, block_rows: int = BLOCK_ROWS
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Exact top-k (labels, scores), best first, of each query row against `matrix`.

    When `queries` is None the rows of `matrix` query themselves and each excludes itself.
    """
    n = matrix.shape[0]
    self_query = queries is None
    q = matrix if queries is None else queries
    kk = min(k, n - 1 if self_query else n)
    rows = max(1, min(block_rows, BLOCK_CELLS // max(n, 1)))
    labels = np.empty((q.shape[0], kk), dtype=np.int64)
    scores = np.empty((q.shape[0], kk), dtype=np.float32)
    for start in range(0, q.shape[0], rows):
        block = q[start : start + rows] @ matrix.T
        local = np.arange(block.shape[0])
        if self_query:
            block[local, start + local] = -np.inf
        part = np.argpartition(-block, kk - 1, axis=1)[:, :kk]
        part_scores = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        labels[start : start + rows] = np.take_along_axis(part, order, axis=1)
        scores[start : start + rows] = np.take_along_axis(part_scores, order, axis=1)
    return labels, scores


def build_index(matrix: Matrix) -> Any:
    """An hnswlib inner-product index over the rows of `matrix` (labels are row numbers)."""
    hnswlib = _hnswlib()
    if hnswlib is None:
        raise RuntimeError("hnswlib is not installed")
    n, d = matrix.shape
    index = hnswlib.Index(space="ip", dim=d)
    index.init_index(max_elements=n, ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M)
    index.add_items(matrix, np.arange(n))
    return index


def hnsw_search(
    index: Any, matrix: Matrix, k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Approximate top-k of every row of `matrix` in `index`, excluding itself."""
    n = matrix.shape[0]
    kk = min(k, n - 1)
    index.set_ef(max(HNSW_EF, kk + 1))
    labels, distances = index.knn_query(matrix, k=kk + 1)
    labels = labels.astype(np.int64)
    drop = labels == np.arange(n)[:, None]
    # A row whose own label was not returned (duplicates, a miss) drops its last result.
    drop[~drop.any(axis=1), -1] = True
    drop &= np.cumsum(drop, axis=1) == 1
    keep = ~drop
    scores = (1.0 - distances[keep]).astype(np.float32).reshape(n, kk)
    return labels[keep].reshape(n, kk), scores


def incremental(
    new_vector: Any,
    matrix: Any,
    ids: Sequence[str],
    k: int = DEFAULT_K,
    *,
    source: str,
    min_score: float = 0.0,
    index: Any | None = None,
) -> list[EdgeRow]:
    """The k nearest items of one new item `source`, in one pass over `matrix`.

    `matrix` may already hold the new item (its row is then skipped). With `index`
    (from `build_index(matrix)`) one HNSW query answers instead of the exact pass.
    The new item's own outgoing edges only: others' lists are refreshed by a full run.
    """
    array = np.asarray(matrix, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError("embeddings must be a 2-d matrix")
    vector = np.ascontiguousarray(new_vector, dtype=np.float32)
    if vector.shape != (array.shape[1],):
        raise ValueError(f"new embedding has shape {vector.shape}, expected ({array.shape[1]},)")
    if not np.isfinite(vector).all():
        raise ValueError("new embedding contains NaN or infinite values")
    _check_norms(vector[None, :])
    if len(ids) != array.shape[0]:
        raise ValueError(f"{len(ids)} ids for {array.shape[0]} embeddings")
    if k < 1:
        raise ValueError("k must be at least 1")
    try:
        own = ids.index(source)
    except ValueError:
        own = -1
    wanted = min(k, array.shape[0] - (own >= 0))
    if wanted < 1:
        return []
    if index is not None:
        index.set_ef(max(HNSW_EF, wanted + 1))
        found, distances = index.knn_query(vector[None, :], k=min(wanted + 1, array.shape[0]))
        pairs = [
            (int(label), 1.0 - float(dist))
            for label, dist in zip(found[0], distances[0], strict=True)
            if int(label) != own
        ][:wanted]
    else:
        scores = array @ vector
        if own >= 0:
            scores[own] = -np.inf
        part = np.argpartition(-scores, wanted - 1)[:wanted]
        best = part[np.argsort(-scores[part], kind="stable")]
        pairs = [(int(i), float(scores[i])) for i in best]
    return [
        EdgeRow(source=source, target=ids[i], score=score)
        for i, score in pairs
        if score >= min_score
    ]


def _rows(
    ids: Sequence[str],
    sources: npt.NDArray[np.int64],
    labels: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float32],
    min_score: float,
) -> list[EdgeRow]:
    keep = scores >= min_score
    src = np.broadcast_to(sources[:, None], labels.shape)[keep].tolist()
    tgt = labels[keep].tolist()
    val = scores[keep].astype(np.float64).tolist()
    return [
        EdgeRow(source=ids[s], target=ids[t], score=v)
        for s, t, v in zip(src, tgt, val, strict=True)
    ]
