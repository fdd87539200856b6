"""Exploring the similarity graph: a track's neighbourhood, a sonic path between two
tracks, and (graph/_recommend.py) recommendations from seeds.

Every read is a batch over a frontier (`UNWIND $ids`), so a request costs a number of
round trips bounded by its depth or by the path search's rounds, never one per node.
"""

import itertools
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from graph import _paths, analysis
from graph._blend import ATTRIBUTES, WHOLE_ATTRIBUTES
from graph._recommend import (
    DEFAULT_FIRST,
    MAX_EXCLUDED,
    MAX_FIRST,
    MAX_SEEDS,
    RecommendationRequest,
    recommendations,
)
from graph.engine import GraphEngine, Row
from graph.queries import exploration as q
from graph.queries.analysis import FEATURE_PROPS
from music.errors import DomainError, NotFoundError
from music.keys import compatible, trusted_camelot

# Recommendations' request and limits are public here for resolvers/recommendation_input.py.
__all__ = [
    "ATTRIBUTES",
    "DEFAULT_FIRST",
    "MAX_EXCLUDED",
    "MAX_FIRST",
    "MAX_SEEDS",
    "WHOLE_ATTRIBUTES",
    "NoPathError",
    "RecommendationRequest",
    "neighborhood",
    "recommendations",
    "sonic_path",
]

MAX_DEPTH = 3
MAX_NODES = 200
FANOUT = 10  # the strongest edges followed out of each track
MIN_STEPS, MAX_STEPS = 3, 50
MODES = ("SIMILARITY", "HARMONIC")
# The path search's bounds: tracks expanded per side and round, tracks read before
# the ends meet, rounds of expansion, tracks expanded once they have met per track
# asked for beyond the shortest path, and seconds.
PER_ROUND = 100
MAX_VISITED = 3000
MAX_ROUNDS = 8
THICKEN = 8
TIME_BUDGET = 2.0


_NO_PATH = "No path between these tracks within the search's bounds."


class NoPathError(DomainError):
    """The two tracks are not connected within the search's bounds."""

    code = "NO_PATH"


Adjacency = dict[str, dict[str, float]]


async def expand(
    engine: GraphEngine, ids: Sequence[str], min_score: float, fanout: int = FANOUT
) -> dict[str, list[tuple[str, float]]]:
    """The `fanout` strongest edges, either way, of each track, strongest first."""
    if not ids:
        return {}
    rows = await engine.read(
        "explore_expand",
        q.EXPAND_QUERY,
        {"ids": list(ids), "min_score": min_score, "fanout": fanout},
    )
    return {
        r["id"]: [(o, float(s)) for o, s in zip(r["others"], r["scores"], strict=True)]
        for r in rows
    }


async def neighborhood(
    engine: GraphEngine, track_id: str, depth: int = 1, first: int = 50, min_score: float = 0.0
) -> Row:
    """Up to `first` tracks around `track_id` (itself included, at distance 0) within
    `depth` hops, and the SIMILAR_TO edges between them (one per pair, its better score).

    Each hop follows the FANOUT strongest edges of the tracks reached at the previous
    one and keeps the new tracks best-connected first (product of scores from the
    centre), so a small `first` fills up with the closest family first.
    """
    min_score = float(min_score)
    distance, strength = {track_id: 0}, {track_id: 1.0}
    frontier = [track_id]
    for hop in range(1, depth + 1):
        if len(distance) >= first or not frontier:
            break
        found = await expand(engine, frontier, min_score)
        reached: dict[str, float] = {}
        for here in frontier:
            for there, score in found.get(here, []):
                if there not in distance:
                    reached[there] = max(reached.get(there, 0.0), strength[here] * max(score, 0.0))
        ranked = sorted(reached, key=lambda t: (-reached[t], t))[: first - len(distance)]
        for there in ranked:
            distance[there], strength[there] = hop, reached[there]
        frontier = ranked
    ids = list(distance)
    rows = await engine.read(
        "explore_neighborhood", q.NEIGHBORHOOD_ROWS_QUERY, {"ids": ids, "min_score": min_score}
    )
    by_id = {r["id"]: r for r in rows}
    if track_id not in by_id:
        raise NotFoundError("No such track.", id=track_id)
    edges: dict[frozenset[str], Row] = {}
    for r in rows:
        for target, score in zip(r["targets"], r["scores"], strict=True):
            pair = frozenset((r["id"], target))
            if pair not in edges or edges[pair]["score"] < score:
                edges[pair] = {"source": r["id"], "target": target, "score": float(score)}
    order = sorted((i for i in ids if i in by_id), key=lambda i: (distance[i], -strength[i], i))
    return {
        "nodes": [{"track": by_id[i]["row"], "distance": distance[i]} for i in order],
        "edges": sorted(edges.values(), key=lambda e: (-e["score"], e["source"], e["target"])),
    }


class _Side:
    """One end of the bidirectional expansion: what it reached, and how strongly."""

    def __init__(self, start: str) -> None:
        self.reach = {start: 1.0}
        self.frontier = [start]
        self.expanded: set[str] = set()

    def advance(self, adjacency: Adjacency) -> None:
        fresh: dict[str, float] = {}
        for here in self.frontier:
            self.expanded.add(here)
            for there, score in adjacency.get(here, {}).items():
                value = self.reach[here] * max(score, 0.0)
                if there not in self.reach or there in fresh:
                    fresh[there] = max(fresh.get(there, 0.0), value)
        self.reach.update(fresh)
        # The tracks found last first (a breadth-first sweep outwards), strongest first.
        ranked = sorted(fresh, key=lambda t: (-fresh[t], t))[:PER_ROUND]
        if len(ranked) < PER_ROUND:
            older = [t for t in self.reach if t not in self.expanded and t not in fresh]
            older.sort(key=lambda t: (-self.reach[t], t))
            ranked += older[: PER_ROUND - len(ranked)]
        self.frontier = ranked


def _add(adjacency: Adjacency, found: Mapping[str, list[tuple[str, float]]]) -> None:
    for here, pairs in found.items():
        for there, score in pairs:
            if score > adjacency[here].get(there, -2.0):
                adjacency[here][there] = adjacency[there][here] = score


async def _subgraph(
    engine: GraphEngine, start: str, goal: str, steps: int, min_score: float, deadline: float
) -> Adjacency:
    """The edges around both ends, expanded from both until they meet; NO_PATH past the
    bounds. Then the tracks found nearest the routes between the ends are expanded too
    (THICKEN per track asked for beyond the shortest path): without their edges they
    would be dead ends, and a journey longer than the shortest needs room sideways."""
    adjacency: Adjacency = defaultdict(dict)
    sides = (_Side(start), _Side(goal))
    fetched: set[str] = set()
    for _ in range(MAX_ROUNDS):
        ids = [t for t in dict.fromkeys(t for s in sides for t in s.frontier) if t not in fetched]
        fetched.update(ids)
        _add(adjacency, await expand(engine, ids, min_score))
        for side in sides:
            side.advance(adjacency)
        if sides[0].reach.keys() & sides[1].reach.keys():
            break
        if not all(side.frontier for side in sides):
            raise NoPathError(_NO_PATH, reason="unreachable", visited=len(adjacency))
        if len(adjacency) >= MAX_VISITED or time.monotonic() > deadline:
            reason = "node_limit" if len(adjacency) >= MAX_VISITED else "time_limit"
            raise NoPathError(_NO_PATH, reason=reason, visited=len(adjacency))
    else:
        raise NoPathError(_NO_PATH, reason="round_limit", visited=len(adjacency))
    from_start, to_goal = _paths.hops_to(adjacency, start), _paths.hops_to(adjacency, goal)
    sideways = steps - (to_goal[start] + 1)  # tracks beyond the shortest path
    if sideways > 0:
        around = [t for t in adjacency if t not in fetched and t in from_start and t in to_goal]
        around.sort(key=lambda t: (from_start[t] + to_goal[t], t))
        _add(adjacency, await expand(engine, around[: THICKEN * sideways], min_score))
    return adjacency


def _features(stored: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not stored or stored.get(FEATURE_PROPS["tempo"]) is None:
        return None
    return {name: stored.get(prop) for name, prop in FEATURE_PROPS.items()}


async def sonic_path(
    engine: GraphEngine,
    from_id: str,
    to_id: str,
    steps: int = 10,
    mode: str = "SIMILARITY",
    bpm_tolerance: float = _paths.TEMPO_TOLERANCE,
    min_score: float = 0.0,
) -> Row:
    """About `steps` distinct tracks from `from_id` to `to_id` along SIMILAR_TO edges,
    as `{tracks, transitions: [{from, to, score, reasons}]}`.

    SIMILARITY takes the best total similarity; HARMONIC also charges every step that
    is not Camelot-compatible or whose tempos differ by more than `bpm_tolerance`
    (half and double tempo count as compatible; a key analysed with a confidence below
    MIN_KEY_CONFIDENCE is unknown, so it clashes), so it takes such a step only when the
    search found no compatible path, even a shorter or longer one. NO_PATH when the
    tracks are not connected within MAX_VISITED tracks, MAX_ROUNDS rounds and
    TIME_BUDGET seconds.
    """
    min_score = float(min_score)
    rows = await engine.read(
        "explore_tracks_exist", q.TRACKS_EXIST_QUERY, {"ids": [from_id, to_id]}
    )
    for track_id in {from_id, to_id} - {r["id"] for r in rows}:
        raise NotFoundError("No such track.", id=track_id)
    deadline = time.monotonic() + TIME_BUDGET
    subgraph = await _subgraph(engine, from_id, to_id, steps, min_score, deadline)
    adjacency, hops = _paths.within_reach(subgraph, from_id, to_id, steps)
    step_cost = None
    if mode == "HARMONIC":
        keys = await engine.read("explore_mix_keys", q.MIX_KEYS_QUERY, {"ids": list(adjacency)})
        mix = {
            r["id"]: (r["tempo"], trusted_camelot(r["camelot"], r["key_confidence"])) for r in keys
        }
        step_cost = _paths.harmonic_cost(mix, compatible, bpm_tolerance)
    try:
        found = _paths.best_path(adjacency, from_id, to_id, steps, step_cost, deadline, hops)
    except _paths.SearchTimeout:
        raise NoPathError("The path search ran out of time.", reason="time_limit") from None
    if found is None:
        raise NoPathError("No path between these tracks.", reason="unreachable")
    path, _ = found
    read = await engine.read("explore_path_tracks", q.TRACK_ROWS_WITH_FEATURES_QUERY, {"ids": path})
    by_id = {r["id"]: r for r in read}
    if len(by_id) < len(path):  # a track deleted meanwhile
        raise NoPathError("A track of the path no longer exists.", reason="changed")
    features = {i: _features(by_id[i]["features"]) for i in path}
    transitions = [
        {
            "from": by_id[a]["row"],
            "to": by_id[b]["row"],
            "score": adjacency[a][b],
            "reasons": analysis.reasons(features[a], features[b]),
        }
        for a, b in itertools.pairwise(path)
    ]
    return {"tracks": [by_id[i]["row"] for i in path], "transitions": transitions}
