"""Reads by key are shared between the callers of one loop turn (graph/_batch.py): one
graph read for several requests, each given its own rows and only its own."""

import asyncio
from typing import Any

import pytest

from graph import _batch, catalog, catalog_writes
from graph import collection_store as graph_collections
from graph.collection_store import Viewer
from graph.engine import GraphEngine
from graph.errors import GraphUnavailableError
from server.app import create_app
from server.settings import Settings
from tests.support import GraphQLClient, user_token
from tests.support.graphql import on_reads

TRACK = "query($id: ID!) { track(id: $id) { id title artists { name } genres { name } } }"


def _record(engine: GraphEngine, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Every read the engine sends from now on: (operation, its `$ids`)."""
    sent: list[tuple[str, list[str]]] = []

    def note(operation: str, query: str, params: Any) -> None:
        sent.append((operation, list((params or {}).get("ids", []))))

    on_reads(engine, note, monkeypatch)
    return sent


async def _tracks(engine: GraphEngine, n: int) -> list[str]:
    created = await catalog_writes.create_tracks(
        engine,
        [
            {"title": f"Song {i}", "artist_names": [f"Band {i}"], "genres": [f"G{i % 3}"]}
            for i in range(n)
        ],
    )
    return [t["id"] for t in created]


async def test_one_turns_callers_share_one_read(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _tracks(engine, 6)
    sent = _record(engine, monkeypatch)
    # Six callers in one turn, two of them asking for the same track, one for nothing.
    asked = [[ids[0]], [ids[1], ids[2]], [ids[2]], [ids[3], "missing"], [ids[4]], [ids[5]]]
    found = await asyncio.gather(*(catalog.tracks_by_id(engine, a) for a in asked))
    assert sent == [("tracks_by_id", [ids[0], ids[1], ids[2], ids[3], "missing", ids[4], ids[5]])]
    for want, rows in zip(asked, found, strict=True):
        assert [None if r is None else r["id"] for r in rows] == [
            None if i == "missing" else i for i in want
        ]
    # A later turn is a read of its own.
    [again] = await catalog.tracks_by_id(engine, [ids[0]])
    assert again is not None and again["title"] == "Song 0"
    assert len(sent) == 2


async def test_each_caller_gets_rows_of_its_own(engine: GraphEngine) -> None:
    """Resolvers put what they prefetched on a row: a row given to two requests would
    carry one's to the other."""
    [a, b] = await _tracks(engine, 2)
    first, second = await asyncio.gather(
        catalog.tracks_by_id(engine, [a, b]), catalog.tracks_by_id(engine, [a])
    )
    assert first[0] == second[0] and first[0] is not second[0]
    assert first[0] is not None and second[0] is not None
    first[0]["prefetched"] = ["only the first caller's"]
    assert "prefetched" not in second[0]
    artists_a, artists_b = await asyncio.gather(
        catalog.artists_by_track(engine, [a]), catalog.artists_by_track(engine, [a, b])
    )
    assert artists_a[0] == artists_b[0] and artists_a[0] is not artists_b[0]
    assert artists_a[0][0] is not artists_b[0][0]
    assert [r["name"] for r in artists_b[1]] == ["Band 1"]


async def test_viewers_never_share_a_read(
    engine: GraphEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read whose parameters differ (the viewer of collections) is a read of its own,
    in the same turn: a private collection reaches its owner only."""
    [track] = await _tracks(engine, 1)
    owner = Viewer((await user_token(engine, settings, "user"))[0], admin=False)
    other = Viewer((await user_token(engine, settings, "user"))[0], admin=False)
    assert owner.user_id is not None
    created = await graph_collections.create_collection(
        engine, owner.user_id, {"name": "Mine", "public": False}
    )
    await graph_collections.add_tracks(engine, owner, created["id"], [track])
    sent = _record(engine, monkeypatch)
    mine, theirs, mine_too = await asyncio.gather(
        graph_collections.collections_by_id(engine, owner, [created["id"]]),
        graph_collections.collections_by_id(engine, other, [created["id"]]),
        graph_collections.collections_by_id(engine, owner, [created["id"]]),
    )
    assert mine[0] is not None and mine[0]["name"] == "Mine"
    assert mine_too[0] is not None and mine_too[0]["name"] == "Mine"
    assert theirs == [None]
    assert [op for op, _ in sent] == ["collections_by_id", "collections_by_id"]


async def test_a_failed_read_fails_each_caller_and_the_next_read_runs(
    engine: GraphEngine,
) -> None:
    [a, b] = await _tracks(engine, 2)
    # Valid Cypher that fails as it runs (an integer divided by zero).
    broken = "UNWIND $ids AS id MATCH (t:Track {id: id}) RETURN t{.id, x: size(id) / 0} AS row"
    results = await asyncio.gather(
        _batch.by_id(engine, "broken", broken, [a]),
        _batch.by_id(engine, "broken", broken, [b]),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [GraphUnavailableError, GraphUnavailableError]
    assert not _batch._pending.get(asyncio.get_running_loop())
    [row] = await catalog.tracks_by_id(engine, [a])
    assert row is not None and row["id"] == a


async def test_a_cancelled_caller_leaves_the_read_to_the_others(engine: GraphEngine) -> None:
    [a, b] = await _tracks(engine, 2)
    gone = asyncio.create_task(catalog.tracks_by_id(engine, [a]))
    staying = asyncio.create_task(catalog.tracks_by_id(engine, [b]))
    await asyncio.sleep(0)  # both have joined the read; it starts at the end of the turn
    gone.cancel()
    [row] = await staying
    assert row is not None and row["id"] == b
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_a_read_carries_at_most_max_shared_keys(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _tracks(engine, 9)
    monkeypatch.setattr(_batch, "MAX_SHARED_KEYS", 3)
    sent = _record(engine, monkeypatch)
    asked = [ids[0:1], ids[1:3], ids[3:4], ids[4:5], ids[5:9]]
    found = await asyncio.gather(*(catalog.tracks_by_id(engine, a) for a in asked))
    assert [[r["id"] for r in rows if r is not None] for rows in found] == asked
    # [0], [1, 2] fill a read; [3] and [4] the next; [5..8] alone is more than 3, and
    # goes whole: a caller's own keys are never split.
    assert sent == [("tracks_by_id", k) for k in (ids[0:3], ids[3:5], ids[5:9])]


async def test_concurrent_requests_each_get_their_own_answer(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    ids = await _tracks(engine, 12)
    answers = await asyncio.gather(*(gql.query(TRACK, {"id": i}) for i in ids * 2))
    for i, answer in zip(ids * 2, answers, strict=True):
        n = ids.index(i)
        assert answer["track"]["id"] == i
        assert answer["track"]["title"] == f"Song {n}"
        assert answer["track"]["artists"] == [{"name": f"Band {n}"}]
        assert answer["track"]["genres"] == [{"name": f"G{n % 3}"}]


async def test_apollonia_shared_reads_false_gives_each_caller_its_own_read(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APOLLONIA_SHARED_READS", "false")
    monkeypatch.setattr(_batch, "_sharing", True)
    create_app(Settings.from_env(), engine=engine)
    ids = await _tracks(engine, 3)
    sent = _record(engine, monkeypatch)
    await asyncio.gather(*(catalog.tracks_by_id(engine, [i]) for i in ids))
    assert sent == [("tracks_by_id", [i]) for i in ids]
