"""`search(mode: HYBRID)`: typo-tolerant full text fused with audio-embedding neighbours
by reciprocal-rank fusion, and `search(filters:)`."""

from typing import Any

from graph import analysis, catalog_writes
from graph.engine import GraphEngine
from graph.search import RRF_K, Hit, fuse
from tests.support import GraphQLClient

SEARCH = """
query Search($query: String!, $mode: SearchMode, $filters: SearchFilters, $types: [SearchType!]) {
  search(query: $query, mode: $mode, filters: $filters, types: $types) {
    score
    node {
      __typename
      ... on Track { id title }
      ... on Artist { id name }
      ... on Album { id title }
    }
  }
}
"""


def _vector(*head: float) -> list[float]:
    return [*head, *([0.0] * (64 - len(head)))]


# Titles, genre, audio features and the direction of the audio embedding: "Nocturne"
# sounds like "Midnight Groove" but shares no word with it; "Thunder March" sounds like
# neither.
TRACKS: dict[str, tuple[str, dict[str, Any], list[float]]] = {
    "Midnight Groove": ("Jazz", {"tempo": 92.0, "key": "A", "mode": "minor"}, _vector(1.0, 0.1)),
    "Nocturne": ("Jazz", {"tempo": 90.0, "key": "A", "mode": "minor"}, _vector(0.98, 0.15)),
    "Thunder March": (
        "Rock",
        {"tempo": 150.0, "key": "C", "mode": "major"},
        _vector(0.0, 0.0, 1.0),
    ),
    "Groove Machine": ("Funk", {"tempo": 110.0, "key": "E", "mode": "minor"}, _vector(0.7, 0.7)),
}


async def _catalogue(engine: GraphEngine) -> dict[str, str]:
    rows = await catalog_writes.create_tracks(
        engine,
        [{"title": t, "genres": [g], "artist_names": ["Band"]} for t, (g, _, _) in TRACKS.items()],
    )
    ids = {r["title"]: r["id"] for r in rows}
    for title, (_, features, vector) in TRACKS.items():
        await analysis.set_features(engine, ids[title], features)
        await analysis.upsert_embedding(engine, ids[title], "audio", vector)
    return ids


async def _search(gql: GraphQLClient, query: str, **variables: Any) -> list[dict[str, Any]]:
    data = await gql.query(SEARCH, {"query": query, **variables})
    hits: list[dict[str, Any]] = data["search"]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    return hits


def _titles(hits: list[dict[str, Any]]) -> list[str]:
    return [h["node"].get("title") or h["node"]["name"] for h in hits]


async def test_hybrid_finds_a_track_by_a_misspelt_title_through_its_neighbours(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    await _catalogue(engine)
    # Plain full text knows no "midnght"; HYBRID matches it one edit away, and brings
    # "Nocturne", which shares no word with the query, as the nearest sound.
    assert await _search(gql, "midnght") == []
    titles = _titles(await _search(gql, "midnght", mode="HYBRID"))
    assert titles[:2] == ["Midnight Groove", "Nocturne"]
    assert "Thunder March" not in titles  # too far from any text hit to count


async def test_a_track_found_both_ways_outranks_one_found_one_way(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    await _catalogue(engine)
    hits = await _search(gql, "groove", mode="HYBRID", types=["TRACK"])
    titles = _titles(hits)
    # Both titles match "groove" and each is a close neighbour of the other; Nocturne
    # is the nearest sound of both but comes by sound alone, so below them.
    assert set(titles[:2]) == {"Midnight Groove", "Groove Machine"}
    assert "Nocturne" in titles[2:]
    by_title = {t: h["score"] for t, h in zip(titles, hits, strict=True)}
    assert by_title["Nocturne"] <= 1 / (RRF_K + 1)
    assert by_title["Midnight Groove"] > 1 / (RRF_K + 1)


async def test_text_mode_is_unchanged_by_default(engine: GraphEngine, gql: GraphQLClient) -> None:
    await _catalogue(engine)
    assert _titles(await _search(gql, "nocturne")) == ["Nocturne"]
    assert _titles(await _search(gql, "nocturne", mode="TEXT")) == ["Nocturne"]


async def test_filters_narrow_hits_to_passing_tracks(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    await _catalogue(engine)
    jazz = await _search(gql, "groove", filters={"genres": ["jazz"]})
    assert _titles(jazz) == ["Midnight Groove"]
    fast = await _search(gql, "groove", filters={"tempo": {"min": 100}})
    assert _titles(fast) == ["Groove Machine"]
    minor_a = await _search(gql, "groove", mode="HYBRID", filters={"camelot": ["8a"]})
    assert set(_titles(minor_a)) == {"Midnight Groove", "Nocturne"}
    # With a filter, artists and albums (which have none of these attributes) drop out.
    assert await _search(gql, "band", filters={"year": {"min": 1900}}) == []
    assert _titles(await _search(gql, "band")) == ["Band"]


async def test_bad_filters_are_validation_errors(gql: GraphQLClient) -> None:
    for filters in ({"tempo": {"min": 120, "max": 100}}, {"artistId": "trk_nope"}):
        error = await gql.error(SEARCH, {"query": "x", "filters": filters})
        assert error["extensions"]["code"] == "VALIDATION_ERROR", filters


def test_fusion_sums_reciprocal_ranks() -> None:
    text = [Hit("Track", "a", 3.0), Hit("Track", "b", 2.0)]
    sound = [Hit("Track", "c", 0.9), Hit("Track", "b", 0.8)]
    fused = fuse([text, sound])
    assert [h.id for h in fused] == ["b", "a", "c"]
    assert fused[0].score == 1 / (RRF_K + 2) + 1 / (RRF_K + 2)
    assert fused[1].score == fused[2].score == 1 / (RRF_K + 1)
