"""`changePassword`: the current password is checked; the new one works at once; every
other session ends while the caller's own continues."""

from typing import Any

import httpx
import pytest

from graph.embedded import EmbeddedServer
from server.settings import Settings
from tests.support import GraphQLClient, make_settings

PAYLOAD = "accessToken refreshToken user { id }"
REGISTER = f"mutation R($input: RegisterInput!) {{ register(input: $input) {{ {PAYLOAD} }} }}"
LOGIN = f"mutation L($input: LoginInput!) {{ login(input: $input) {{ {PAYLOAD} }} }}"
REFRESH = "mutation F($token: String!) { refreshToken(token: $token) { refreshToken } }"
CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }
"""
OLD = "old password 123"
NEW = "new password 456"


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    # Sign-in is under test here, not its rate limit.
    return make_settings(falkordb_server, rate_limit_login="1000/minute")


@pytest.fixture
def anonymous(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


async def sign_up(anonymous: GraphQLClient) -> dict[str, Any]:
    account = {"email": "pat@example.com", "username": "pat", "password": OLD}
    return (await anonymous.query(REGISTER, {"input": account}))["register"]  # type: ignore[no-any-return]


async def login(anonymous: GraphQLClient, password: str) -> Any:
    return await anonymous.raw(LOGIN, {"input": {"login": "pat", "password": password}})


def code(body: Any) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def test_wrong_current_password_is_refused(anonymous: GraphQLClient) -> None:
    session = await sign_up(anonymous)
    error = await anonymous.as_(session["accessToken"]).error(
        CHANGE_PASSWORD, {"input": {"currentPassword": "not it at all", "newPassword": NEW}}
    )
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert code(await login(anonymous, OLD)) is None
    assert code(await login(anonymous, NEW)) == "UNAUTHENTICATED"


async def test_a_weak_new_password_is_refused(anonymous: GraphQLClient) -> None:
    session = await sign_up(anonymous)
    error = await anonymous.as_(session["accessToken"]).error(
        CHANGE_PASSWORD, {"input": {"currentPassword": OLD, "newPassword": "short"}}
    )
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "newPassword"}


async def test_change_password_ends_the_other_sessions(anonymous: GraphQLClient) -> None:
    current = await sign_up(anonymous)
    other = (await login(anonymous, OLD))["data"]["login"]
    done = await anonymous.as_(current["accessToken"]).query(
        CHANGE_PASSWORD, {"input": {"currentPassword": OLD, "newPassword": NEW}}
    )
    assert done == {"changePassword": True}

    assert code(await login(anonymous, NEW)) is None
    assert code(await login(anonymous, OLD)) == "UNAUTHENTICATED"
    kept = await anonymous.raw(REFRESH, {"token": current["refreshToken"]})
    assert code(kept) is None
    ended = await anonymous.raw(REFRESH, {"token": other["refreshToken"]})
    assert code(ended) == "UNAUTHENTICATED"
