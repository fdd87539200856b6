"""Listening data through GraphQL: recording plays, the history, play counts (one query
per page), trends per period and metric, and catalogue and collection statistics."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graph import analysis, catalog_writes, counts, listening, pages
from graph.engine import GraphEngine
from graph.ids import new_id
from server.settings import Settings
from tests.support import GraphQLClient, graph_queries, user_token

MISSING_TRACK_ID = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"

RECORD = """
mutation Record($trackId: ID!, $at: DateTime, $durationPlayed: Float) {
  recordPlay(trackId: $trackId, at: $at, durationPlayed: $durationPlayed) {
    at durationPlayed track { id title playCount }
  }
}
"""
HISTORY = """
query History($first: Int, $after: String) {
  history(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { at durationPlayed track { id } } }
  }
}
"""
HISTORY_WITH_TRACKS = """
query History($first: Int) {
  history(first: $first) { edges { node { track { id playCount artists { name } } } } }
}
"""
PLAY_COUNT = "query($id: ID!) { track(id: $id) { playCount } }"
TRENDS = """
query Trends($period: TrendPeriod!, $metric: TrendMetric!, $last: Int) {
  trends(period: $period, metric: $metric, last: $last) { start value }
}
"""
STATS = """
query Stats($collectionId: ID) {
  collectionStats(collectionId: $collectionId) {
    trackCount artistCount albumCount genreCount totalDuration
    genreDistribution { genre { name } count }
    keyDistribution { camelot count }
    bpmDistribution { min max count }
  }
}
"""


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def make_tracks(engine: GraphEngine, inputs: list[dict[str, Any]]) -> list[str]:
    rows = await catalog_writes.create_tracks(engine, inputs)
    return [row["id"] for row in rows]


async def signed_in(
    gql: GraphQLClient, engine: GraphEngine, settings: Settings, role: str = "user"
) -> GraphQLClient:
    _, token = await user_token(engine, settings, role)
    return gql.as_(token)


async def record(client: GraphQLClient, track_id: str, **variables: Any) -> dict[str, Any]:
    data = await client.query(RECORD, {"trackId": track_id} | variables)
    return data["recordPlay"]  # type: ignore[no-any-return]


async def test_record_play_and_read_the_history_newest_first(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    a, b = await make_tracks(engine, [{"title": "A", "duration": 200.0}, {"title": "B"}])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    played = await record(me, a, at=iso(start), durationPlayed=120.5)
    assert played == {
        "at": iso(start),
        "durationPlayed": 120.5,
        "track": {"id": a, "title": "A", "playCount": 1},
    }
    full = await record(me, a, at=iso(start + timedelta(minutes=5)))
    assert full["durationPlayed"] == 200.0  # the whole track by default
    await record(me, b, at=iso(start + timedelta(minutes=10)), durationPlayed=3)
    await record(me, b, at=iso(start + timedelta(minutes=10)), durationPlayed=4)  # a retry
    now = await record(me, a)
    assert now["at"] > iso(start + timedelta(minutes=10))

    seen, after = [], None
    while True:
        page = (await me.query(HISTORY, {"first": 2, "after": after}))["history"]
        assert page["totalCount"] == 4
        seen += [(e["node"]["track"]["id"], e["node"]["durationPlayed"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [(a, 200.0), (b, 4.0), (a, 200.0), (a, 120.5)]
    assert (await me.query(PLAY_COUNT, {"id": a}))["track"]["playCount"] == 3


async def test_plays_are_private_but_admins_see_them_all(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    other = await signed_in(gql, engine, settings)
    [track_id] = await make_tracks(engine, [{"title": "Shared", "duration": 60.0}])
    await record(me, track_id)
    await record(other, track_id, durationPlayed=10)
    await record(other, track_id, at=iso(datetime.now(UTC) - timedelta(seconds=5)))
    assert (await me.query(PLAY_COUNT, {"id": track_id}))["track"]["playCount"] == 1
    assert (await other.query(PLAY_COUNT, {"id": track_id}))["track"]["playCount"] == 2
    assert (await gql.query(PLAY_COUNT, {"id": track_id}))["track"]["playCount"] == 3
    anonymous = await gql.as_(None).query(PLAY_COUNT, {"id": track_id})  # may read the catalogue
    assert anonymous["track"]["playCount"] == 0
    assert (await me.query(HISTORY))["history"]["totalCount"] == 1
    assert (await gql.query(HISTORY))["history"]["totalCount"] == 0  # history is your own
    plays = {"period": "DAY", "metric": "PLAYS", "last": 1}
    assert (await me.query(TRENDS, plays))["trends"][0]["value"] == 1.0
    assert (await gql.query(TRENDS, plays))["trends"][0]["value"] == 3.0
    duration = plays | {"metric": "DURATION"}
    assert (await other.query(TRENDS, duration))["trends"][0]["value"] == 70.0


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"trackId": "nope"}, "VALIDATION_ERROR", "trackId"),
        ({"trackId": MISSING_TRACK_ID}, "NOT_FOUND", "trackId"),
        ({"at": "FUTURE"}, "VALIDATION_ERROR", "at"),
        ({"at": "1960-01-01T00:00:00Z"}, "VALIDATION_ERROR", "at"),
        ({"durationPlayed": -1.0}, "VALIDATION_ERROR", "durationPlayed"),
        ({"durationPlayed": 261.0}, "VALIDATION_ERROR", "durationPlayed"),
    ],
)
async def test_bad_plays_are_refused(
    engine: GraphEngine,
    gql: GraphQLClient,
    settings: Settings,
    variables: dict[str, Any],
    code: str,
    field: str,
) -> None:
    me = await signed_in(gql, engine, settings)
    [track_id] = await make_tracks(engine, [{"title": "Short", "duration": 100.0}])
    if variables.get("at") == "FUTURE":
        variables = variables | {"at": iso(datetime.now(UTC) + timedelta(hours=1))}
    error = await me.error(RECORD, {"trackId": track_id} | variables)
    assert error["extensions"] == {"code": code, "field": field}
    assert (await me.query(HISTORY))["history"]["totalCount"] == 0
    await record(me, track_id, durationPlayed=260.0)  # twice the duration and a minute


async def test_bad_queries_are_refused(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    error = await gql.error(HISTORY, {"after": "bm9wZQ"})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "after"}
    for last in (0, 366):
        error = await gql.error(TRENDS, {"period": "DAY", "metric": "PLAYS", "last": last})
        assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "last"}
    guest = await signed_in(gql, engine, settings, "guest")
    for doc, variables in ((TRENDS, {"period": "DAY", "metric": "UPLOADS"}), (STATS, {})):
        assert (await guest.error(doc, variables))["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.as_(None).error(HISTORY))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_page_of_history_costs_the_same_whatever_its_size(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    track_ids = await make_tracks(
        engine, [{"title": f"T{i}", "artist_names": [f"Artist {i}"]} for i in range(12)]
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    for i, track_id in enumerate(track_ids):
        await record(me, track_id, at=iso(start + timedelta(seconds=i)))
    await me.query(HISTORY, {"first": 1})  # warm: the revocation cache loads once
    spent = []
    for first in (2, 12):
        before = graph_queries(engine.name)
        data = await me.query(HISTORY_WITH_TRACKS, {"first": first})
        spent.append(graph_queries(engine.name) - before)
        edges = data["history"]["edges"]
        assert [e["node"]["track"]["playCount"] for e in edges] == [1] * first
        assert edges[0]["node"]["track"]["artists"] == [{"name": "Artist 11"}]
    assert spent == [3, 3]  # the page, the play counts, the artists


async def test_trends_bucket_by_period(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    [track_id] = await make_tracks(engine, [{"title": "Old", "duration": 300.0}])
    await make_tracks(engine, [{"title": "New"}])
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    plays = [
        (today - timedelta(hours=12), 30.0),
        (today - timedelta(hours=13), 40.0),
        (today - timedelta(days=2, hours=1), 50.0),
        (today.replace(month=1, day=1) - timedelta(days=200), 60.0),
    ]
    for at, seconds in plays:
        await record(me, track_id, at=iso(at), durationPlayed=seconds)

    async def trends(period: str, metric: str, last: int) -> list[dict[str, Any]]:
        variables = {"period": period, "metric": metric, "last": last}
        return (await me.query(TRENDS, variables))["trends"]  # type: ignore[no-any-return]

    days = await trends("DAY", "DURATION", 4)
    assert [p["start"] for p in days] == [iso(today - timedelta(days=3 - k)) for k in range(4)]
    assert [p["value"] for p in days] == [50.0, 0.0, 70.0, 0.0]
    assert [p["value"] for p in await trends("DAY", "PLAYS", 4)] == [1.0, 0.0, 2.0, 0.0]
    assert [p["value"] for p in await trends("DAY", "UPLOADS", 2)] == [0.0, 2.0]

    weeks = await trends("WEEK", "PLAYS", 3)
    monday = today - timedelta(days=today.weekday())
    assert weeks[-1]["start"] == iso(monday)
    assert datetime.fromisoformat(weeks[0]["start"]) == monday - timedelta(weeks=2)

    months = await trends("MONTH", "PLAYS", 24)
    assert months[-1]["start"] == iso(today.replace(day=1))
    assert all(p["start"][8:] == "01T00:00:00.000Z" for p in months)
    assert sum(p["value"] for p in months) == 4.0

    years = await trends("YEAR", "PLAYS", 3)
    assert [p["start"][:4] for p in years] == [str(today.year - k) for k in (2, 1, 0)]
    per_year = [sum(1.0 for at, _ in plays if at.year == today.year - k) for k in (2, 1, 0)]
    assert [p["value"] for p in years] == per_year


async def test_collection_stats(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    a, b, c = await make_tracks(
        engine,
        [
            {
                "title": "A",
                "duration": 100.0,
                "artist_names": ["Ann"],
                "album_title": "First",
                "genres": ["Jazz"],
            },
            {
                "title": "B",
                "duration": 200.0,
                "artist_names": ["Ann", "Bob"],
                "genres": ["Jazz", "Blues"],
            },
            {"title": "C", "artist_names": ["Cy"]},
        ],
    )
    await analysis.set_features(engine, a, {"tempo": 121.0, "key": "A", "mode": "minor"})
    await analysis.set_features(engine, b, {"tempo": 128.5, "key": "C", "mode": "major"})
    await analysis.set_features(engine, c, {"tempo": 90.0})
    stats = (await gql.query(STATS))["collectionStats"]
    assert stats == {
        "trackCount": 3,
        "artistCount": 3,
        "albumCount": 1,
        "genreCount": 2,
        "totalDuration": 300.0,
        "genreDistribution": [
            {"genre": {"name": "Jazz"}, "count": 2},
            {"genre": {"name": "Blues"}, "count": 1},
        ],
        "keyDistribution": [{"camelot": "8A", "count": 1}, {"camelot": "8B", "count": 1}],
        "bpmDistribution": [
            {"min": 90.0, "max": 100.0, "count": 1},
            {"min": 120.0, "max": 130.0, "count": 2},
        ],
    }

    me = await signed_in(gql, engine, settings)
    created = await me.query('mutation { createCollection(input: {name: "Mine"}) { id } }')
    collection_id = created["createCollection"]["id"]
    await me.query(
        "mutation($id: ID!, $t: [ID!]!) { addToCollection(id: $id, trackIds: $t) { id } }",
        {"id": collection_id, "t": [b]},
    )
    mine = (await me.query(STATS, {"collectionId": collection_id}))["collectionStats"]
    assert (mine["trackCount"], mine["artistCount"], mine["albumCount"]) == (1, 2, 0)
    assert (mine["genreCount"], mine["totalDuration"]) == (2, 200.0)
    assert mine["keyDistribution"] == [{"camelot": "8B", "count": 1}]

    stranger = await signed_in(gql, engine, settings)
    error = await stranger.error(STATS, {"collectionId": collection_id})
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await stranger.error(STATS, {"collectionId": MISSING_TRACK_ID})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "collectionId"}


@pytest.mark.parametrize("budget", [6, 1024])
async def test_history_pages_are_windows_of_time_that_walk_every_play_in_order(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """A page of history reads a window of play times (index on PLAYED.at), not every
    play of the user: walked with tiny windows (cut short, shrunk, widened across gaps),
    every play comes once, newest first, ties of one millisecond by track id, another
    user's plays never; plays recorded during the walk do not disturb it."""
    monkeypatch.setattr(pages, "BUDGET", budget)
    pages.forget()
    user_id, other_id = new_id("User"), new_id("User")
    await engine.write(
        "test", "UNWIND $ids AS id CREATE (:User {id: id})", {"ids": [user_id, other_id]}
    )
    track_ids = await make_tracks(engine, [{"title": f"T{i}"} for i in range(9)])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    plays = []
    for i in range(60):
        # Bursts with gaps between them, and several tracks at one millisecond.
        at = start + timedelta(days=(i // 10) * 30, seconds=(i % 10) // 3)
        track_id = track_ids[i % 9]
        await listening.record_play(engine, user_id, track_id, at)
        await listening.record_play(engine, other_id, track_id, at + timedelta(milliseconds=1))
        plays.append((int(at.timestamp() * 1000), track_id))
    expected = sorted(set(plays), reverse=True)

    seen: list[tuple[int, str]] = []
    after = None
    for page in range(100):
        rows, keys = await listening.history_page(engine, user_id, after, 7)
        seen += [(r["at"], r["track"]["id"]) for r in rows[:6]]
        if len(rows) <= 6:
            break
        after = tuple(keys[5])
        # Newer than the walk: not in it.
        await listening.record_play(engine, user_id, track_ids[page % 9], datetime.now(UTC))
    assert seen == expected
    pages.forget()


async def test_a_users_play_count_is_kept_until_they_play_again(engine: GraphEngine) -> None:
    """`totalCount` of a history is kept a few seconds, and dropped when this process
    records a play of that user."""
    user_id = new_id("User")
    await engine.write("test", "CREATE (:User {id: $id})", {"id": user_id})
    [track_id] = await make_tracks(engine, [{"title": "Again"}])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    await listening.record_play(engine, user_id, track_id, start)
    assert await listening.history_count(engine, user_id) == 1
    before = graph_queries(engine.name)
    assert await listening.history_count(engine, user_id) == 1
    assert graph_queries(engine.name) == before  # kept
    await listening.record_play(engine, user_id, track_id, start + timedelta(minutes=5))
    assert await listening.history_count(engine, user_id) == 2


async def test_the_play_count_is_the_users_plays_whatever_happens_to_tracks(
    engine: GraphEngine,
) -> None:
    """The count reads the user's degree in PLAYED, not the edges one by one: it must
    still be the plays of this user only, several of one track included, and lose the
    plays of a track that is deleted."""
    me, other = new_id("User"), new_id("User")
    for user_id in (me, other):
        await engine.write("test", "CREATE (:User {id: $id})", {"id": user_id})
    kept, gone = await make_tracks(engine, [{"title": "Kept"}, {"title": "Gone"}])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for minute, track_id in enumerate([kept, kept, gone, kept, gone]):
        await listening.record_play(engine, me, track_id, start + timedelta(minutes=minute))
    await listening.record_play(engine, other, kept, start)
    await listening.record_play(engine, me, kept, start)  # the same play again: one edge
    assert await listening.history_count(engine, me) == 5
    assert await listening.history_count(engine, other) == 1
    assert await listening.history_count(engine, new_id("User")) == 0  # no such user
    await catalog_writes.delete_track(engine, gone)
    counts.forget()  # the count is kept a few seconds
    assert await listening.history_count(engine, me) == 3
    assert await listening.history_count(engine, other) == 1
