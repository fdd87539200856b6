"""The play queue through GraphQL: duplicates and order kept, the current entry followed,
bad indexes and unknown tracks refused without a change, one queue per user, and a
live subscription that another device of the same user follows."""

import asyncio
from typing import Any

import pytest
from gql import Client
from gql import gql as document
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from graph import catalog_writes
from graph.engine import GraphEngine
from graph.playqueue import MAX_QUEUE
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, user_token

MISSING_TRACK_ID = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"

QUEUE_FIELDS = "{ tracks { id title } currentIndex positionMs version updatedAt }"
READ = f"{{ playQueue {QUEUE_FIELDS} }}"
SET = f"""
mutation Set($trackIds: [ID!], $currentIndex: Int, $positionMs: Int) {{
  setPlayQueue(trackIds: $trackIds, currentIndex: $currentIndex, positionMs: $positionMs)
  {QUEUE_FIELDS}
}}
"""
ENQUEUE = f"""
mutation Enqueue($trackIds: [ID!]!, $position: Int) {{
  enqueue(trackIds: $trackIds, position: $position) {QUEUE_FIELDS}
}}
"""
DEQUEUE = f"mutation Dequeue($index: Int!) {{ dequeue(index: $index) {QUEUE_FIELDS} }}"
MOVE = f"""
mutation Move($fromIndex: Int!, $toIndex: Int!) {{
  moveInQueue(fromIndex: $fromIndex, toIndex: $toIndex) {QUEUE_FIELDS}
}}
"""
CLEAR = f"mutation {{ clearQueue {QUEUE_FIELDS} }}"
CHANGED = "subscription { playQueueChanged { tracks { id } currentIndex positionMs version } }"


async def make_tracks(engine: GraphEngine, n: int) -> list[str]:
    rows = await catalog_writes.create_tracks(
        engine, [{"title": f"Song {i}", "artist_names": ["Band"]} for i in range(n)]
    )
    return [row["id"] for row in rows]


async def signed_in(gql: GraphQLClient, engine: GraphEngine, settings: Settings) -> GraphQLClient:
    _, token = await user_token(engine, settings, "user")
    return gql.as_(token)


def ids(queue: dict[str, Any]) -> list[str]:
    return [t["id"] for t in queue["tracks"]]


async def test_the_queue_keeps_duplicates_and_order(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    a, b, c = await make_tracks(engine, 3)
    empty = (await me.query(READ))["playQueue"]
    assert empty == {
        "tracks": [],
        "currentIndex": None,
        "positionMs": 0,
        "version": 0,
        "updatedAt": None,
    }

    queue = (await me.query(SET, {"trackIds": [a, b, a]}))["setPlayQueue"]
    assert ids(queue) == [a, b, a]
    assert (queue["currentIndex"], queue["positionMs"], queue["version"]) == (0, 0, 1)
    assert queue["updatedAt"].endswith("Z")

    queue = (await me.query(ENQUEUE, {"trackIds": [c, a], "position": 1}))["enqueue"]
    assert ids(queue) == [a, c, a, b, a]
    queue = (await me.query(ENQUEUE, {"trackIds": [b]}))["enqueue"]
    assert ids(queue) == [a, c, a, b, a, b]
    queue = (await me.query(DEQUEUE, {"index": 2}))["dequeue"]
    assert ids(queue) == [a, c, b, a, b]  # the second `a`, not the first
    queue = (await me.query(MOVE, {"fromIndex": 0, "toIndex": 4}))["moveInQueue"]
    assert ids(queue) == [c, b, a, b, a]
    queue = (await me.query(MOVE, {"fromIndex": 3, "toIndex": 1}))["moveInQueue"]
    assert ids(queue) == [c, b, b, a, a]
    assert queue["version"] == 6

    # What a mutation returned is what is stored.
    assert (await me.query(READ))["playQueue"] == queue
    cleared = (await me.query(CLEAR))["clearQueue"]
    assert (ids(cleared), cleared["currentIndex"], cleared["version"]) == ([], None, 7)


async def test_the_current_entry_keeps_playing_through_changes(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    a, b, c, d = await make_tracks(engine, 4)
    await me.query(SET, {"trackIds": [a, b, c], "currentIndex": 1, "positionMs": 5000})

    async def current(doc: str, variables: dict[str, Any]) -> tuple[str, int, int]:
        queue = next(iter((await me.query(doc, variables)).values()))
        index = queue["currentIndex"]
        return queue["tracks"][index]["id"], index, queue["positionMs"]

    assert await current(ENQUEUE, {"trackIds": [d], "position": 0}) == (b, 2, 5000)
    assert await current(ENQUEUE, {"trackIds": [d]}) == (b, 2, 5000)  # [d, a, b, c, d]
    assert await current(MOVE, {"fromIndex": 2, "toIndex": 0}) == (b, 0, 5000)
    assert await current(MOVE, {"fromIndex": 4, "toIndex": 0}) == (b, 1, 5000)  # [d, b, d, a, c]
    assert await current(DEQUEUE, {"index": 0}) == (b, 0, 5000)
    # Removing the entry playing plays the next one from its start.
    assert await current(DEQUEUE, {"index": 0}) == (d, 0, 0)  # [d, a, c]
    # A player reports where it is without sending the tracks again.
    assert await current(SET, {"currentIndex": 2, "positionMs": 1234}) == (c, 2, 1234)
    assert await current(SET, {"positionMs": 99}) == (c, 2, 99)
    assert await current(DEQUEUE, {"index": 2}) == (a, 1, 0)  # the last one: the previous
    queue = (await me.query(DEQUEUE, {"index": 0}))["dequeue"]
    queue = (await me.query(DEQUEUE, {"index": 0}))["dequeue"]
    assert (queue["tracks"], queue["currentIndex"]) == ([], None)
    queue = (await me.query(ENQUEUE, {"trackIds": [c]}))["enqueue"]
    assert (ids(queue), queue["currentIndex"], queue["positionMs"]) == ([c], 0, 0)


@pytest.mark.parametrize(
    ("doc", "variables", "field"),
    [
        (SET, {"trackIds": ["nope"]}, "trackIds"),
        (SET, {"trackIds": [MISSING_TRACK_ID], "currentIndex": 1}, "currentIndex"),
        (SET, {"currentIndex": 2}, "currentIndex"),
        (SET, {"currentIndex": -1}, "currentIndex"),
        (SET, {"positionMs": -1}, "positionMs"),
        (ENQUEUE, {"trackIds": []}, "trackIds"),
        (ENQUEUE, {"trackIds": ["QUEUED"], "position": 3}, "position"),
        (ENQUEUE, {"trackIds": ["QUEUED"], "position": -1}, "position"),
        (DEQUEUE, {"index": 2}, "index"),
        (DEQUEUE, {"index": -1}, "index"),
        (MOVE, {"fromIndex": 2, "toIndex": 0}, "fromIndex"),
        (MOVE, {"fromIndex": 0, "toIndex": 2}, "toIndex"),
    ],
)
async def test_bad_indexes_are_refused_and_change_nothing(
    engine: GraphEngine,
    gql: GraphQLClient,
    settings: Settings,
    doc: str,
    variables: dict[str, Any],
    field: str,
) -> None:
    me = await signed_in(gql, engine, settings)
    a, b = await make_tracks(engine, 2)
    before = (await me.query(SET, {"trackIds": [a, b], "currentIndex": 1}))["setPlayQueue"]
    if variables.get("trackIds") == ["QUEUED"]:
        variables = variables | {"trackIds": [a]}
    error = await me.error(doc, variables)
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": field}
    assert (await me.query(READ))["playQueue"] == before


async def test_unknown_tracks_are_not_found_and_change_nothing(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    [a] = await make_tracks(engine, 1)
    before = (await me.query(SET, {"trackIds": [a]}))["setPlayQueue"]
    for doc in (SET, ENQUEUE):
        error = await me.error(doc, {"trackIds": [a, MISSING_TRACK_ID]})
        assert error["extensions"] == {"code": "NOT_FOUND", "field": "trackIds"}
        assert MISSING_TRACK_ID in error["message"]
    assert (await me.query(READ))["playQueue"] == before


async def test_the_queue_is_bounded(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    [a] = await make_tracks(engine, 1)
    error = await me.error(SET, {"trackIds": [a] * (MAX_QUEUE + 1)})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    full = (await me.query(SET, {"trackIds": [a] * MAX_QUEUE}))["setPlayQueue"]
    assert len(full["tracks"]) == MAX_QUEUE
    error = await me.error(ENQUEUE, {"trackIds": [a]})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "trackIds"}
    assert (await me.query(READ))["playQueue"]["version"] == full["version"]


async def test_each_user_has_their_own_queue(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    other = await signed_in(gql, engine, settings)
    a, b = await make_tracks(engine, 2)
    await me.query(SET, {"trackIds": [a, b]})
    await other.query(ENQUEUE, {"trackIds": [b]})
    assert ids((await me.query(READ))["playQueue"]) == [a, b]
    assert ids((await other.query(READ))["playQueue"]) == [b]
    anonymous = gql.as_(None)
    for doc in (READ, CLEAR):
        assert (await anonymous.error(doc))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_deleted_track_leaves_the_queue(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    me = await signed_in(gql, engine, settings)
    a, b, c = await make_tracks(engine, 3)
    await me.query(SET, {"trackIds": [a, b, c, b], "currentIndex": 3})
    await catalog_writes.delete_track(engine, b)
    queue = (await me.query(READ))["playQueue"]
    assert (ids(queue), queue["currentIndex"]) == ([a, c], 1)
    queue = (await me.query(ENQUEUE, {"trackIds": [a], "position": 2}))["enqueue"]
    assert ids(queue) == [a, c, a]
    assert ids((await me.query(MOVE, {"fromIndex": 2, "toIndex": 0}))["moveInQueue"]) == [a, a, c]
    assert ids((await me.query(READ))["playQueue"]) == [a, a, c]


async def test_changes_after_a_deleted_track_keep_the_order(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    """A track deleted elsewhere leaves a gap in the stored positions (b twice: 1
    and 2); the next change must not order the entries around the gap by their old
    positions: each change writes every entry's position afresh."""
    me = await signed_in(gql, engine, settings)
    a, b, c, d, e, x, y = await make_tracks(engine, 7)
    await me.query(SET, {"trackIds": [a, b, b, c], "currentIndex": 0})
    await catalog_writes.delete_track(engine, b)
    queue = (await me.query(ENQUEUE, {"trackIds": [x]}))["enqueue"]
    assert ids(queue) == [a, c, x]
    assert ids((await me.query(READ))["playQueue"]) == [a, c, x]

    await me.query(SET, {"trackIds": [a, y, y, c, d, e], "currentIndex": 0})
    await catalog_writes.delete_track(engine, y)
    queue = (await me.query(DEQUEUE, {"index": 2}))["dequeue"]
    assert ids(queue) == [a, c, e]
    assert ids((await me.query(READ))["playQueue"]) == [a, c, e]


def _session(live: LiveServer, token: str | None) -> Client:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    url = live.url.replace("http://", "ws://") + "/graphql"
    transport = WebsocketsTransport(
        url=url, subprotocols=["graphql-transport-ws"], init_payload=payload
    )
    return Client(transport=transport)


async def test_another_device_follows_the_queue(
    live: LiveServer, engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    me = gql.as_(token)
    other = await signed_in(gql, engine, settings)
    a, b = await make_tracks(engine, 2)
    async with _session(live, token) as device:
        received: list[dict[str, Any]] = []

        async def follow() -> None:
            async for event in device.subscribe(document(CHANGED)):
                received.append(event["playQueueChanged"])
                if len(received) == 2:
                    return

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.3)  # let the subscription reach Redis
        await other.query(SET, {"trackIds": [b]})  # someone else's queue: not delivered
        await me.query(SET, {"trackIds": [a, b]})
        await me.query(ENQUEUE, {"trackIds": [a], "position": 0})
        await asyncio.wait_for(following, 5)
    assert received == [
        {"tracks": [{"id": a}, {"id": b}], "currentIndex": 0, "positionMs": 0, "version": 1},
        {
            "tracks": [{"id": a}, {"id": a}, {"id": b}],
            "currentIndex": 1,
            "positionMs": 0,
            "version": 2,
        },
    ]


async def test_the_subscription_needs_a_signed_in_user(live: LiveServer) -> None:
    async with _session(live, None) as device:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in device.subscribe(document(CHANGED)):
                pass
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
