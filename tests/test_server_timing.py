"""Server-Timing tells how long a request waited on the graph database and how often,
beside the whole time until the response started, over a real server."""

import asyncio
import re
import time

import httpx

from graph import catalog_writes
from graph.engine import GraphClock, GraphEngine
from tests.support.live import LiveServer

TIMING = re.compile(r'app;dur=([0-9.]+), graph;dur=([0-9.]+);desc="(\d+) calls"')
TRACK = "query T($id: ID!) { track(id: $id) { id title artists { name } album { title } } }"


def timing(answer: httpx.Response) -> tuple[float, float, int]:
    match = TIMING.fullmatch(answer.headers["server-timing"])
    assert match, answer.headers["server-timing"]
    return float(match[1]), float(match[2]), int(match[3])


async def test_a_request_without_graph_reads_waited_on_nothing(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        answer = await http.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json() == {"data": {"__typename": "Query"}}
        app, graph, calls = timing(answer)
        assert (graph, calls) == (0.0, 0) and app > 0
        # Not a GraphQL route either.
        assert timing(await http.get("/health/live"))[1:] == (0.0, 0)


async def test_graph_time_and_calls_of_a_request(live: LiveServer, engine: GraphEngine) -> None:
    rows = await catalog_writes.create_tracks(
        engine,
        [
            {"title": f"Song {i}", "artist_names": [f"Band {i}"], "album_title": f"LP {i}"}
            for i in range(8)
        ],
    )
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        answer = await http.post(
            "/graphql", json={"query": TRACK, "variables": {"id": rows[0]["id"]}}
        )
        assert answer.json()["data"]["track"]["artists"] == [{"name": "Band 0"}]
        app, graph, calls = timing(answer)
        assert 0 < graph <= app
        assert calls >= 1
        # Requests side by side share their reads (graph/_batch.py): each still counts
        # the time it waited.
        answers = await asyncio.gather(
            *(
                http.post("/graphql", json={"query": TRACK, "variables": {"id": row["id"]}})
                for row in rows
            )
        )
        for row, answer in zip(rows, answers, strict=True):
            assert answer.json()["data"]["track"]["id"] == row["id"]
            app, graph, calls = timing(answer)
            assert 0 < graph <= app and calls >= 1


def test_calls_side_by_side_count_once() -> None:
    clock = GraphClock()
    clock.enter()
    time.sleep(0.02)
    clock.enter()  # a second call while the first is under way
    time.sleep(0.02)
    clock.leave()
    assert clock.seconds == 0.0 and clock.total() >= 0.04
    time.sleep(0.02)
    clock.leave()
    assert 0.06 <= clock.seconds < 0.5 and clock.calls == 2
    before = clock.seconds
    time.sleep(0.1)  # idle: not counted
    clock.enter()
    time.sleep(0.01)
    clock.leave()
    assert 0.01 <= clock.seconds - before < 0.08 and clock.calls == 3
