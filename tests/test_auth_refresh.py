"""`refreshToken`: rotation and replay detection."""

from typing import Any

import httpx
import pytest

from graph.embedded import EmbeddedServer
from server.settings import Settings
from tests.support import GraphQLClient, make_settings

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken expiresIn user { id } }
}
"""
REFRESH = """
mutation Refresh($token: String!) {
  refreshToken(token: $token) { accessToken refreshToken expiresIn user { id } }
}
"""
ME = "{ me { id } }"


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    # Rotation is under test here, not the mutation rate limit. No grace: a rotated
    # token presented again is a replay at once (the race a grace lets through, with
    # one winner, is in tests/test_auth_sessions.py).
    return make_settings(
        falkordb_server, rate_limit_mutation="1000/minute", refresh_grace_seconds=0
    )


@pytest.fixture
def anonymous(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


async def sign_up(anonymous: GraphQLClient) -> dict[str, Any]:
    account = {"email": "kim@example.com", "username": "kim", "password": "correct horse"}
    return (await anonymous.query(REGISTER, {"input": account}))["register"]  # type: ignore[no-any-return]


async def refresh(anonymous: GraphQLClient, token: str) -> Any:
    return await anonymous.raw(REFRESH, {"token": token})


def code(body: Any) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def test_each_refresh_returns_a_new_pair(anonymous: GraphQLClient) -> None:
    session = await sign_up(anonymous)
    seen = {session["refreshToken"]}
    token = session["refreshToken"]
    for _ in range(3):
        pair = (await anonymous.query(REFRESH, {"token": token}))["refreshToken"]
        assert pair["refreshToken"] not in seen
        assert pair["expiresIn"] == 900
        assert pair["user"]["id"] == session["user"]["id"]
        me = await anonymous.as_(pair["accessToken"]).query(ME)
        assert me["me"]["id"] == session["user"]["id"]
        seen.add(pair["refreshToken"])
        token = pair["refreshToken"]


async def test_replaying_a_rotated_token_revokes_its_successor(anonymous: GraphQLClient) -> None:
    first = (await sign_up(anonymous))["refreshToken"]
    second = (await anonymous.query(REFRESH, {"token": first}))["refreshToken"]["refreshToken"]
    assert code(await refresh(anonymous, first)) == "UNAUTHENTICATED"
    assert code(await refresh(anonymous, second)) == "UNAUTHENTICATED"
