"""`recommendations`: seeds, strict bounds, targets and the graph signals, over GraphQL."""

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from graph import analysis, catalog, catalog_writes, listening, similarity
from graph import collection_store as graph_collections
from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, graph_queries, user_token

RECOMMEND = """
query Recommend($input: RecommendationInput!) {
  recommendations(input: $input) {
    score
    track { id title audioFeatures { tempo energy } }
    reasons { signal value description }
  }
}
"""
EXPENSIVE = """
query Expensive($id: ID!) {
  recommendations(input: {seedTrackIds: [$id], first: 100}) {
    track { id similar(first: 100) { score } }
  }
}
"""
MISSING_TRACK = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
MISSING_ARTIST = "art_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
FAMILIES, SIZE = 3, 8
GENRES = ("House", "Jazz", "Ambient")
TEMPOS = (90.0, 120.0, 140.0)
KEYS = (("A", "minor"), ("C", "major"), ("E", "minor"))


@dataclass
class Catalogue:
    """FAMILIES families of SIZE tracks, each by its own artist and in its own genre,
    sharing a rhythm (tempo), a key and an embedding centre; energy rises 0.1 to 0.8
    within a family. Every pair within a family is similar; the families are chained
    by weak edges. One track, `bare`, has no features and is similar to family 0."""

    families: list[list[str]]
    bare: str
    artists: list[str] = field(default_factory=list)
    energy: dict[str, float] = field(default_factory=dict)


async def _catalogue(engine: GraphEngine) -> Catalogue:
    inputs = [
        {
            "title": f"F{f} T{i}",
            "artist_names": [f"Artist {f}"],
            "genres": [GENRES[f]],
            "duration": 180.0 + 10 * i,
        }
        for f in range(FAMILIES)
        for i in range(SIZE)
    ]
    rows = await catalog_writes.create_tracks(engine, [*inputs, {"title": "Bare"}])
    ids = [r["id"] for r in rows]
    bare = ids.pop()
    cat = Catalogue([ids[f * SIZE : (f + 1) * SIZE] for f in range(FAMILIES)], bare)
    rng = np.random.default_rng(3)
    edges: list[dict[str, Any]] = []
    for f, family in enumerate(cat.families):
        centre = rng.normal(size=64)
        for i, track_id in enumerate(family):
            key, mode = KEYS[f]
            energy = round(0.1 + 0.1 * i, 2)
            cat.energy[track_id] = energy
            features = {"tempo": TEMPOS[f] + i, "key": key, "mode": mode, "energy": energy}
            await analysis.set_features(engine, track_id, features | {"danceability": 0.5})
            vector = centre + 0.3 * rng.normal(size=64)
            vector /= np.linalg.norm(vector)
            await analysis.upsert_embedding(engine, track_id, "audio", [float(x) for x in vector])
        for (i, a), (j, b) in itertools.permutations(enumerate(family), 2):
            edges.append({"source": a, "target": b, "score": 0.9 - 0.01 * abs(i - j)})
    for here, there in itertools.pairwise(cat.families):
        edges.append({"source": here[-1], "target": there[0], "score": 0.3})
    edges.append({"source": cat.families[0][0], "target": cat.bare, "score": 0.88})
    await similarity.write_edges(engine, edges, "exact")
    artists = await catalog.artists_by_track(engine, [family[0] for family in cat.families])
    cat.artists = [found[0]["id"] for found in artists]
    return cat


async def _recommend(gql: GraphQLClient, **values: Any) -> list[dict[str, Any]]:
    data = await gql.query(RECOMMEND, {"input": values})
    return data["recommendations"]  # type: ignore[no-any-return]


def _ids(results: list[dict[str, Any]]) -> list[str]:
    return [r["track"]["id"] for r in results]


def _signals(result: dict[str, Any]) -> set[str]:
    return {r["signal"] for r in result["reasons"]}


async def test_a_seed_track_brings_its_family(engine: GraphEngine, gql: GraphQLClient) -> None:
    cat = await _catalogue(engine)
    seed = cat.families[0][0]
    results = await _recommend(gql, seedTrackIds=[seed], first=10)
    ids = _ids(results)
    assert seed not in ids
    assert set(ids[: SIZE - 1]) == set(cat.families[0][1:])
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert all(0.0 <= r["score"] <= 1.0 for r in results)
    assert {"SIMILAR_TRACK", "EMBEDDING"} <= _signals(results[0])


async def test_min_and_max_are_strict(engine: GraphEngine, gql: GraphQLClient) -> None:
    cat = await _catalogue(engine)
    seed = cat.families[0][0]
    everything = _ids(await _recommend(gql, seedTrackIds=[seed], first=100))
    assert cat.bare in everything
    results = await _recommend(
        gql,
        seedTrackIds=[seed],
        first=100,
        min={"energy": 0.35, "tempo": 91},
        max={"energy": 0.65, "duration": 230},
    )
    assert results and cat.bare not in _ids(results)
    for r in results:
        features = r["track"]["audioFeatures"]
        assert 0.35 <= features["energy"] <= 0.65 and features["tempo"] >= 91
    key_only = await _recommend(gql, seedTrackIds=[seed], first=100, min={"key": 9}, max={"key": 9})
    assert set(_ids(key_only)) == set(cat.families[0][1:])  # A is pitch class 9
    major = await _recommend(gql, seedTrackIds=[seed], first=100, min={"mode": 1})
    assert major and not set(_ids(major)) & set(cat.families[0] + cat.families[2])


async def test_targets_pull_the_ranking(engine: GraphEngine, gql: GraphQLClient) -> None:
    cat = await _catalogue(engine)
    seed = cat.families[0][0]
    high = await _recommend(gql, seedTrackIds=[seed], first=3, target={"energy": 0.8})
    low = await _recommend(gql, seedTrackIds=[seed], first=3, target={"energy": 0.2})
    assert _ids(high)[0] == cat.families[0][7]
    assert _ids(low)[0] == cat.families[0][1]

    def mean(results: list[dict[str, Any]]) -> float:
        return sum(cat.energy[i] for i in _ids(results)) / len(results)

    assert mean(high) > mean(low) + 0.3
    target = next(x for x in high[0]["reasons"] if x["signal"] == "TARGET")
    assert target["value"] == pytest.approx(1.0) and "energy" in target["description"]


async def test_artist_and_genre_seeds(engine: GraphEngine, gql: GraphQLClient) -> None:
    cat = await _catalogue(engine)
    by_artist = await _recommend(gql, seedArtistIds=[cat.artists[1]], first=SIZE)
    assert set(_ids(by_artist)) == set(cat.families[1])
    assert all("SEED_ARTIST" in _signals(r) for r in by_artist)
    by_genre = await _recommend(gql, seedGenres=["  AMBIENT "], first=SIZE)
    assert set(_ids(by_genre)) == set(cat.families[2])
    mixed = await _recommend(
        gql, seedGenres=["jazz"], seedTrackIds=[cat.families[2][0]], first=2 * SIZE
    )
    assert set(_ids(mixed)) >= set(cat.families[1]) | set(cat.families[2][1:])


async def test_exclusions_plays_and_collections(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    cat = await _catalogue(engine)
    seed, far = cat.families[0][0], cat.families[2][4]
    me, token = await user_token(engine, settings, "user")
    other, _ = await user_token(engine, settings, "user")
    caller = gql.as_(token)
    base = {"seedTrackIds": [seed], "first": 100}
    ids = _ids(await _recommend(caller, **base, excludeTrackIds=cat.families[0][1:4]))
    assert not set(ids) & set(cat.families[0][1:4]) and cat.families[0][4] in ids

    # Someone else's private collection of the seed and `far` says nothing to me...
    mix = await graph_collections.create_collection(engine, other, {"name": "Mix"})
    owner = graph_collections.Viewer(other, False)
    await graph_collections.add_tracks(engine, owner, mix["id"], [seed, far])
    found = {r["track"]["id"]: r for r in await _recommend(caller, **base)}
    assert "SHARED_COLLECTIONS" not in _signals(found[far])
    # ...until it is public.
    await graph_collections.update_collection(engine, owner, mix["id"], {"public": True})
    found = {r["track"]["id"]: r for r in await _recommend(caller, **base)}
    assert "SHARED_COLLECTIONS" in _signals(found[far])

    # Listeners of the seed who played `far` too bring it closer.
    played = cat.families[0][2]
    for user, track_id in ((other, seed), (other, far), (me, played)):
        await listening.record_play(engine, user, track_id)
    found = {r["track"]["id"]: r for r in await _recommend(caller, **base)}
    assert "SHARED_LISTENERS" in _signals(found[far]) and played in found
    kept = _ids(await _recommend(caller, **base, excludePlayed=True))
    assert played not in kept and far in kept


async def test_round_trips_do_not_grow_with_first(engine: GraphEngine, gql: GraphQLClient) -> None:
    cat = await _catalogue(engine)
    seeds = {"seedTrackIds": [cat.families[0][0]], "seedArtistIds": [cat.artists[2]]}
    await _recommend(gql, **seeds, first=1)  # warm up
    spent = []
    for first in (2, 20):
        before = graph_queries(engine.name)
        await _recommend(gql, **seeds, first=first)
        spent.append(graph_queries(engine.name) - before)
    assert spent[0] == spent[1] <= 12  # the recommendation's reads, then features
    error = await gql.error(EXPENSIVE, {"id": cat.families[0][0]})
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({}, "VALIDATION_ERROR"),
        ({"seedGenres": ["a", "b", "c", "d", "e", "f"]}, "VALIDATION_ERROR"),
        ({"first": 0}, "VALIDATION_ERROR"),
        ({"first": 101}, "VALIDATION_ERROR"),
        ({"min": {"energy": 0.8}, "max": {"energy": 0.2}}, "VALIDATION_ERROR"),
        ({"target": {"key": 12}}, "VALIDATION_ERROR"),
        ({"min": {"mode": 2}}, "VALIDATION_ERROR"),
        ({"max": {"energy": 1.5}}, "VALIDATION_ERROR"),
        ({"seedTrackIds": ["nope"]}, "VALIDATION_ERROR"),
        ({"seedTrackIds": [MISSING_TRACK]}, "NOT_FOUND"),
        ({"seedArtistIds": [MISSING_ARTIST]}, "NOT_FOUND"),
        ({"seedGenres": ["No Such Genre"]}, "NOT_FOUND"),
    ],
)
async def test_bad_input(
    engine: GraphEngine, gql: GraphQLClient, values: dict[str, Any], code: str
) -> None:
    await catalog_writes.create_tracks(engine, [{"title": "T", "genres": ["Jazz"]}])
    if not any(k.startswith("seed") for k in values):
        values = values | {"seedGenres": ["jazz"]} if values else values
    error = await gql.error(RECOMMEND, {"input": values})
    assert error["extensions"]["code"] == code, error
