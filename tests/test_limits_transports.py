"""One set of rate limits and lock-outs on every transport (issue 11, findings 2 and 4).

HTTP, both GraphQL WebSocket subprotocols and `/ws` draw from the same budgets; a
mutation costs each of its root fields, aliases included, argon2 fields five times.
"""

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.ratelimit import ARGON2_WEIGHT
from server.settings import Settings
from tests.support import LiveServer, make_settings, user_token
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, open_socket

PASSWORD = "correct horse battery"
REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { user { id } } }
"""
LOGIN = """
mutation Login($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { user { username } }
}
"""
CREATE = "mutation Create($name: String!) { createArtist(input: {name: $name}) { id } }"
MEDIA_ADDED = "subscription { mediaAdded { timestamp } }"


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(
        falkordb_server,
        rate_limit_query="3/minute",
        rate_limit_mutation="1000/minute",
        rate_limit_login="3/minute",
        trusted_proxies=("127.0.0.1",),
    )


def _ws_url(live: LiveServer, path: str = "/graphql") -> str:
    return live.url.replace("http://", "ws://") + path


def _code(result: Any) -> str | None:
    errors = result.get("errors")
    return errors[0]["extensions"]["code"] if errors else None


async def _register(client: httpx.AsyncClient, username: str, ip: str) -> None:
    account = {"email": f"{username}@example.com", "username": username, "password": PASSWORD}
    response = await client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"input": account}},
        headers={"x-forwarded-for": ip},
    )
    assert "errors" not in response.json(), response.text


async def test_a_websocket_login_after_the_http_lockout_is_refused(
    live: LiveServer, client: httpx.AsyncClient
) -> None:
    """The probe's attack: HTTP spends the account's budget, then the right password is
    tried over each subprotocol. Both share the lock-out."""
    await _register(client, "ada", "10.9.0.1")
    for n, login in enumerate(("ada", "ada@example.com", "ADA")):
        wrong = await client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"login": login, "password": "guess"}},
            headers={"x-forwarded-for": f"10.9.1.{n}"},
        )
        assert _code(wrong.json()) == "UNAUTHENTICATED"
    for subprotocol in (TRANSPORT_WS, LEGACY_WS):
        socket = await open_socket(live.url, subprotocol)
        try:
            right = await socket.execute(LOGIN, {"login": "ada", "password": PASSWORD})
        finally:
            await socket.ws.close()
        assert _code(right) == "RATE_LIMITED", right
        assert right["errors"][0]["extensions"]["retryAfter"] >= 1
    over_rest = await client.post(
        "/api/v1/auth/login",
        json={"login": "ada@example.com", "password": PASSWORD},
        headers={"x-forwarded-for": "10.9.2.1"},
    )
    assert over_rest.status_code == 429
    assert over_rest.json()["error"]["code"] == "RATE_LIMITED"


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
async def test_wrong_logins_over_one_socket_lock_the_account_for_http_too(
    live: LiveServer, client: httpx.AsyncClient, subprotocol: str
) -> None:
    await _register(client, "grace", "10.8.0.1")
    socket = await open_socket(live.url, subprotocol)
    try:
        codes = [
            _code(await socket.execute(LOGIN, {"login": "grace", "password": "guess"}))
            for _ in range(4)
        ]
    finally:
        await socket.ws.close()
    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"]
    over_http = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"login": "grace", "password": PASSWORD}},
        headers={"x-forwarded-for": "10.8.9.9"},
    )
    assert over_http.status_code == 429
    assert _code(over_http.json()) == "RATE_LIMITED"


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
async def test_mutations_over_one_socket_draw_from_the_mutation_budget(
    engine: GraphEngine, falkordb_server: EmbeddedServer, subprotocol: str
) -> None:
    settings = make_settings(falkordb_server, rate_limit_mutation="5/minute")
    _, token = await user_token(engine, settings, "admin")
    server = LiveServer(engine, settings)
    await server.start()
    try:
        socket = await open_socket(server.url, subprotocol, token)
        try:
            results = [await socket.execute(CREATE, {"name": f"Artist {n}"}) for n in range(6)]
        finally:
            await socket.ws.close()
        async with httpx.AsyncClient(base_url=server.url) as http:
            over_http = await http.post(
                "/graphql",
                json={"query": CREATE, "variables": {"name": "Over HTTP"}},
                headers={"authorization": f"Bearer {token}"},
            )
    finally:
        await server.stop()
    assert [_code(r) for r in results] == [None] * 5 + ["RATE_LIMITED"]
    assert over_http.status_code == 429
    assert await engine.read("t", "MATCH (a:Artist {name: 'Artist 5'}) RETURN a") == []


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
async def test_subscriptions_draw_from_the_query_budget(
    live: LiveServer, engine: GraphEngine, settings: Settings, subprotocol: str
) -> None:
    _, token = await user_token(engine, settings, "user")
    socket = await open_socket(live.url, subprotocol, token)
    try:
        for _ in range(3):
            await socket.start(MEDIA_ADDED)
        await socket.start(MEDIA_ADDED)
        refused = await socket.recv()
    finally:
        await socket.ws.close()
    assert refused["type"] == "error" and refused["id"] == "4", refused
    payload = refused["payload"]
    error = payload[0] if isinstance(payload, list) else payload
    assert error["extensions"]["code"] == "RATE_LIMITED"


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
async def test_query_limits_hold_over_a_socket(
    live: LiveServer, engine: GraphEngine, settings: Settings, subprotocol: str
) -> None:
    _, token = await user_token(engine, settings, "user")
    deep = "title"
    for _ in range(3):  # 4 levels each: 12, over the 10 allowed
        deep = f"tracks(first: 1) {{ edges {{ node {{ album {{ {deep} }} }} }} }}"
    deep = "{ " + deep + " }"
    socket = await open_socket(live.url, subprotocol, token)
    try:
        refused = await socket.execute(deep)
    finally:
        await socket.ws.close()
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", refused
    assert error["extensions"]["limit"] == "depth"


async def test_event_socket_subscriptions_draw_from_the_query_budget(
    live: LiveServer, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    async with connect(_ws_url(live, f"/ws?token={token}")) as ws:
        assert json.loads(await ws.recv())["type"] == "authenticated"
        answers = []
        for channel in ("media.added", "track.updated", "track.deleted", "system.status"):
            await ws.send(json.dumps({"type": "subscribe", "event_type": channel}))
            answers.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
    assert [a["type"] for a in answers[:3]] == ["subscription_confirmed"] * 3
    assert answers[3]["type"] == "error"
    assert answers[3]["code"] == "RATE_LIMITED"
    assert answers[3]["retryAfter"] >= 1


async def test_each_aliased_register_is_charged(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> None:
    """30 aliased `register` fields in one anonymous document: 150 against a budget of
    120 mutations, refused whole; no account is made."""
    settings = make_settings(falkordb_server)
    suffix = uuid.uuid4().hex[:6]
    fields = " ".join(
        f'r{n}: register(input: {{email: "u{n}{suffix}@example.com", username: "u{n}{suffix}",'
        f' password: "{PASSWORD}"}}) {{ expiresIn }}'
        for n in range(30)
    )
    server = LiveServer(engine, settings)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            one = await http.post(
                "/graphql",
                json={
                    "query": REGISTER,
                    "variables": {
                        "input": {
                            "email": f"one{suffix}@example.com",
                            "username": f"one{suffix}",
                            "password": PASSWORD,
                        }
                    },
                },
            )
            refused = await http.post("/graphql", json={"query": f"mutation {{ {fields} }}"})
    finally:
        await server.stop()
    assert refused.status_code == 429, refused.text
    assert _code(refused.json()) == "RATE_LIMITED"
    made = await engine.read("t", "MATCH (u:User) RETURN u.username AS name")
    assert made == [{"name": f"one{suffix}"}]
    assert "errors" not in one.json(), one.text
    assert one.headers["x-ratelimit-remaining"] == str(120 - ARGON2_WEIGHT)
