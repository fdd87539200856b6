"""Sessions end whole (issue 11, finding 7): a replayed refresh token, a password change
and a logout revoke the access tokens of the sessions they end; concurrent refreshes
have one winner that keeps working; an API key cannot make API keys."""

import asyncio
from typing import Any

import httpx
import pytest

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, make_settings

PAYLOAD = "accessToken refreshToken user { id }"
REGISTER = f"mutation R($input: RegisterInput!) {{ register(input: $input) {{ {PAYLOAD} }} }}"
LOGIN = f"mutation L($input: LoginInput!) {{ login(input: $input) {{ {PAYLOAD} }} }}"
REFRESH = f"mutation F($token: String!) {{ refreshToken(token: $token) {{ {PAYLOAD} }} }}"
LOGOUT = "mutation O($token: String) { logout(refreshToken: $token) }"
CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }
"""
CREATE_KEY = "mutation K($name: String!) { createApiKey(name: $name) { key } }"
REVOKE_KEY = "mutation V($id: ID!) { revokeApiKey(id: $id) { id } }"
KEYS = "{ apiKeys { id } }"
ME = "{ me { id } }"
PASSWORD = "old password 123"
GRACE = 0.3  # seconds in which a rotated token counts as a lost race


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(
        falkordb_server,
        rate_limit_login="1000/minute",
        rate_limit_mutation="1000/minute",
        refresh_grace_seconds=GRACE,
    )


@pytest.fixture
def anonymous(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def code(body: Any) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def sign_up(anonymous: GraphQLClient, name: str = "pat") -> dict[str, Any]:
    account = {"email": f"{name}@example.com", "username": name, "password": PASSWORD}
    return (await anonymous.query(REGISTER, {"input": account}))["register"]  # type: ignore[no-any-return]


async def sign_in(anonymous: GraphQLClient, name: str = "pat") -> dict[str, Any]:
    login = {"login": name, "password": PASSWORD}
    return (await anonymous.query(LOGIN, {"input": login}))["login"]  # type: ignore[no-any-return]


async def works(anonymous: GraphQLClient, access_token: str) -> bool:
    return code(await anonymous.as_(access_token).raw(ME)) is None


async def test_a_replayed_refresh_token_ends_the_sessions_access_tokens(
    anonymous: GraphQLClient,
) -> None:
    session = await sign_up(anonymous)
    other = await sign_in(anonymous)
    rotated = (await anonymous.query(REFRESH, {"token": session["refreshToken"]}))["refreshToken"]
    assert await works(anonymous, session["accessToken"])
    assert await works(anonymous, rotated["accessToken"])
    await asyncio.sleep(GRACE + 0.2)
    replay = await anonymous.raw(REFRESH, {"token": session["refreshToken"]})
    assert code(replay) == "UNAUTHENTICATED"
    # Every access token of the family dies with it, at once; another session lives on.
    assert not await works(anonymous, session["accessToken"])
    assert not await works(anonymous, rotated["accessToken"])
    assert code(await anonymous.raw(REFRESH, {"token": rotated["refreshToken"]})) is not None
    assert await works(anonymous, other["accessToken"])


async def test_concurrent_refreshes_have_one_winner_that_keeps_working(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> None:
    settings = make_settings(falkordb_server, rate_limit_mutation="1000/minute")
    server = LiveServer(engine, settings)  # the default grace: 5 s
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            anonymous = GraphQLClient(http)
            session = await sign_up(anonymous, "kim")
            bodies = await asyncio.gather(
                *(anonymous.raw(REFRESH, {"token": session["refreshToken"]}) for _ in range(20))
            )
            winners = [b["data"]["refreshToken"] for b in bodies if code(b) is None]
            assert len(winners) == 1, bodies
            assert [code(b) for b in bodies if code(b) is not None] == ["UNAUTHENTICATED"] * 19
            [winner] = winners
            assert await works(anonymous, winner["accessToken"])
            assert await works(anonymous, session["accessToken"])
            again = await anonymous.raw(REFRESH, {"token": winner["refreshToken"]})
            assert code(again) is None, again
            assert await works(anonymous, again["data"]["refreshToken"]["accessToken"])
    finally:
        await server.stop()


async def test_change_password_ends_the_other_sessions_access_tokens(
    anonymous: GraphQLClient,
) -> None:
    mine = await sign_up(anonymous)
    phone = await sign_in(anonymous)
    laptop = await sign_in(anonymous)
    changed = await anonymous.as_(mine["accessToken"]).raw(
        CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "new pass 4567"}}
    )
    assert changed == {"data": {"changePassword": True}}
    assert not await works(anonymous, phone["accessToken"])
    assert not await works(anonymous, laptop["accessToken"])
    assert await works(anonymous, mine["accessToken"])


async def test_logout_ends_the_sessions_access_tokens(anonymous: GraphQLClient) -> None:
    session = await sign_up(anonymous)
    rotated = (await anonymous.query(REFRESH, {"token": session["refreshToken"]}))["refreshToken"]
    out = await anonymous.as_(rotated["accessToken"]).raw(
        LOGOUT, {"token": rotated["refreshToken"]}
    )
    assert out == {"data": {"logout": True}}
    # The first access token of the session was not the one presented: it goes too.
    assert not await works(anonymous, session["accessToken"])


async def test_an_api_key_cannot_create_api_keys(anonymous: GraphQLClient) -> None:
    session = await sign_up(anonymous)
    owner = anonymous.as_(session["accessToken"])
    key = (await owner.query(CREATE_KEY, {"name": "leaked"}))["createApiKey"]["key"]
    refused = await anonymous.as_(key).raw(CREATE_KEY, {"name": "from the key"})
    assert code(refused) == "FORBIDDEN"
    [only] = (await owner.query(KEYS))["apiKeys"]
    await owner.query(REVOKE_KEY, {"id": only["id"]})
    assert code(await anonymous.as_(key).raw(ME)) == "UNAUTHENTICATED"
