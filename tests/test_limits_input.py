"""Production answers carry no schema hints, and deep JSON is refused with a code
(issue 11, findings 5 and 6), on every transport."""

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from graph.embedded import EmbeddedServer
from server.json_body import MAX_DEPTH
from server.settings import Settings
from tests.support import LiveServer, make_settings

TRACKS = "query T($sort: TrackSort) { tracks(first: 1, sort: $sort) { totalCount } }"
MISSPELT = [
    # An enum value in the query, and in the variables.
    ("{ tracks(first: 1, sort: {field: TITEL}) { totalCount } }", None),
    (TRACKS, {"sort": {"field": "TITEL"}}),
    # An input-object field in the query, and in the variables.
    ("{ tracks(first: 1, sort: {feild: TITLE}) { totalCount } }", None),
    (TRACKS, {"sort": {"feild": "TITLE"}}),
    # A field and an argument.
    ("{ trakcs { totalCount } }", None),
    ("{ tracks(frist: 1) { totalCount } }", None),
]


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(
        falkordb_server,
        env="production",
        explorer=False,
        introspection=False,
        allow_anonymous_read=True,
    )


def _nested(levels: int) -> str:
    """JSON text nesting an object `levels` deep (built as text: json.dumps recurses)."""
    return '{"a":' * levels + '"deep"' + "}" * levels


def _with_variables(variables: str) -> str:
    return '{"query": ' + json.dumps(TRACKS) + ', "variables": ' + variables + "}"


def _ws_url(live: LiveServer) -> str:
    return live.url.replace("http://", "ws://") + "/graphql"


@pytest.mark.parametrize(("document", "variables"), MISSPELT)
async def test_production_errors_suggest_nothing(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any] | None
) -> None:
    response = await client.post("/graphql", json={"query": document, "variables": variables})
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "did you mean" not in response.text.lower(), errors
    assert "'title'" not in response.text


async def test_development_still_suggests(falkordb_server: EmbeddedServer, engine: Any) -> None:
    server = LiveServer(engine, make_settings(falkordb_server))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            body = (await http.post("/graphql", json={"query": MISSPELT[0][0]})).json()
    finally:
        await server.stop()
    assert "Did you mean" in body["errors"][0]["message"]


async def test_rest_errors_suggest_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tracks", params={"sort": "titel"})
    assert "did you mean" not in response.text.lower()


async def test_deep_json_gets_400_with_a_code_and_logs_no_traceback(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe's body: `variables` nested 3,000 levels, 18 KB."""
    body = _with_variables(_nested(3000))
    assert len(body) < 30_000
    with caplog.at_level(logging.INFO):
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        within = await client.post(
            "/graphql",
            json={
                "query": TRACKS,
                "variables": {"sort": {"field": "TITLE"}, "x": json.loads(_nested(10))},
            },
        )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert str(MAX_DEPTH) in error["message"]
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text
    assert within.status_code == 200, within.text


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 3000])
async def test_deep_json_everywhere_gets_the_error_shape(
    client: httpx.AsyncClient, levels: int
) -> None:
    deep = _nested(levels)
    over_get = await client.get("/graphql", params={"query": TRACKS, "variables": deep})
    assert over_get.status_code == 400
    assert over_get.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    over_multipart = await client.post(
        "/graphql",
        data={"operations": _with_variables(deep), "map": "{}"},
        files={"0": ("a.txt", b"x")},
    )
    assert over_multipart.status_code == 400
    assert over_multipart.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    rest = await client.post(
        "/api/v1/auth/login", content=deep, headers={"content-type": "application/json"}
    )
    assert rest.status_code == 400
    assert rest.json()["success"] is False
    assert rest.json()["error"]["code"] == "BAD_REQUEST"
    for answer in (over_get, over_multipart, rest):
        assert answer.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_deep_json_over_a_socket_closes_it_with_4400(
    live: LiveServer, subprotocol: str
) -> None:
    async with connect(_ws_url(live), subprotocols=[subprotocol]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send('{"type": "subscribe", "id": "1", "payload": ' + _nested(3000) + "}")
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(5):
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
