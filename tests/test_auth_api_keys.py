"""API keys: shown once, stored as a sha256 digest, accepted in either header until
revoked, and revocable only by their owner."""

import hashlib
import re
from typing import Any

import httpx

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, user_token

KEY_FIELDS = "id name prefix createdAt revokedAt"
CREATE_KEY = f"""
mutation Create($name: String!) {{ createApiKey(name: $name) {{ key apiKey {{ {KEY_FIELDS} }} }} }}
"""
REVOKE_KEY = f"mutation Revoke($id: ID!) {{ revokeApiKey(id: $id) {{ {KEY_FIELDS} }} }}"
API_KEYS = f"{{ apiKeys {{ {KEY_FIELDS} }} }}"
API_KEY_TYPE = '{ __type(name: "ApiKey") { fields { name } } }'
ME = "{ me { id } }"
KEY_RE = re.compile(r"^apk_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$")


async def create_key(owner: GraphQLClient, name: str = "ci") -> dict[str, Any]:
    return (await owner.query(CREATE_KEY, {"name": name}))["createApiKey"]  # type: ignore[no-any-return]


async def me_with(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/graphql", json={"query": ME}, headers=headers)


def key_headers(key: str) -> list[dict[str, str]]:
    return [{"x-api-key": key}, {"authorization": f"Bearer {key}"}]


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_key_is_shown_once_and_stored_as_a_digest(
    engine: GraphEngine, settings: Settings, gql: GraphQLClient
) -> None:
    _, token = await user_token(engine, settings, "user")
    owner = gql.as_(token)
    created = await create_key(owner, "deploy bot")
    key, listed_key = created["key"], created["apiKey"]
    match = KEY_RE.match(key)
    assert match is not None, key
    assert listed_key["id"] == f"key_{match.group(1)}"
    assert listed_key["name"] == "deploy bot"
    assert listed_key["prefix"] == key[:12]
    assert listed_key["revokedAt"] is None

    assert (await owner.query(API_KEYS))["apiKeys"] == [listed_key]
    fields = (await owner.query(API_KEY_TYPE))["__type"]["fields"]
    assert {f["name"] for f in fields} == {"id", "name", "prefix", "createdAt", "revokedAt"}

    rows = await engine.read(
        "t", "MATCH (k:ApiKey {id: $id}) RETURN properties(k) AS p", {"id": listed_key["id"]}
    )
    stored = rows[0]["p"]
    assert stored["secret_hash"] == hashlib.sha256(match.group(2).encode()).hexdigest()
    for value in stored.values():
        assert match.group(2) not in str(value)
        assert key not in str(value)


async def test_key_authenticates_in_either_header_until_revoked(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    user_id, token = await user_token(engine, settings, "user")
    owner = gql.as_(token)
    created = await create_key(owner)
    for headers in key_headers(created["key"]):
        response = await me_with(client, headers)
        assert response.json() == {"data": {"me": {"id": user_id}}}, headers

    revoked = (await owner.query(REVOKE_KEY, {"id": created["apiKey"]["id"]}))["revokeApiKey"]
    assert revoked["revokedAt"] is not None
    for headers in key_headers(created["key"]):
        assert_refused(await me_with(client, headers))
    listed = (await owner.query(API_KEYS))["apiKeys"]
    assert [k["revokedAt"] for k in listed] == [revoked["revokedAt"]]


async def test_a_user_cannot_revoke_another_users_key(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    owner_id, owner_token = await user_token(engine, settings, "user")
    _, other_token = await user_token(engine, settings, "user")
    created = await create_key(gql.as_(owner_token))
    error = await gql.as_(other_token).error(REVOKE_KEY, {"id": created["apiKey"]["id"]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await gql.as_(other_token).query(API_KEYS))["apiKeys"] == []
    response = await me_with(client, {"x-api-key": created["key"]})
    assert response.json() == {"data": {"me": {"id": owner_id}}}


async def test_malformed_or_wrong_keys_get_401(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    _, token = await user_token(engine, settings, "user")
    key = (await create_key(gql.as_(token)))["key"]
    head, secret = key.rsplit("_", 1)
    wrong_secret = f"{head}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"
    for bad in (
        "apk_",
        "apk_nonsense",
        key[:-1],
        key + "x",
        wrong_secret,
        "apk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B_" + secret,  # no such key
        "not-a-key",
    ):
        for headers in key_headers(bad):
            assert_refused(await me_with(client, headers))
