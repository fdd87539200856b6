"""An embedding derived from API-given features never replaces one that was given
directly or analysed from the audio, even when the job checked before that vector came:
the check is part of the write."""

import asyncio

from graph import analysis, analysis_store, catalog_writes
from graph.engine import GraphEngine

GIVEN = [0.0] * 63 + [1.0]
DERIVED = [1.0] + [0.0] * 63


async def _tracks(engine: GraphEngine, n: int) -> list[str]:
    rows = await catalog_writes.create_tracks(engine, [{"title": f"t{i}"} for i in range(n)])
    return [str(r["id"]) for r in rows]


async def _vector(engine: GraphEngine, track_id: str) -> list[float] | None:
    [vector] = await analysis.embeddings_by_track(engine, [(track_id, "audio")])
    return None if vector is None else [round(float(v), 6) for v in vector]


async def test_a_vector_given_after_the_check_is_kept(engine: GraphEngine) -> None:
    [track] = await _tracks(engine, 1)
    # The job's check: nothing to keep yet...
    assert not (await analysis_store.embedding_state(engine, track))["kept"]
    # ...then a client gives the vector before the job writes its own.
    await analysis.upsert_embedding(engine, track, "audio", GIVEN)
    assert not await analysis_store.store_feature_embedding(engine, track, DERIVED, 1)
    assert await _vector(engine, track) == GIVEN
    assert (await analysis_store.embedding_state(engine, track))["kept"]


async def test_an_analysed_vector_is_kept(engine: GraphEngine) -> None:
    [track] = await _tracks(engine, 1)
    await analysis_store.store(engine, track, {}, GIVEN, GIVEN, 1, 10.0)
    assert not await analysis_store.store_feature_embedding(engine, track, DERIVED, 1)
    assert await _vector(engine, track) == GIVEN


async def test_a_derived_vector_is_replaced_by_a_newer_derived_one(engine: GraphEngine) -> None:
    [track] = await _tracks(engine, 1)
    assert await analysis_store.store_feature_embedding(engine, track, GIVEN, 1)
    assert await analysis_store.store_feature_embedding(engine, track, DERIVED, 2)
    assert await _vector(engine, track) == DERIVED
    # Nothing of the check is left on the track.
    rows = await engine.read(
        "t", "MATCH (t:Track {id: $id}) RETURN t.embedding_checked AS c", {"id": track}
    )
    assert rows[0]["c"] is None


async def test_re_embedding_from_features_skips_tracks_given_a_vector_meanwhile(
    engine: GraphEngine,
) -> None:
    derived, given = await _tracks(engine, 2)
    for track in (derived, given):
        assert await analysis_store.store_feature_embedding(engine, track, GIVEN, 1)
    # The rebuild read both as derived; then a vector is given for one of them.
    await analysis.upsert_embedding(engine, given, "audio", GIVEN)
    rows = [{"id": derived, "vector": DERIVED}, {"id": given, "vector": DERIVED}]
    written = await analysis_store.set_embeddings(engine, rows, 2, from_features=True)
    assert written == 1
    assert await _vector(engine, derived) == DERIVED
    assert await _vector(engine, given) == GIVEN


async def test_racing_writes_leave_the_given_vector(engine: GraphEngine) -> None:
    tracks = await _tracks(engine, 8)
    for _ in range(3):
        await asyncio.gather(
            *(analysis.upsert_embedding(engine, t, "audio", GIVEN) for t in tracks),
            *(analysis_store.store_feature_embedding(engine, t, DERIVED, 1) for t in tracks),
        )
        assert [await _vector(engine, t) for t in tracks] == [GIVEN] * len(tracks)
