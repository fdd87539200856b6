"""The path search behind `sonicPath`, on a subgraph already read into memory.

A layered beam search over path length: layer k holds the cheapest simple paths of k
tracks that leave the start, and a path that reaches the goal is a candidate whatever
its length, charged LENGTH_PENALTY per track away from the length asked for. A step
costs `1 - score` (so the cheapest path of a given length has the best total
similarity), plus whatever the caller's `step_cost` adds (harmonic penalties), plus
DETOUR for every step that ends further from the goal (in hops) than the path had
already come, plus RUSH per hop ahead of an even pace from start to goal: a longer
path is a longer journey, not a detour. Work is bounded by BEAM paths per layer and a
deadline.
"""

import heapq
import math
import time
from collections import deque
from collections.abc import Callable, Mapping

Adjacency = Mapping[str, Mapping[str, float]]
StepCost = Callable[[str, str, float], float]

BEAM = 160
PROGRESS = 16  # of which kept for being closest to the goal
PER_END = 2
DETOUR = 0.5
RUSH = 0.25
LENGTH_PENALTY = 1.0
TEMPO_TOLERANCE = 0.06
# More than any path of at most 50 tracks can gain in similarity, detours and length:
# a harmonic path takes an incompatible step only when no compatible path was found.
CLASH = 200.0


class SearchTimeout(Exception):
    """The search ran past its deadline."""


def hops_to(adjacency: Adjacency, goal: str) -> dict[str, int]:
    """Hop distance from every node of the subgraph to `goal` (breadth first)."""
    hops = {goal: 0}
    queue = deque([goal])
    while queue:
        node = queue.popleft()
        step = hops[node] + 1
        for other in adjacency.get(node, {}):
            if other not in hops:
                hops[other] = step
                queue.append(other)
    return hops


def slack(steps: int) -> int:
    """How many tracks past `steps` a path may run."""
    return max(2, steps // 5)


def longest_path(steps: int, shortest: int) -> int:
    """The most tracks a path may have: `steps` and some slack, or more when the
    shortest path (in tracks) is longer than that."""
    return max(steps, shortest) + slack(steps)


def within_reach(
    adjacency: Adjacency, start: str, goal: str, steps: int
) -> tuple[Adjacency, dict[str, int]]:
    """The part of the subgraph that a path of at most `longest_path` tracks from
    `start` to `goal` can pass through, and the hops from each of its tracks to `goal`
    (the same as in the whole subgraph: a shortest way to the goal stays inside)."""
    to_goal, from_start = hops_to(adjacency, goal), hops_to(adjacency, start)
    if start not in to_goal:
        return {}, {goal: 0}
    longest = longest_path(steps, to_goal[start] + 1)
    keep = {n for n, h in to_goal.items() if h + from_start.get(n, longest) < longest}
    kept = {n: {m: s for m, s in adjacency[n].items() if m in keep} for n in keep}
    return kept, {n: to_goal[n] for n in keep}


def best_path(
    adjacency: Adjacency,
    start: str,
    goal: str,
    steps: int,
    step_cost: StepCost | None = None,
    deadline: float = math.inf,
    hops: Mapping[str, int] | None = None,
) -> tuple[list[str], float] | None:
    """The best simple path from `start` to `goal` of about `steps` tracks, with its
    cost; None when the subgraph does not connect them. `hops` to the goal are
    computed unless given. Raises SearchTimeout once `time.monotonic()` passes
    `deadline`."""
    if hops is None:
        hops = hops_to(adjacency, goal)
    if start not in hops or start == goal:
        return None
    wanted = max(steps, hops[start] + 1)
    longest = longest_path(steps, hops[start] + 1)
    # Each track's ways on, worked out the first time a path reaches it: (the next
    # track, what the step costs before detours and pace, that track's hops to the
    # goal). The search visits every edge of a track once per path that reaches the
    # track, so this is its inner loop.
    ways: dict[str, list[tuple[str, float, int]]] = {}

    def ways_on(here: str) -> list[tuple[str, float, int]]:
        out = []
        for there, score in adjacency[here].items():
            left = hops.get(there)
            if left is None:
                continue
            step = 1.0 - (0.0 if score < 0.0 else 1.0 if score > 1.0 else score)
            if step_cost is not None:
                step += step_cost(here, there, score)
            out.append((there, step, left))
        ways[here] = out
        return out

    best: tuple[float, tuple[str, ...]] | None = None
    # (cost, path, the fewest hops to the goal reached so far)
    layer: list[tuple[float, tuple[str, ...], int]] = [(0.0, (start,), hops[start])]
    for length in range(2, longest + 1):
        if time.monotonic() > deadline:
            raise SearchTimeout
        if best is not None and length > steps:
            floor = min(entry[0] for entry in layer) + LENGTH_PENALTY * (length - steps)
            if floor >= best[0]:
                break
        room = longest - length
        # Hops to the goal below which a path is ahead of an even pace towards it, and
        # the rest of the journey would have to wander.
        ahead = hops[start] * (wanted - length) / (wanted - 1) - 1
        arrival = LENGTH_PENALTY * abs(length - steps)
        # By the track a step reaches: (cost, the path before it, closest so far); the
        # longer path is only built for the PER_END cheapest ways into each track.
        ends: dict[str, list[tuple[float, tuple[str, ...], int]]] = {}
        for cost, path, closest in layer:
            here = path[-1]
            known = ways.get(here)
            for there, step, left in ways_on(here) if known is None else known:
                if left > room or there in path:
                    continue
                total = cost + step
                if left > closest:  # every step spent further back than the path had come
                    total += DETOUR
                if left < ahead:
                    total += RUSH * (ahead - left)
                if there == goal:
                    total += arrival
                    if best is None or total < best[0]:
                        best = (total, (*path, there))
                    continue
                entries = ends.get(there)
                entry = (total, path, closest if closest < left else left)
                if entries is None:
                    ends[there] = [entry]
                else:
                    entries.append(entry)
        kept = [
            (total, (*path, there), closest)
            for there, entries in ends.items()
            for total, path, closest in (
                entries if len(entries) == 1 else sorted(entries, key=_first)[:PER_END]
            )
        ]
        kept.sort(key=_cost_then_end)
        # The cheapest paths, and a few of those closest to the goal so that the beam
        # cannot fill up with paths that would all run out of steps.
        closer = heapq.nsmallest(
            PROGRESS, kept[BEAM - PROGRESS :], key=lambda e: (hops[e[1][-1]], e[0])
        )
        layer = kept[: BEAM - PROGRESS] + closer
        if not layer:
            break
    if best is None:
        return None
    return list(best[1]), best[0]


def _first(entry: tuple[float, tuple[str, ...], int]) -> float:
    return entry[0]


def _cost_then_end(entry: tuple[float, tuple[str, ...], int]) -> tuple[float, str]:
    return entry[0], entry[1][-1]


def tempo_compatible(a: float, b: float, tolerance: float = TEMPO_TOLERANCE) -> bool:
    """Within `tolerance` (a fraction) of each other, or of half or double the tempo."""
    limit = tolerance * a
    return abs(b - a) <= limit or abs(2.0 * b - a) <= limit or abs(0.5 * b - a) <= limit


def harmonic_cost(
    keys: Mapping[str, tuple[float | None, str | None]],
    compatible: Callable[[str], tuple[str, ...]],
    tolerance: float = TEMPO_TOLERANCE,
) -> StepCost:
    """A step cost that adds CLASH for a key that is not Camelot-compatible and CLASH
    for tempos further apart than `tolerance`; an unknown key or tempo clashes too,
    since nothing says that it mixes. Each pair is worked out once."""
    fits = {code: frozenset(compatible(code)) for _, code in keys.values() if code}
    known: dict[tuple[str, str], float] = {}

    def cost(here: str, there: str, score: float) -> float:
        pair = (here, there)
        extra = known.get(pair)
        if extra is None:
            tempo_a, key_a = keys.get(here, (None, None))
            tempo_b, key_b = keys.get(there, (None, None))
            extra = 0.0
            if key_a is None or key_b is None or key_b not in fits[key_a]:
                extra += CLASH
            if (
                tempo_a is None
                or tempo_b is None
                or not tempo_compatible(tempo_a, tempo_b, tolerance)
            ):
                extra += CLASH
            known[pair] = extra
        return extra

    return cost
