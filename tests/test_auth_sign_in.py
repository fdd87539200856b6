"""`register` and `login`: the AuthPayload, the error codes, and how passwords are stored."""

import re
from typing import Any

import httpx
import pytest

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, make_settings

PAYLOAD = "accessToken refreshToken expiresIn user { id username email role }"
REGISTER = f"""
mutation Register($input: RegisterInput!) {{ register(input: $input) {{ {PAYLOAD} }} }}
"""
LOGIN = f"""
mutation Login($input: LoginInput!) {{ login(input: $input) {{ {PAYLOAD} }} }}
"""
ME = "{ me { id username email role } }"
USER_COUNT = "MATCH (u:User) RETURN count(u) AS n"
PASSWORD = "correct horse battery"
ARGON2_RE = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+$")


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    # Sign-in is under test here, not its rate limit.
    return make_settings(falkordb_server, rate_limit_login="1000/minute")


@pytest.fixture
def anonymous(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def account(name: str = "Ada_Lovelace", **changes: str) -> dict[str, Any]:
    return {
        "email": f"{name.lower()}@example.com",
        "username": name,
        "password": PASSWORD,
    } | changes


async def register(anonymous: GraphQLClient, **changes: str) -> dict[str, Any]:
    return (await anonymous.query(REGISTER, {"input": account(**changes)}))["register"]  # type: ignore[no-any-return]


async def user_count(engine: GraphEngine) -> int:
    return int((await engine.read("t", USER_COUNT))[0]["n"])


async def test_register_returns_a_working_session(anonymous: GraphQLClient) -> None:
    payload = await register(anonymous)
    assert payload["expiresIn"] == 900
    assert payload["user"]["username"] == "Ada_Lovelace"
    assert payload["user"]["role"] == "USER"
    assert payload["accessToken"] != payload["refreshToken"]
    me = await anonymous.as_(payload["accessToken"]).query(ME)
    assert me["me"] == payload["user"] | {"email": "ada_lovelace@example.com"}


async def test_login_by_email_or_username_in_any_case(anonymous: GraphQLClient) -> None:
    user = (await register(anonymous, email="Ada@Example.com"))["user"]
    for login in (
        "ada@example.com",
        "ADA@example.COM",
        "Ada_Lovelace",
        "ada_lovelace",
        " ADA_LOVELACE ",
    ):
        payload = (await anonymous.query(LOGIN, {"input": {"login": login, "password": PASSWORD}}))[
            "login"
        ]
        assert payload["user"] == user, login
        assert payload["expiresIn"] == 900
        me = await anonymous.as_(payload["accessToken"]).query(ME)
        assert me["me"]["id"] == user["id"], login


async def test_wrong_password_and_unknown_login_look_the_same(anonymous: GraphQLClient) -> None:
    await register(anonymous)
    errors = [
        await anonymous.error(LOGIN, {"input": {"login": login, "password": password}})
        for login, password in (
            ("Ada_Lovelace", PASSWORD + "!"),
            ("ada_lovelace@example.com", "wrong password"),
            ("nobody_here", PASSWORD),
            ("nobody@example.com", PASSWORD),
            ("", PASSWORD),
        )
    ]
    assert {e["extensions"]["code"] for e in errors} == {"UNAUTHENTICATED"}
    assert len({e["message"] for e in errors}) == 1


async def test_taken_email_or_username_is_a_conflict(
    engine: GraphEngine, anonymous: GraphQLClient
) -> None:
    await register(anonymous)
    for changes in (
        {"username": "someone_else"},  # the same email
        {"email": "ADA_LOVELACE@example.com", "username": "someone_else"},
        {"email": "other@example.com"},  # the same username
        {"email": "other@example.com", "username": "ADA_lovelace"},
    ):
        error = await anonymous.error(REGISTER, {"input": account() | changes})
        assert error["extensions"]["code"] == "CONFLICT", changes
    assert await user_count(engine) == 1


BAD_INPUT: list[tuple[str, str]] = [
    ("password", "123456789"),
    ("password", ""),
    ("password", "x" * 257),
    ("email", "not-an-email"),
    ("email", "a@b"),
    ("email", "two words@example.com"),
    ("username", "ab"),
    ("username", "has space"),
    ("username", "_leading"),
    ("username", "x" * 41),
]


async def test_bad_input_is_a_validation_error(
    engine: GraphEngine, anonymous: GraphQLClient
) -> None:
    outcomes = {
        (field, value[:20]): (
            await anonymous.error(REGISTER, {"input": account(**{field: value})})
        )["extensions"]
        for field, value in BAD_INPUT
    }
    assert outcomes == {
        (field, value[:20]): {"code": "VALIDATION_ERROR", "field": field}
        for field, value in BAD_INPUT
    }
    assert await user_count(engine) == 0


async def test_password_is_stored_as_argon2id(
    engine: GraphEngine, anonymous: GraphQLClient
) -> None:
    user = (await register(anonymous))["user"]
    rows = await engine.read(
        "t", "MATCH (u:User {id: $id}) RETURN u.password_hash AS h", {"id": user["id"]}
    )
    stored = rows[0]["h"]
    match = ARGON2_RE.match(stored)
    assert match is not None, stored
    memory_kib, time_cost, _ = (int(g) for g in match.groups())
    assert memory_kib >= 19456
    assert time_cost >= 2
    assert PASSWORD not in stored
