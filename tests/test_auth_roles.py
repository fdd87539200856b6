"""Roles and what each may do; anonymous callers with and without anonymous reading."""

from collections.abc import AsyncIterator

import httpx
import pytest

from graph import catalog_writes
from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from resolvers.permissions import ROLE_PERMISSIONS
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, make_settings, user_token

TRACKS = "{ tracks { totalCount } }"
ME = "{ me { id } }"
USERS = "{ users { edges { node { id } } } }"
USERS_PAGE = """
query Users($after: String) {
  users(first: 2, after: $after) {
    totalCount
    edges { node { id username email role } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE_ARTIST = 'mutation { createArtist(input: {name: "Nina Simone"}) { id } }'
DELETE_ARTIST = "mutation Delete($id: ID!) { deleteArtist(id: $id) { deletedId } }"
REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { user { id } } }
"""
LOGIN = 'mutation { login(input: {login: "nobody", password: "whatever1234"}) { expiresIn } }'
REFRESH = 'mutation { refreshToken(token: "nope") { expiresIn } }'


EXPECTED_PERMISSIONS = {
    "guest": {"read:media"},
    "user": {"read:media", "write:media", "view:analytics"},
    "moderator": {"read:media", "write:media", "view:analytics", "delete:media"},
    "admin": {
        "read:media",
        "write:media",
        "delete:media",
        "view:analytics",
        "manage:users",
        "admin:access",
    },
}


def test_role_permissions() -> None:
    assert ROLE_PERMISSIONS == EXPECTED_PERMISSIONS


def code(body: dict[str, object]) -> object:
    errors = body.get("errors")
    return errors[0]["extensions"]["code"] if isinstance(errors, list) else None


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "guest",
            {"read": None, "write": "FORBIDDEN", "delete": "FORBIDDEN", "users": "FORBIDDEN"},
        ),
        ("user", {"read": None, "write": None, "delete": "FORBIDDEN", "users": "FORBIDDEN"}),
        ("moderator", {"read": None, "write": None, "delete": None, "users": "FORBIDDEN"}),
        ("admin", {"read": None, "write": None, "delete": None, "users": None}),
    ],
)
async def test_what_each_role_may_do(
    engine: GraphEngine,
    settings: Settings,
    client: httpx.AsyncClient,
    role: str,
    expected: dict[str, str | None],
) -> None:
    artist = await catalog_writes.create_artist(engine, "Alice Coltrane")
    _, token = await user_token(engine, settings, role)
    caller = GraphQLClient(client, token)
    outcomes = {
        "read": code(await caller.raw(TRACKS)),
        "write": code(await caller.raw(CREATE_ARTIST)),
        "delete": code(await caller.raw(DELETE_ARTIST, {"id": artist["id"]})),
        "users": code(await caller.raw(USERS)),
    }
    assert outcomes == expected


async def test_anonymous_callers_are_guests_by_default(
    engine: GraphEngine, client: httpx.AsyncClient
) -> None:
    await catalog_writes.create_tracks(engine, [{"title": "Sinnerman"}])
    anonymous = GraphQLClient(client)
    assert await anonymous.query(TRACKS) == {"tracks": {"totalCount": 1}}
    assert await anonymous.query(ME) == {"me": None}
    assert code(await anonymous.raw(USERS)) == "UNAUTHENTICATED"
    assert code(await anonymous.raw(CREATE_ARTIST)) == "UNAUTHENTICATED"
    # The public mutations are reached: they fail on their own terms.
    for document in (LOGIN, REFRESH):
        error = await anonymous.error(document)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["message"] != "Sign in to do this."


async def test_admins_list_every_user(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    made = [await user_token(engine, settings, role) for role in ("guest", "user", "admin")]
    admin = GraphQLClient(client, made[-1][1])
    first = (await admin.query(USERS_PAGE))["users"]
    second = (await admin.query(USERS_PAGE, {"after": first["pageInfo"]["endCursor"]}))["users"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False
    nodes = [e["node"] for page in (first, second) for e in page["edges"]]
    assert sorted(n["id"] for n in nodes) == sorted(user_id for user_id, _ in made)
    assert all(n["email"].endswith("@example.com") for n in nodes)  # admins see emails
    assert first["totalCount"] == second["totalCount"] == 3


@pytest.fixture
async def closed(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> AsyncIterator[httpx.AsyncClient]:
    """A server without anonymous reading."""
    server = LiveServer(engine, make_settings(falkordb_server, allow_anonymous_read=False))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http
    await server.stop()


async def test_without_anonymous_reading_anonymous_callers_must_sign_in(
    engine: GraphEngine, settings: Settings, closed: httpx.AsyncClient
) -> None:
    anonymous = GraphQLClient(closed)
    for document in (TRACKS, USERS, CREATE_ARTIST):
        error = await anonymous.error(document)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", document
    assert await anonymous.query(ME) == {"me": None}
    account = {"email": "eve@example.com", "username": "eve", "password": "correct horse"}
    registered = await anonymous.query(REGISTER, {"input": account})
    assert registered["register"]["user"]["id"].startswith("usr_")
    _, token = await user_token(engine, settings, "guest")
    assert await anonymous.as_(token).query(TRACKS) == {"tracks": {"totalCount": 0}}
