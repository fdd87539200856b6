"""`sonicPath`: an ordered journey between two tracks, over GraphQL, and the search."""

import itertools
import time
from typing import Any

import pytest

from graph import _paths, analysis, catalog_writes, similarity
from graph.engine import GraphEngine
from music.keys import MIN_KEY_CONFIDENCE, camelot, compatible, trusted_camelot
from tests.support import GraphQLClient, graph_queries

PATH = """
query Path($from: ID!, $to: ID!, $steps: Int, $mode: SonicPathMode, $tolerance: Float) {
  sonicPath(fromId: $from, toId: $to, steps: $steps, mode: $mode, bpmTolerance: $tolerance) {
    tracks { id title }
    transitions { from { id } to { id } score reasons { feature value description } }
  }
}
"""
MISSING_TRACK = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"

Mix = tuple[float, str, str]  # tempo, key, mode


async def _catalogue(
    engine: GraphEngine, mixes: dict[str, Mix | None], edges: list[tuple[str, str, float]]
) -> dict[str, str]:
    """Tracks titled by the keys of `mixes` (with those features, if any) and edges
    between them, by title; returns title -> id."""
    rows = await catalog_writes.create_tracks(engine, [{"title": t} for t in mixes])
    ids = {r["title"]: r["id"] for r in rows}
    for title, mix in mixes.items():
        if mix is not None:
            tempo, key, mode = mix
            await analysis.set_features(
                engine, ids[title], {"tempo": tempo, "key": key, "mode": mode}
            )
    rows_ = [{"source": ids[a], "target": ids[b], "score": s} for a, b, s in edges]
    await similarity.write_edges(engine, rows_, "exact")
    return ids


async def _path(gql: GraphQLClient, ids: dict[str, str], a: str, b: str, **args: Any) -> Any:
    data = await gql.query(PATH, {"from": ids[a], "to": ids[b], **args})
    return data["sonicPath"]


def _titles(path: dict[str, Any]) -> list[str]:
    return [t["title"] for t in path["tracks"]]


# A (8A, 124) to B (10A, 125): X is the more similar way but X1 (3B) clashes; Y takes
# compatible keys, and Y2 at 63 BPM is half of Y1's 126.
FORK: dict[str, Mix | None] = {
    "A": (124.0, "A", "minor"),
    "X1": (124.0, "F#", "major"),
    "X2": (124.0, "A", "minor"),
    "Y1": (126.0, "E", "minor"),
    "Y2": (63.0, "B", "minor"),
    "B": (125.0, "B", "minor"),
}
FORK_EDGES = [
    ("A", "X1", 0.95),
    ("X1", "X2", 0.95),
    ("X2", "B", 0.95),
    ("A", "Y1", 0.7),
    ("Y1", "Y2", 0.7),
    ("Y2", "B", 0.7),
]


def _mixes_well(a: Mix, b: Mix, tolerance: float = 0.06) -> bool:
    camelot_a, camelot_b = camelot(a[1], a[2]), camelot(b[1], b[2])  # type: ignore[arg-type]
    tempo_ok = any(abs(b[0] * f - a[0]) <= tolerance * a[0] for f in (1.0, 2.0, 0.5))
    return camelot_b in compatible(camelot_a) and tempo_ok


async def test_similarity_and_harmonic_modes(engine: GraphEngine, gql: GraphQLClient) -> None:
    ids = await _catalogue(engine, FORK, FORK_EDGES)
    similar = await _path(gql, ids, "A", "B", steps=4)
    assert _titles(similar) == ["A", "X1", "X2", "B"]
    assert [t["score"] for t in similar["transitions"]] == pytest.approx([0.95] * 3)
    harmonic = await _path(gql, ids, "A", "B", steps=4, mode="HARMONIC")
    assert _titles(harmonic) == ["A", "Y1", "Y2", "B"]
    assert all(
        _mixes_well(FORK[a], FORK[b])  # type: ignore[arg-type]
        for a, b in itertools.pairwise(_titles(harmonic))
    )
    first = harmonic["transitions"][0]
    assert (first["from"]["id"], first["to"]["id"]) == (ids["A"], ids["Y1"])
    key = next(r for r in first["reasons"] if r["feature"] == "key")
    assert "compatible" in key["description"] and "not" not in key["description"]


def _families() -> tuple[dict[str, Mix | None], list[tuple[str, str, float]]]:
    """Four families of five tracks, each family one rhythm and key. From F0 to F3,
    the more similar way passes F1, whose key clashes with both; F2 mixes with both."""
    keys = {
        "F0": (124.0, "A", "minor"),  # 8A
        "F1": (124.0, "F#", "major"),  # 2B
        "F2": (126.0, "E", "minor"),  # 9A
        "F3": (125.0, "B", "minor"),  # 10A
    }
    mixes: dict[str, Mix | None] = {f"{f}.{i}": mix for f, mix in keys.items() for i in range(5)}
    edges = [
        (f"{f}.{i}", f"{f}.{j}", 0.9 - 0.01 * (j - i))
        for f in keys
        for i, j in itertools.combinations(range(5), 2)
    ]
    for a, b, score in (("F0", "F1", 0.8), ("F1", "F3", 0.8), ("F0", "F2", 0.6), ("F2", "F3", 0.6)):
        edges += [(f"{a}.{i}", f"{b}.{i}", score) for i in (3, 4)]
    return mixes, edges


async def test_harmonic_paths_stay_compatible_across_families(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    mixes, edges = _families()
    ids = await _catalogue(engine, mixes, edges)
    similar = _titles(await _path(gql, ids, "F0.0", "F3.0", steps=8))
    assert any(t.startswith("F1") for t in similar), similar
    for steps in (4, 8, 12):
        path = _titles(await _path(gql, ids, "F0.0", "F3.0", steps=steps, mode="HARMONIC"))
        assert abs(len(path) - steps) <= _paths.slack(steps) and len(set(path)) == len(path)
        assert not any(t.startswith("F1") for t in path), path
        assert all(_mixes_well(mixes[a], mixes[b]) for a, b in itertools.pairwise(path))  # type: ignore[arg-type]
        families = [t[:2] for t in path]
        assert families == sorted(families, key=["F0", "F2", "F3"].index), path


async def test_tempo_tolerance(engine: GraphEngine, gql: GraphQLClient) -> None:
    mixes: dict[str, Mix | None] = {
        "A": (120.0, "A", "minor"),
        "P": (132.0, "A", "minor"),  # 10% faster
        "Q": (123.0, "A", "minor"),
        "B": (126.0, "A", "minor"),
    }
    edges = [("A", "P", 0.95), ("P", "B", 0.95), ("A", "Q", 0.6), ("Q", "B", 0.6)]
    ids = await _catalogue(engine, mixes, edges)
    assert _titles(await _path(gql, ids, "A", "B", steps=3, mode="HARMONIC")) == ["A", "Q", "B"]
    wide = await _path(gql, ids, "A", "B", steps=3, mode="HARMONIC", tolerance=0.12)
    assert _titles(wide) == ["A", "P", "B"]


async def test_harmonic_takes_a_clash_when_nothing_else_connects(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    mixes: dict[str, Mix | None] = {
        "A": (120.0, "A", "minor"),
        "C": (120.0, "F#", "major"),
        "B": (120.0, "A", "minor"),
    }
    ids = await _catalogue(engine, mixes, [("A", "C", 0.9), ("C", "B", 0.9)])
    assert _titles(await _path(gql, ids, "A", "B", steps=3, mode="HARMONIC")) == ["A", "C", "B"]


async def test_harmonic_treats_a_low_confidence_key_as_unknown(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    """X's key (8A) mixes on paper, but the analysis was not sure of it: below
    MIN_KEY_CONFIDENCE it is unknown, so HARMONIC goes the less similar way through Y."""
    mixes: dict[str, Mix | None] = {
        "A": (120.0, "A", "minor"),
        "X": (120.0, "A", "minor"),
        "Y": (120.0, "E", "minor"),
        "B": (120.0, "A", "minor"),
    }
    edges = [("A", "X", 0.95), ("X", "B", 0.95), ("A", "Y", 0.6), ("Y", "B", 0.6)]
    ids = await _catalogue(engine, mixes, edges)
    unsure = {"tempo": 120.0, "key": "A", "mode": "minor"}
    low, high = MIN_KEY_CONFIDENCE - 0.01, MIN_KEY_CONFIDENCE + 0.01
    await analysis.set_features(engine, ids["X"], unsure | {"key_confidence": low})
    assert _titles(await _path(gql, ids, "A", "B", steps=3, mode="HARMONIC")) == ["A", "Y", "B"]
    await analysis.set_features(engine, ids["X"], unsure | {"key_confidence": high})
    assert _titles(await _path(gql, ids, "A", "B", steps=3, mode="HARMONIC")) == ["A", "X", "B"]


def test_trusted_camelot() -> None:
    assert trusted_camelot("8A", None) == "8A"  # set by a client: taken at its word
    assert trusted_camelot("8A", MIN_KEY_CONFIDENCE) == "8A"
    assert trusted_camelot("8A", MIN_KEY_CONFIDENCE - 0.01) is None
    assert trusted_camelot(None, 0.9) is None


def _corridor() -> tuple[dict[str, Mix | None], list[tuple[str, str, float]]]:
    """Six layers of three tracks from A (L0a) to B (L5a); a tempting side branch S of
    very similar tracks hangs off layer 2."""
    layers = [[f"L{i}{c}" for c in "abc"] for i in range(6)]
    edges = [(x, y, 0.85) for layer in layers for x, y in itertools.combinations(layer, 2)]
    edges += [(x, y, 0.8) for a, b in itertools.pairwise(layers) for x in a for y in b]
    side = ["S1", "S2", "S3"]
    edges += [(x, y, 0.99) for x, y in itertools.combinations(side, 2)]
    edges += [(x, s, 0.99) for x in layers[2] for s in side]
    return dict.fromkeys([t for layer in layers for t in layer] + side), edges


async def test_longer_paths_are_longer_journeys(engine: GraphEngine, gql: GraphQLClient) -> None:
    mixes, edges = _corridor()
    ids = await _catalogue(engine, mixes, edges)
    for steps, lengths in ((3, {6}), (6, {6}), (10, range(8, 13)), (14, range(12, 17))):
        path = _titles(await _path(gql, ids, "L0a", "L5a", steps=steps))
        assert len(path) in lengths, (steps, path)
        assert path[0] == "L0a" and path[-1] == "L5a" and len(set(path)) == len(path)
        assert not any(t.startswith("S") for t in path), path
        layers = [int(t[1]) for t in path]
        assert layers == sorted(layers), path  # never back towards the start


async def test_no_path_is_a_clear_bounded_error(engine: GraphEngine, gql: GraphQLClient) -> None:
    chain = [f"C{i:02d}" for i in range(40)]
    mixes: dict[str, Mix | None] = dict.fromkeys([*chain, "A", "B", "Z"])
    edges = [(a, b, 0.9) for a, b in itertools.pairwise(chain)] + [("A", "B", 0.9)]
    ids = await _catalogue(engine, mixes, edges)
    for a, b in (("A", "C00"), ("Z", "A"), ("C00", "C39")):  # the chain is too long
        before, started = graph_queries(engine.name), time.monotonic()
        error = await gql.error(PATH, {"from": ids[a], "to": ids[b], "steps": 50})
        assert error["extensions"]["code"] == "NO_PATH", error
        assert graph_queries(engine.name) - before <= 2 + 8  # tracks, rounds of expansion
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"steps": 2}, "VALIDATION_ERROR"),
        ({"steps": 51}, "VALIDATION_ERROR"),
        ({"tolerance": 0.9}, "VALIDATION_ERROR"),
        ({"to": "A"}, "VALIDATION_ERROR"),
        ({"to": MISSING_TRACK}, "NOT_FOUND"),
        ({"to": "nope"}, "VALIDATION_ERROR"),
    ],
)
async def test_bad_arguments(
    engine: GraphEngine, gql: GraphQLClient, args: dict[str, Any], code: str
) -> None:
    ids = await _catalogue(engine, FORK, FORK_EDGES)
    variables = {"from": ids["A"], "to": ids["B"]} | args
    if variables["to"] in ids:
        variables["to"] = ids[variables["to"]]
    error = await gql.error(PATH, variables)
    assert error["extensions"]["code"] == code


def test_the_search_stops_at_its_deadline() -> None:
    grid = {f"n{i}": {f"n{j}": 0.5 for j in range(40) if j != i} for i in range(40)}
    with pytest.raises(_paths.SearchTimeout):
        _paths.best_path(grid, "n0", "n1", 50, deadline=time.monotonic() - 1)
    path, _ = _paths.best_path(grid, "n0", "n1", 30) or ([], 0.0)
    assert len(path) == 30 and len(set(path)) == 30 and path[-1] == "n1"
    assert _paths.best_path(grid, "n0", "elsewhere", 5) is None


def test_tempo_compatibility() -> None:
    assert _paths.tempo_compatible(120.0, 127.0)
    assert not _paths.tempo_compatible(120.0, 128.0)
    assert _paths.tempo_compatible(120.0, 61.0) and _paths.tempo_compatible(70.0, 139.0)
    assert not _paths.tempo_compatible(120.0, 90.0)
