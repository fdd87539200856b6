"""Audio features, embeddings and similar tracks over GraphQL, against a live server."""

from typing import Any

import pytest

from graph import catalog_writes, similarity
from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, graph_queries, user_token

SET_FEATURES = """
mutation Set($id: ID!, $input: AudioFeaturesInput!) {
  setAudioFeatures(trackId: $id, input: $input) {
    id analysisStatus
    audioFeatures { tempo key mode camelot openKey energy danceability mfccMean }
  }
}
"""
READ = """
query Read($id: ID!, $type: String! = "audio") {
  track(id: $id) {
    analysisStatus
    audioFeatures { tempo key mode camelot openKey energy lufs }
    embedding(type: $type)
  }
}
"""
UPSERT = """
mutation Upsert($id: ID!, $type: String!, $vector: [Float!]!) {
  upsertEmbedding(trackId: $id, type: $type, vector: $vector) { id analysisStatus }
}
"""
REMOVE = """
mutation Remove($id: ID!, $type: String!) {
  deleteEmbedding(trackId: $id, type: $type) { id }
}
"""
SIMILAR = """
query Similar($id: ID!) {
  track(id: $id) {
    similar(first: 5) { score track { id title } reasons { feature value description } }
  }
  similarTracks(trackId: $id, first: 1) { score track { id } }
}
"""
STATISTICS = """
{ audioFeatureStatistics {
  totalAnalyzed
  tempoHistogram { min max count }
  camelotCounts { camelot count }
  energyHistogram { min max count }
} }
"""
PAGE = """
query Page($first: Int!) {
  tracks(first: $first) { edges { node { audioFeatures { tempo } similar(first: 3) { score } } } }
}
"""
MISSING_TRACK = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"


async def _tracks(engine: GraphEngine, n: int) -> list[str]:
    rows = await catalog_writes.create_tracks(engine, [{"title": f"T{i:03d}"} for i in range(n)])
    return [row["id"] for row in rows]


def _code(error: dict[str, Any]) -> str:
    return str(error["extensions"]["code"])


async def test_features_round_trip_with_derived_codes(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, c = await _tracks(engine, 2)
    before = await gql.query(READ, {"id": a})
    assert before["track"] == {
        "analysisStatus": "PENDING",
        "audioFeatures": None,
        "embedding": None,
    }
    data = await gql.query(
        SET_FEATURES,
        {
            "id": a,
            "input": {
                "tempo": 124.0,
                "key": "A",
                "mode": "minor",
                "energy": 0.7,
                "mfccMean": [1.0, 2.0],
            },
        },
    )
    assert data["setAudioFeatures"]["analysisStatus"] == "ANALYZED"
    features = data["setAudioFeatures"]["audioFeatures"]
    assert (features["camelot"], features["openKey"]) == ("8A", "1m")
    assert features["mfccMean"] == [1.0, 2.0]
    await gql.query(SET_FEATURES, {"id": c, "input": {"tempo": 98.5, "key": "C", "mode": "major"}})
    read = (await gql.query(READ, {"id": c}))["track"]
    assert read["audioFeatures"] == {
        "tempo": 98.5,
        "key": "C",
        "mode": "major",
        "camelot": "8B",
        "openKey": "1d",
        "energy": None,
        "lufs": None,
    }
    # A second write replaces: what the input leaves out is cleared.
    await gql.query(SET_FEATURES, {"id": a, "input": {"tempo": 125.0}})
    read = (await gql.query(READ, {"id": a}))["track"]["audioFeatures"]
    assert read["tempo"] == 125.0 and read["camelot"] is None and read["energy"] is None


@pytest.mark.parametrize(
    "bad",
    [
        {"tempo": 19.0},
        {"tempo": 301.0},
        {"tempo": 120.0, "energy": 1.5},
        {"tempo": 120.0, "danceability": -0.1},
        {"tempo": 120.0, "key": "H", "mode": "minor"},
        {"tempo": 120.0, "key": "A", "mode": "dorian"},
        {"tempo": 120.0, "key": "A"},
        {"tempo": 120.0, "mfccMean": []},
    ],
)
async def test_invalid_features_are_refused_and_nothing_changes(
    engine: GraphEngine, gql: GraphQLClient, bad: dict[str, Any]
) -> None:
    [a] = await _tracks(engine, 1)
    await gql.query(SET_FEATURES, {"id": a, "input": {"tempo": 120.0, "energy": 0.5}})
    error = await gql.error(SET_FEATURES, {"id": a, "input": bad})
    assert _code(error) == "VALIDATION_ERROR"
    assert error["message"].startswith("'input.")  # the argument, as the client wrote it
    read = (await gql.query(READ, {"id": a}))["track"]["audioFeatures"]
    assert (read["tempo"], read["energy"]) == (120.0, 0.5)


async def test_unknown_and_malformed_track_ids(gql: GraphQLClient) -> None:
    variables = {"input": {"tempo": 120.0}}
    missing = await gql.error(SET_FEATURES, {"id": MISSING_TRACK} | variables)
    assert _code(missing) == "NOT_FOUND"
    malformed = await gql.error(SET_FEATURES, {"id": "nope"} | variables)
    assert _code(malformed) == "VALIDATION_ERROR"
    assert _code(await gql.error(SIMILAR, {"id": MISSING_TRACK})) == "NOT_FOUND"


async def test_embedding_upsert_read_and_remove(engine: GraphEngine, gql: GraphQLClient) -> None:
    a, b = await _tracks(engine, 2)
    vector = [i / 64 for i in range(64)]
    data = await gql.query(UPSERT, {"id": a, "type": "audio", "vector": vector})
    assert data["upsertEmbedding"]["analysisStatus"] == "ANALYZED"
    assert (await gql.query(READ, {"id": a}))["track"]["embedding"] == vector
    bad = (("audio", vector[:63]), ("nope", vector), ("audio", []), ("audio", [0.0] * 64))
    for bad_type, bad_vector in bad:
        error = await gql.error(UPSERT, {"id": b, "type": bad_type, "vector": bad_vector})
        assert _code(error) == "VALIDATION_ERROR"
    # Other types: 1-1024 values, and the first vector stored fixes the dimension.
    await gql.query(UPSERT, {"id": a, "type": "clap", "vector": [0.5, 0.25, 1.0]})
    error = await gql.error(UPSERT, {"id": b, "type": "clap", "vector": [0.5, 0.25]})
    assert _code(error) == "VALIDATION_ERROR"
    zeros = await gql.error(UPSERT, {"id": b, "type": "clap", "vector": [0.0, 0.0, 0.0]})
    assert _code(zeros) == "VALIDATION_ERROR"  # Neo4j's cosine index would ignore it
    too_long = await gql.error(UPSERT, {"id": b, "type": "text", "vector": [0.0] * 1025})
    assert _code(too_long) == "VALIDATION_ERROR"
    read = (await gql.query(READ, {"id": b, "type": "clap"}))["track"]
    assert read == {"analysisStatus": "PENDING", "audioFeatures": None, "embedding": None}
    await gql.query(REMOVE, {"id": a, "type": "audio"})
    assert (await gql.query(READ, {"id": a}))["track"]["embedding"] is None
    assert (await gql.query(READ, {"id": a, "type": "clap"}))["track"]["embedding"] == [
        0.5,
        0.25,
        1.0,
    ]


async def test_guest_and_anonymous_callers_are_refused(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    [a] = await _tracks(engine, 1)
    _, guest = await user_token(engine, settings, "guest")
    for token, code in ((None, "UNAUTHENTICATED"), (guest, "FORBIDDEN")):
        caller = gql.as_(token)
        error = await caller.error(SET_FEATURES, {"id": a, "input": {"tempo": 120.0}})
        assert _code(error) == code
        error = await caller.error(UPSERT, {"id": a, "type": "audio", "vector": [0.0] * 64})
        assert _code(error) == code
    read = (await gql.query(READ, {"id": a}))["track"]
    assert read == {"analysisStatus": "PENDING", "audioFeatures": None, "embedding": None}


async def test_similar_tracks_in_score_order_with_reasons(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, b, c, d = await _tracks(engine, 4)
    features = {
        a: {"tempo": 120.0, "key": "A", "mode": "minor", "energy": 0.8, "mfccMean": [1.0, 0.0]},
        b: {"tempo": 60.5, "key": "E", "mode": "minor", "energy": 0.6, "mfccMean": [1.0, 0.0]},
        c: {"tempo": 128.0, "key": "C", "mode": "major", "energy": 0.5},
    }
    for track_id, values in features.items():
        await gql.query(SET_FEATURES, {"id": track_id, "input": values})
    rows = [
        {"source": a, "target": b, "score": 0.7},
        {"source": a, "target": c, "score": 0.9},
        {"source": a, "target": d, "score": 0.2},
    ]
    assert await similarity.write_edges(engine, rows, "exact") == 3
    data = await gql.query(SIMILAR, {"id": a})
    similar = data["track"]["similar"]
    assert [s["track"]["id"] for s in similar] == [c, b, d]
    assert [s["score"] for s in similar] == pytest.approx([0.9, 0.7, 0.2])
    assert [s["track"]["id"] for s in data["similarTracks"]] == [c]
    to_c = {r["feature"]: r["value"] for r in similar[0]["reasons"]}
    assert to_c == pytest.approx({"tempo": 8.0, "key": 1.0, "energy": 0.3})
    to_b = {r["feature"]: r["value"] for r in similar[1]["reasons"]}
    assert to_b == pytest.approx({"tempo": 1.0, "key": 1.0, "energy": 0.2, "timbre": 1.0})
    assert "half/double" in similar[1]["reasons"][0]["description"]
    assert similar[2]["reasons"] == []  # d has no features


async def test_statistics(engine: GraphEngine, gql: GraphQLClient) -> None:
    ids = await _tracks(engine, 4)
    inputs = [
        {"tempo": 121.0, "key": "A", "mode": "minor", "energy": 0.05},
        {"tempo": 128.0, "key": "A", "mode": "minor", "energy": 1.0},
        {"tempo": 90.0, "key": "C", "mode": "major", "energy": 0.95},
    ]
    for track_id, values in zip(ids, inputs, strict=False):
        await gql.query(SET_FEATURES, {"id": track_id, "input": values})
    stats = (await gql.query(STATISTICS))["audioFeatureStatistics"]
    assert stats["totalAnalyzed"] == 3
    assert stats["tempoHistogram"] == [
        {"min": 90.0, "max": 100.0, "count": 1},
        {"min": 120.0, "max": 130.0, "count": 2},
    ]
    assert stats["camelotCounts"] == [{"camelot": "8A", "count": 2}, {"camelot": "8B", "count": 1}]
    assert stats["energyHistogram"] == [
        {"min": 0.0, "max": 0.1, "count": 1},
        {"min": 0.9, "max": 1.0, "count": 2},
    ]


# The tracks page, the features of its tracks, and their neighbours (with features).
PAGE_ROUND_TRIPS = 3


async def test_page_with_features_and_neighbours_costs_fixed_queries(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    ids = await _tracks(engine, 25)
    rows = [
        {"source": s, "target": t, "score": 0.5}
        for s, t in zip(ids, ids[1:] + ids[:1], strict=True)
    ]
    await similarity.write_edges(engine, rows, "exact")
    for track_id in ids[:5]:
        await gql.query(SET_FEATURES, {"id": track_id, "input": {"tempo": 100.0}})
    await gql.query(PAGE, {"first": 1})  # warm up
    for size in (1, 20):
        before = graph_queries(engine.name)
        data = await gql.query(PAGE, {"first": size})
        spent = graph_queries(engine.name) - before
        edges = data["tracks"]["edges"]
        assert len(edges) == size
        assert all(len(e["node"]["similar"]) == 1 for e in edges)
        assert spent == PAGE_ROUND_TRIPS, size


async def test_bad_read_arguments_are_validation_errors(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    [a] = await _tracks(engine, 1)
    bad_type = await gql.error(READ, {"id": a, "type": "Not-A-Type"})
    assert _code(bad_type) == "VALIDATION_ERROR"
    bad_first = await gql.error(
        "query($id: ID!) { track(id: $id) { similar(first: 0) { score } } }", {"id": a}
    )
    assert _code(bad_first) == "VALIDATION_ERROR"
