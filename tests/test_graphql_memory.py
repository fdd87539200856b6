"""A GraphQL request's objects are freed when it ends, not left in reference cycles.

graphql-core 3.3's executor holds itself in a cycle (its resolver helpers are its own
bound methods), and so does every error a resolver raises (its traceback's frames hold
the executor); with them, each request's whole object graph (request, context, loaders,
execution state) waited for a full collection, which the app's GC thresholds make rare.
The test client's own objects (httpx) are not counted.
"""

import gc
from collections.abc import Awaitable, Callable

from starlette.requests import Request

from graph import catalog_writes
from graph.engine import GraphEngine
from resolvers.loaders import Loaders
from server.graphql_app import PlainFirstExecutor
from tests.support import GraphQLClient

TRACK = "query T($id: ID!) { track(id: $id) { id title artists { name } genres { name } } }"
PAGE = "{ tracks(first: 5) { totalCount edges { node { id title album { title } } } } }"


async def assert_freed_by_reference_counting(requests: Callable[[], Awaitable[None]]) -> None:
    """Run `requests` (already run once: caches filled, lazy imports done) and fail if
    the cycle collector, not reference counting, had to free any request object."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable stays in gc.garbage
    try:
        await requests()
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, Request | PlainFirstExecutor | Loaders)]
        kinds = sorted({type(o).__name__ for o in cyclic})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert kinds == [], f"{len(cyclic)} request objects were only freed by the cycle collector"


async def test_queries_leave_no_request_objects_in_cycles(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    rows = await catalog_writes.create_tracks(
        engine,
        [{"title": f"t{i}", "artist_names": ["A"], "genres": ["Jazz"]} for i in range(6)],
    )
    variables = {"id": rows[0]["id"]}

    async def requests(rounds: int = 20) -> None:
        for _ in range(rounds):
            assert (await gql.query(TRACK, variables))["track"]["title"] == "t0"
            assert len((await gql.query(PAGE))["tracks"]["edges"]) == 5
            # A resolver's error: its traceback's frames hold the executor.
            assert (await gql.error(TRACK, {"id": "not-an-id"}))["extensions"]["code"]

    await requests(1)
    await assert_freed_by_reference_counting(requests)


async def test_rest_and_subsonic_requests_leave_no_request_objects_in_cycles(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    await catalog_writes.create_tracks(engine, [{"title": f"r{i}"} for i in range(3)])
    http, headers = gql.http, gql.headers
    calls = [
        ("/api/v1/tracks?limit=2", 200),
        ("/rest/ping?f=json&v=1.16.1&c=test", 200),
        ("/api/v1/tracks/nope", 422),  # not an id: the REST error envelope
    ]

    async def requests(rounds: int = 10) -> None:
        for _ in range(rounds):
            for path, status in calls:
                assert (await http.get(path, headers=headers)).status_code == status, path

    await requests(1)
    await assert_freed_by_reference_counting(requests)
