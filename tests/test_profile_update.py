"""`updateProfile` and `PATCH /api/v1/users/me`: only the fields given change, under the
rules of `register`; a username or email another account has is a CONFLICT and changes
nothing; the password stays, and PATCH still changes it when asked."""

from typing import Any

import httpx
import pytest

from graph.embedded import EmbeddedServer
from server.settings import Settings
from tests.support import GraphQLClient, make_settings

V1 = "/api/v1"
PASSWORD = "a long password 123"
NEW_PASSWORD = "another password 456"
PAYLOAD = "accessToken user { id }"
REGISTER = f"mutation R($input: RegisterInput!) {{ register(input: $input) {{ {PAYLOAD} }} }}"
LOGIN = f"mutation L($input: LoginInput!) {{ login(input: $input) {{ {PAYLOAD} }} }}"
UPDATE_PROFILE = """
mutation U($input: UpdateProfileInput!) { updateProfile(input: $input) { id username email } }
"""
ME = "{ me { id username email } }"
CREATE_KEY = "mutation K($name: String!) { createApiKey(name: $name) { key } }"


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    # Sign-in is under test here, not its rate limit.
    return make_settings(falkordb_server, rate_limit_login="1000/minute")


@pytest.fixture
def anonymous(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


async def sign_up(anonymous: GraphQLClient, name: str) -> GraphQLClient:
    """A new account `name` (email `name@example.com`), signed in."""
    account = {"email": f"{name}@example.com", "username": name, "password": PASSWORD}
    session = (await anonymous.query(REGISTER, {"input": account}))["register"]
    return anonymous.as_(session["accessToken"])


async def login_code(anonymous: GraphQLClient, login: str, password: str = PASSWORD) -> Any:
    body = await anonymous.raw(LOGIN, {"input": {"login": login, "password": password}})
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


def bearer(caller: GraphQLClient) -> dict[str, str]:
    return caller.headers


# --- GraphQL ----------------------------------------------------------------------------


async def test_username_and_email_change_and_sign_in_follows(anonymous: GraphQLClient) -> None:
    pat = await sign_up(anonymous, "pat")
    changed = await pat.query(
        UPDATE_PROFILE, {"input": {"username": "Patricia", "email": "  Pat.New@Example.COM "}}
    )
    assert changed["updateProfile"]["username"] == "Patricia"
    assert changed["updateProfile"]["email"] == "pat.new@example.com"
    assert (await pat.query(ME))["me"] == changed["updateProfile"]

    assert await login_code(anonymous, "patricia") is None  # usernames sign in in any case
    assert await login_code(anonymous, "pat.new@example.com") is None
    assert await login_code(anonymous, "pat") == "UNAUTHENTICATED"
    assert await login_code(anonymous, "pat@example.com") == "UNAUTHENTICATED"


async def test_only_the_fields_given_change(anonymous: GraphQLClient) -> None:
    pat = await sign_up(anonymous, "pat")
    before = (await pat.query(ME))["me"]
    only_email = await pat.query(UPDATE_PROFILE, {"input": {"email": "p@example.org"}})
    assert only_email["updateProfile"] == {**before, "email": "p@example.org"}
    only_name = await pat.query(UPDATE_PROFILE, {"input": {"username": "PAT", "email": None}})
    assert only_name["updateProfile"] == {**before, "email": "p@example.org", "username": "PAT"}
    nothing = await pat.query(UPDATE_PROFILE, {"input": {}})
    assert nothing["updateProfile"] == only_name["updateProfile"]


@pytest.mark.parametrize(
    "taken",
    [
        {"username": "SAM", "email": "fresh@example.com"},
        {"username": "fresh", "email": "Sam@Example.com"},
    ],
)
async def test_a_taken_username_or_email_is_a_conflict_and_nothing_changes(
    anonymous: GraphQLClient, taken: dict[str, str]
) -> None:
    await sign_up(anonymous, "sam")
    pat = await sign_up(anonymous, "pat")
    before = (await pat.query(ME))["me"]
    error = await pat.error(UPDATE_PROFILE, {"input": taken})
    assert error["extensions"]["code"] == "CONFLICT"
    assert (await pat.query(ME))["me"] == before
    assert await login_code(anonymous, "fresh") == "UNAUTHENTICATED"
    assert await login_code(anonymous, "fresh@example.com") == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"email": "pat@example"}, "email"),
        ({"username": "p"}, "username"),
        ({"username": "pat with spaces"}, "username"),
        ({"username": "fine", "email": "@example.com"}, "email"),
    ],
)
async def test_invalid_values_are_refused(
    anonymous: GraphQLClient, change: dict[str, str], field: str
) -> None:
    pat = await sign_up(anonymous, "pat")
    before = (await pat.query(ME))["me"]
    error = await pat.error(UPDATE_PROFILE, {"input": change})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": field}
    assert (await pat.query(ME))["me"] == before


async def test_anonymous_callers_and_api_keys_are_refused(anonymous: GraphQLClient) -> None:
    error = await anonymous.error(UPDATE_PROFILE, {"input": {"username": "someone"}})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    pat = await sign_up(anonymous, "pat")
    key = (await pat.query(CREATE_KEY, {"name": "scripts"}))["createApiKey"]["key"]
    error = await anonymous.as_(key).error(UPDATE_PROFILE, {"input": {"username": "taken"}})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await pat.query(ME))["me"]["username"] == "pat"


# --- REST -------------------------------------------------------------------------------


async def test_patch_changes_the_profile(
    client: httpx.AsyncClient, anonymous: GraphQLClient
) -> None:
    pat = await sign_up(anonymous, "pat")
    response = await client.patch(
        f"{V1}/users/me",
        json={"username": "patricia", "email": "P@Example.org"},
        headers=bearer(pat),
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert (user["username"], user["email"], user["role"]) == ("patricia", "p@example.org", "USER")
    assert set(user) == {
        "id",
        "username",
        "name",
        "email",
        "role",
        "created_at",
        "updated_at",
        "email_verified",
    }
    me = await client.get(f"{V1}/users/me", headers=bearer(pat))
    assert me.json() == user
    login = await client.post(
        f"{V1}/auth/login", json={"username": "patricia", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text


async def test_patch_refusals(client: httpx.AsyncClient, anonymous: GraphQLClient) -> None:
    await sign_up(anonymous, "sam")
    pat = await sign_up(anonymous, "pat")
    me = (await client.get(f"{V1}/users/me", headers=bearer(pat))).json()

    taken = await client.patch(
        f"{V1}/users/me", json={"username": "Sam", "email": "new@example.com"}, headers=bearer(pat)
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "CONFLICT"
    invalid = await client.patch(f"{V1}/users/me", json={"email": "nope"}, headers=bearer(pat))
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "VALIDATION_ERROR"
    anonymous_patch = await client.patch(f"{V1}/users/me", json={"username": "ghost"})
    assert anonymous_patch.status_code == 401
    assert (await client.get(f"{V1}/users/me", headers=bearer(pat))).json() == me


async def test_patch_still_changes_the_password(
    client: httpx.AsyncClient, anonymous: GraphQLClient
) -> None:
    pat = await sign_up(anonymous, "pat")
    passwords = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = await client.patch(f"{V1}/users/me", json=passwords, headers=bearer(pat))
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "pat"
    assert await login_code(anonymous, "pat", NEW_PASSWORD) is None
    assert await login_code(anonymous, "pat") == "UNAUTHENTICATED"

    wrong = await client.patch(
        f"{V1}/users/me",
        json={"current_password": "not it at all", "new_password": PASSWORD},
        headers=bearer(pat),
    )
    assert wrong.status_code == 401
    assert await login_code(anonymous, "pat", NEW_PASSWORD) is None


async def test_patch_changes_profile_and_password_together(
    client: httpx.AsyncClient, anonymous: GraphQLClient
) -> None:
    await sign_up(anonymous, "sam")
    pat = await sign_up(anonymous, "pat")
    both = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    # One write: a refused field leaves everything as it was.
    wrong = await client.patch(
        f"{V1}/users/me",
        json={"username": "patty", "current_password": "not it at all", "new_password": "x" * 12},
        headers=bearer(pat),
    )
    assert wrong.status_code == 401
    assert (await client.get(f"{V1}/users/me", headers=bearer(pat))).json()["username"] == "pat"
    assert await login_code(anonymous, "pat") is None
    taken = await client.patch(
        f"{V1}/users/me", json={"username": "sam", **both}, headers=bearer(pat)
    )
    assert taken.status_code == 409
    assert await login_code(anonymous, "pat") is None

    response = await client.patch(
        f"{V1}/users/me", json={"username": "patricia", **both}, headers=bearer(pat)
    )
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "patricia"
    assert await login_code(anonymous, "patricia", NEW_PASSWORD) is None
