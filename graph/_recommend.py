"""Recommendations from seeds: candidates from the graph around the seeds, strict
bounds, then the blend of graph/_blend.py.

Candidates are the tracks within two SIMILAR_TO hops of the seed tracks (the
strongest edges), tracks sharing collections or listeners with them, tracks of the
seed artists and genres, and the tracks nearest to the seeds' mean embedding (vector
index): a few hundred at most, read in a fixed number of batch queries whatever
`first` is.
"""

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph import _blend, catalog
from graph.engine import GraphEngine, Row
from graph.queries import exploration as q
from music.errors import NotFoundError

MAX_SEEDS = 5
MAX_FIRST = 100
DEFAULT_FIRST = 20
MAX_EXCLUDED = 500
PER_SEED = 50  # tracks of a seed artist or genre taken as candidates
SEED_SAMPLE = 10  # of which the first ones also act as seed tracks
FANOUT = 10
SECOND_HOP = 40  # hop-one tracks expanded further, strongest first
CO_LIMIT = 200
NEAREST = 50  # tracks nearest to the seeds' centroid taken as candidates
POOL = 600


@dataclass(frozen=True)
class RecommendationRequest:
    """What to recommend, checked (resolvers/recommendation_input.py reads it from a
    RecommendationInput)."""

    tracks: list[str]
    artists: list[str]
    genres: list[str]  # folded names
    first: int
    excluded: frozenset[str]
    target: _blend.Attributes
    low: _blend.Attributes
    high: _blend.Attributes
    exclude_played: bool


async def _tracks_exist(engine: GraphEngine, ids: list[str]) -> list[str]:
    if not ids:
        return []
    rows = await engine.read("recommend_seed_tracks", q.TRACKS_EXIST_QUERY, {"ids": ids})
    for track_id in set(ids) - {r["id"] for r in rows}:
        raise NotFoundError("No such track.", id=track_id)
    return ids


async def _tracks_of(
    engine: GraphEngine, operation: str, query: str, params: dict[str, Any], keys: list[str]
) -> dict[str, list[str]]:
    """Up to PER_SEED tracks of each seed artist or genre; NOT_FOUND for a missing one."""
    if not keys:
        return {}
    rows = await engine.read(operation, query, params | {"per_seed": PER_SEED})
    found = {r["id"]: list(r["tracks"]) for r in rows}
    for key in keys:
        if key not in found:
            raise NotFoundError("No such seed.", id=key)
    return found


async def _counts(engine: GraphEngine, query: str, ids: list[str], viewer: str | None) -> Any:
    params = {"ids": ids, "viewer": viewer, "limit": CO_LIMIT}
    return {r["id"]: int(r["n"]) for r in await engine.read("recommend_co", query, params)}


async def _centroid(engine: GraphEngine, ids: list[str]) -> list[float] | None:
    """The normalised mean of the seeds' audio embeddings (None when none has one)."""
    rows = await engine.read("recommend_seed_vectors", q.SEED_VECTORS_QUERY, {"ids": ids})
    vectors = [[float(x) for x in r["vector"]] for r in rows]
    vectors = [v for v in vectors if len(v) == len(vectors[0])] if vectors else []
    if not vectors:
        return None
    mean = [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]
    norm = math.sqrt(sum(x * x for x in mean))
    return [x / norm for x in mean] if norm > 0 else None


async def _nearest(engine: GraphEngine, centroid: list[float] | None) -> list[str]:
    """The tracks nearest to the seeds' centroid, by the vector index."""
    if centroid is None:
        return []
    params = {"vector": centroid, "k": NEAREST}
    rows = await engine.read("recommend_nearest", q.nearest(engine.dialect), params)
    return [r["id"] for r in rows]


async def _expand(
    engine: GraphEngine, ids: Sequence[str], strength: Mapping[str, float], hops: int
) -> dict[str, tuple[float, int]]:
    """Tracks one hop past `ids` (`hops` from the seeds): best product of scores."""
    if not ids:
        return {}
    params = {"ids": list(ids), "min_score": 0.0, "fanout": FANOUT}
    reached: dict[str, tuple[float, int]] = {}
    for r in await engine.read("recommend_expand", q.EXPAND_QUERY, params):
        for other, score in zip(r["others"], r["scores"], strict=True):
            value = strength[r["id"]] * max(float(score), 0.0)
            if value > reached.get(other, (0.0, 0))[0]:
                reached[other] = (value, hops)
    return reached


async def _signals(
    engine: GraphEngine, request: RecommendationRequest, viewer: str | None
) -> tuple[dict[str, _blend.Signals], list[str], list[float] | None]:
    """What ties each candidate to the seeds, the tracks nearest to the seeds' mean
    embedding, and that mean."""
    found, by_artist, by_genre = await asyncio.gather(
        _tracks_exist(engine, request.tracks),
        _tracks_of(engine, "recommend_artists", q.ARTIST_TRACKS_QUERY, {"ids": request.artists},
                   request.artists),
        _tracks_of(engine, "recommend_genres", q.GENRE_TRACKS_QUERY, {"keys": request.genres},
                   request.genres),
    )  # fmt: skip
    signals: dict[str, _blend.Signals] = {}
    seeds = list(found)
    for kind, lists in (("SEED_ARTIST", by_artist), ("SEED_GENRE", by_genre)):
        for ids in lists.values():
            seeds += ids[:SEED_SAMPLE]
            for track_id in ids:
                signals.setdefault(track_id, _blend.Signals()).seed = kind
    seeds = list(dict.fromkeys(seeds))
    strength = dict.fromkeys(seeds, 1.0)
    hop_one, collected, played, centroid = await asyncio.gather(
        _expand(engine, seeds, strength, 1),
        _counts(engine, q.CO_COLLECTED_QUERY, seeds, viewer),
        _counts(engine, q.CO_PLAYED_QUERY, seeds, viewer),
        _centroid(engine, seeds),
    )
    onward = sorted((t for t in hop_one if t not in strength), key=lambda t: -hop_one[t][0])
    strength |= {t: hop_one[t][0] for t in onward[:SECOND_HOP]}
    hop_two, near = await asyncio.gather(
        _expand(engine, onward[:SECOND_HOP], strength, 2), _nearest(engine, centroid)
    )
    for reached in (hop_two, hop_one):  # hop one wins a tie
        for track_id, (value, hops) in reached.items():
            s = signals.setdefault(track_id, _blend.Signals())
            if value >= s.similar:
                s.similar, s.hops = value, hops
    for counts, name in ((collected, "collections"), (played, "listeners")):
        for track_id, n in counts.items():
            setattr(signals.setdefault(track_id, _blend.Signals()), name, n)
    for track_id in near:
        signals.setdefault(track_id, _blend.Signals())
    for track_id in (*request.tracks, *request.excluded):
        signals.pop(track_id, None)
    return signals, [t for t in near if t in signals], centroid


async def recommendations(
    engine: GraphEngine, request: RecommendationRequest, viewer: str | None = None
) -> list[Row]:
    """`request.first` tracks, best first, each as `{track, score, reasons}`. `viewer`
    (a user id or None) decides which collections count and whose plays
    `exclude_played` leaves out."""
    signals, near, centroid = await _signals(engine, request, viewer)
    # The best-connected candidates, and those nearest to the seeds by embedding.
    ranked = sorted(signals, key=lambda t: (-signals[t].proximity(), t))
    pool = list(dict.fromkeys(ranked[: POOL - len(near)] + near))
    if request.exclude_played and pool:
        played = {"ids": pool, "viewer": viewer}
        rows = await engine.read("recommend_played", q.PLAYED_BY_VIEWER_QUERY, played)
        gone = {r["id"] for r in rows}
        pool = [t for t in pool if t not in gone]
    if not pool:
        return []
    params = {"ids": pool, "centroid": centroid}
    rows = await engine.read("recommend_candidates", q.candidates(engine.dialect), params)
    scored: list[tuple[float, str, list[Row]]] = []
    for r in rows:
        attributes = _blend.attributes_of(r)
        if _blend.within(attributes, request.low, request.high):
            cosine = None if r["cosine"] is None else float(r["cosine"])
            value, reasons = _blend.score(
                signals[r["id"]], attributes, cosine, request.target, centroid is not None
            )
            scored.append((value, r["id"], reasons))
    best = sorted(scored, key=lambda e: (-e[0], e[1]))[: request.first]
    found = await catalog.tracks_by_id(engine, [track_id for _, track_id, _ in best])
    return [
        {"track": row, "score": value, "reasons": reasons}
        for (value, _, reasons), row in zip(best, found, strict=True)
        if row is not None
    ]
