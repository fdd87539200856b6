"""`logout`: the access token is refused everywhere from then on (on another API process,
after a restart, after Redis lost its cache), and so is the session's refresh token."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.auth.revocations import LOADED, PREFIX
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken }
}
"""
REFRESH = "mutation Refresh($token: String!) { refreshToken(token: $token) { accessToken } }"
LOGOUT = "mutation Logout($refreshToken: String) { logout(refreshToken: $refreshToken) }"
ME = "{ me { id } }"


async def sign_up(http: httpx.AsyncClient) -> dict[str, Any]:
    account = {"email": "lou@example.com", "username": "lou", "password": "correct horse"}
    return (await GraphQLClient(http).query(REGISTER, {"input": account}))["register"]  # type: ignore[no-any-return]


async def status(http: httpx.AsyncClient, token: str) -> int:
    response = await http.post(
        "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}
    )
    if response.status_code == 401:
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    return response.status_code


async def log_out(http: httpx.AsyncClient, session: dict[str, Any], *, family: bool) -> None:
    variables = {"refreshToken": session["refreshToken"] if family else None}
    done = await GraphQLClient(http, session["accessToken"]).query(LOGOUT, variables)
    assert done == {"logout": True}


@pytest.fixture
async def redis(falkordb_server: EmbeddedServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(falkordb_server.redis_url)
    yield client
    await client.aclose()


async def test_logout_revokes_the_access_token(client: httpx.AsyncClient) -> None:
    session = await sign_up(client)
    assert await status(client, session["accessToken"]) == 200
    await log_out(client, session, family=False)
    assert await status(client, session["accessToken"]) == 401


async def test_logout_with_refresh_token_ends_the_session(client: httpx.AsyncClient) -> None:
    session = await sign_up(client)
    await log_out(client, session, family=True)
    assert await status(client, session["accessToken"]) == 401
    error = await GraphQLClient(client).error(REFRESH, {"token": session["refreshToken"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_is_honoured_by_another_instance(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    other = LiveServer(engine, settings)
    await other.start()
    try:
        async with httpx.AsyncClient(base_url=other.url, timeout=30) as other_http:
            session = await sign_up(client)
            assert await status(other_http, session["accessToken"]) == 200
            await log_out(client, session, family=True)
            assert await status(other_http, session["accessToken"]) == 401
            error = await GraphQLClient(other_http).error(
                REFRESH, {"token": session["refreshToken"]}
            )
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        await other.stop()


async def test_logout_survives_a_restart(
    engine: GraphEngine, settings: Settings, live: LiveServer, client: httpx.AsyncClient
) -> None:
    session = await sign_up(client)
    await log_out(client, session, family=True)
    await live.stop()
    restarted = LiveServer(engine, settings)
    await restarted.start()
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as http:
            assert await status(http, session["accessToken"]) == 401
            error = await GraphQLClient(http).error(REFRESH, {"token": session["refreshToken"]})
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        await restarted.stop()


async def test_logout_survives_the_loss_of_the_redis_cache(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    session = await sign_up(client)
    await log_out(client, session, family=False)
    cached = [key async for key in redis.scan_iter(match=PREFIX + "*")]
    assert set(cached) - {LOADED.encode()}, "the revocation was not cached"
    await redis.delete(*cached, LOADED)
    assert [key async for key in redis.scan_iter(match=PREFIX + "*")] == []

    assert await status(client, session["accessToken"]) == 401
    assert await redis.exists(LOADED) == 1  # refilled from the graph

    # And on a process started after the loss.
    await redis.delete(*[key async for key in redis.scan_iter(match=PREFIX + "*")], LOADED)
    restarted = LiveServer(engine, settings)
    await restarted.start()
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as http:
            assert await status(http, session["accessToken"]) == 401
    finally:
        await restarted.stop()
