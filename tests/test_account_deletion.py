"""`deleteAccount` and `DELETE /api/v1/users/me`: the password is checked first; the user
goes with their collections, plays, queue, preferences, sessions and API keys, and
nothing else; every token of theirs is refused at once; the only admin cannot leave."""

from typing import Any

import httpx
import pytest

from graph import users
from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.auth.passwords import Passwords
from server.settings import Settings
from tests.support import GraphQLClient, make_settings, user_token

V1 = "/api/v1"
PASSWORD = "a long password 123"
PAYLOAD = "accessToken refreshToken user { id }"
REGISTER = f"mutation R($input: RegisterInput!) {{ register(input: $input) {{ {PAYLOAD} }} }}"
LOGIN = f"mutation L($input: LoginInput!) {{ login(input: $input) {{ {PAYLOAD} }} }}"
REFRESH = "mutation F($token: String!) { refreshToken(token: $token) { accessToken } }"
DELETE_ACCOUNT = "mutation D($password: String!) { deleteAccount(password: $password) }"
ME = "{ me { id } }"
IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) { importTracks(input: $input) { tracks { id } } }
"""
CREATE_COLLECTION = """
mutation C($input: CreateCollectionInput!) { createCollection(input: $input) { id } }
"""
ADD_TO_COLLECTION = """
mutation A($id: ID!, $trackIds: [ID!]!) { addToCollection(id: $id, trackIds: $trackIds) { id } }
"""
COLLECTION = "query Get($id: ID!) { collection(id: $id) { id trackCount } }"
RECORD_PLAY = "mutation P($id: ID!) { recordPlay(trackId: $id) { at } }"
ENQUEUE = "mutation Q($ids: [ID!]!) { enqueue(trackIds: $ids) { version } }"
UPDATE_SETTINGS = "mutation S($s: JSON!) { updateSettings(settings: $s) }"
CREATE_KEY = "mutation K($name: String!) { createApiKey(name: $name) { key } }"
HISTORY = "{ history { totalCount } }"
LABELS = "MATCH (n) RETURN labels(n)[0] AS kind, count(n) AS n"
RELATIONS = "MATCH ()-[r]->() RETURN type(r) AS kind, count(r) AS n"


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    # Sign-in is part of every test here, not its rate limit.
    return make_settings(falkordb_server, rate_limit_login="1000/minute")


def code(body: Any) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def census(engine: GraphEngine) -> dict[str, int]:
    """Nodes by label and relationships by type, in the whole graph."""
    counts: dict[str, int] = {}
    for query in (LABELS, RELATIONS):
        for row in await engine.read("census", query):
            counts[row["kind"]] = int(row["n"])
    return counts


def change(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    kinds = before.keys() | after.keys()
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in kinds}
    return {k: d for k, d in diff.items() if d}


async def account(anonymous: GraphQLClient, name: str, tracks: list[str]) -> dict[str, Any]:
    """A user with two sessions, an API key, a private and a public collection, a play,
    two queued tracks and preferences."""
    details = {"email": f"{name}@example.com", "username": name, "password": PASSWORD}
    first = (await anonymous.query(REGISTER, {"input": details}))["register"]
    second = await anonymous.query(LOGIN, {"input": {"login": name, "password": PASSWORD}})
    me = anonymous.as_(first["accessToken"])
    collections = []
    for public in (False, True):
        made = await me.query(CREATE_COLLECTION, {"input": {"name": name, "public": public}})
        collection_id = made["createCollection"]["id"]
        await me.query(ADD_TO_COLLECTION, {"id": collection_id, "trackIds": tracks})
        collections.append(collection_id)
    await me.query(RECORD_PLAY, {"id": tracks[0]})
    await me.query(ENQUEUE, {"ids": tracks})
    await me.query(UPDATE_SETTINGS, {"s": {"theme": "dark"}})
    key = (await me.query(CREATE_KEY, {"name": "laptop"}))["createApiKey"]["key"]
    return {
        "id": first["user"]["id"],
        "sessions": [first, second["login"]],
        "key": key,
        "collections": collections,
    }


async def catalogue(gql: GraphQLClient) -> list[str]:
    inputs = [{"title": "So What"}, {"title": "Blue in Green"}]
    tracks = (await gql.query(IMPORT_TRACKS, {"input": inputs}))["importTracks"]["tracks"]
    return [t["id"] for t in tracks]


async def test_a_wrong_password_deletes_nothing(gql: GraphQLClient, engine: GraphEngine) -> None:
    pat = await account(gql.as_(None), "pat", await catalogue(gql))
    before = await census(engine)
    caller = gql.as_(pat["sessions"][0]["accessToken"])
    error = await caller.error(DELETE_ACCOUNT, {"password": "not the password"})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert await census(engine) == before
    assert (await caller.query(ME))["me"] == {"id": pat["id"]}


async def test_deleting_an_account_removes_it_and_ends_every_credential(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    tracks = await catalogue(gql)
    anonymous = gql.as_(None)
    pat = await account(anonymous, "pat", tracks)
    sam = await account(anonymous, "sam", tracks)
    before = await census(engine)

    caller = anonymous.as_(pat["sessions"][0]["accessToken"])
    assert await caller.query(DELETE_ACCOUNT, {"password": PASSWORD}) == {"deleteAccount": True}

    # Pat's own nodes and edges went, plus one revocation entry; nothing else changed.
    assert change(before, await census(engine)) == {
        "User": -1,
        "Collection": -2,
        "TokenFamily": -2,
        "ApiKey": -1,
        "RevokedToken": 1,
        "OWNS": -2,
        "CONTAINS": -2 * len(tracks),
        "PLAYED": -1,
        "QUEUED": -len(tracks),
        "HAS_SESSION": -2,
        "HAS_KEY": -1,
        # The e-mail verification token mailed at sign-up.
        "AccountToken": -1,
        "HAS_ACCOUNT_TOKEN": -1,
    }
    for session in pat["sessions"]:
        assert code(await anonymous.as_(session["accessToken"]).raw(ME)) == "UNAUTHENTICATED"
        refreshed = await anonymous.raw(REFRESH, {"token": session["refreshToken"]})
        assert code(refreshed) == "UNAUTHENTICATED"
    assert code(await anonymous.as_(pat["key"]).raw(ME)) == "UNAUTHENTICATED"
    login = await anonymous.raw(LOGIN, {"input": {"login": "pat", "password": PASSWORD}})
    assert code(login) == "UNAUTHENTICATED"
    assert await users.users_by_id(engine, [pat["id"]]) == [None]
    for collection_id in pat["collections"]:
        assert (await gql.error(COLLECTION, {"id": collection_id}))["extensions"]["code"] == (
            "NOT_FOUND"
        )

    # Sam, sharing the same tracks, keeps everything.
    as_sam = anonymous.as_(sam["sessions"][0]["accessToken"])
    assert (await as_sam.query(ME))["me"] == {"id": sam["id"]}
    assert (await as_sam.query(HISTORY))["history"]["totalCount"] == 1
    for collection_id in sam["collections"]:
        found = (await as_sam.query(COLLECTION, {"id": collection_id}))["collection"]
        assert found == {"id": collection_id, "trackCount": len(tracks)}
    assert code(await anonymous.as_(sam["key"]).raw(ME)) is None
    again = await anonymous.raw(REFRESH, {"token": sam["sessions"][1]["refreshToken"]})
    assert code(again) is None


async def test_rest_delete_users_me(gql: GraphQLClient, client: httpx.AsyncClient) -> None:
    pat = await account(gql.as_(None), "pat", await catalogue(gql))
    session = pat["sessions"][0]
    headers = {"authorization": f"Bearer {session['accessToken']}"}
    url = f"{V1}/users/me"

    wrong = await client.request("DELETE", url, json={"password": "not it"}, headers=headers)
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["error"]["code"] == "UNAUTHENTICATED"
    assert (await client.get(url, headers=headers)).status_code == 200

    done = await client.request("DELETE", url, json={"password": PASSWORD}, headers=headers)
    assert done.status_code == 204, done.text
    assert (await client.get(url, headers=headers)).status_code == 401
    refresh = await client.post(
        f"{V1}/auth/refresh", json={"refresh_token": session["refreshToken"]}
    )
    assert refresh.status_code == 401
    missing = await client.request("DELETE", url, json={"password": PASSWORD}, headers=headers)
    assert missing.status_code == 401


async def test_the_only_admin_cannot_delete_their_account(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    password_hash = await Passwords().hash(PASSWORD)
    admin = await users.create_user(engine, "root@example.com", "root", password_hash, "admin")
    anonymous = GraphQLClient(client)
    login = await anonymous.query(LOGIN, {"input": {"login": "root", "password": PASSWORD}})
    caller = anonymous.as_(login["login"]["accessToken"])
    before = await census(engine)

    error = await caller.error(DELETE_ACCOUNT, {"password": PASSWORD})
    assert error["extensions"]["code"] == "CONFLICT"
    assert "only admin" in error["message"]
    assert await census(engine) == before
    headers = {"authorization": f"Bearer {login['login']['accessToken']}"}
    refused = await client.request(
        "DELETE", f"{V1}/users/me", json={"password": PASSWORD}, headers=headers
    )
    assert refused.status_code == 409
    assert (await caller.query(ME))["me"] == {"id": admin["id"]}

    # With a second admin, the first may go.
    await user_token(engine, settings, "admin")
    assert await caller.query(DELETE_ACCOUNT, {"password": PASSWORD}) == {"deleteAccount": True}
    assert await users.users_by_id(engine, [admin["id"]]) == [None]


async def test_an_api_key_cannot_delete_its_account(gql: GraphQLClient) -> None:
    pat = await account(gql.as_(None), "pat", await catalogue(gql))
    error = await gql.as_(pat["key"]).error(DELETE_ACCOUNT, {"password": PASSWORD})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.as_(pat["key"]).query(ME))["me"] == {"id": pat["id"]}
