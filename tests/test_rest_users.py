"""Seed 004's user administration over REST, and `user(id)` in GraphQL: admins only,
and the last admin stays."""

from typing import Any

import httpx

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, user_token

V1 = "/api/v1"
USER = "query User($id: ID!) { user(id: $id) { id username name email role updatedAt } }"


async def _headers(engine: GraphEngine, settings: Settings, role: str) -> dict[str, str]:
    _, token = await user_token(engine, settings, role)
    return {"authorization": f"Bearer {token}"}


def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


async def test_an_admin_creates_reads_updates_and_deletes_a_user(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _headers(engine, settings, "admin")
    # Seed 004: POST /api/v1/users {email, name, password} -> 201 {id, email, name, created_at}
    created = _json(
        await client.post(
            f"{V1}/users",
            json={"email": "user@example.com", "name": "John Doe", "password": "secure_password"},
            headers=admin,
        ),
        201,
    )
    assert created["email"] == "user@example.com" and created["name"] == "John Doe"
    assert created["id"].startswith("usr_") and created["created_at"].endswith("Z")
    assert created["username"] == "user" and created["role"] == "user"
    url = f"{V1}/users/{created['id']}"
    got = _json(await client.get(url, headers=admin), 200)
    assert {k: got[k] for k in ("id", "email", "name", "created_at", "updated_at")} == {
        k: created[k] for k in ("id", "email", "name", "created_at", "updated_at")
    }
    updated = _json(
        await client.put(
            url, json={"name": "Jane Doe", "email": "jane@example.com"}, headers=admin
        ),
        200,
    )
    assert updated["name"] == "Jane Doe" and updated["email"] == "jane@example.com"
    assert updated["updated_at"] >= created["updated_at"]
    # The new password signs in.
    _json(await client.put(url, json={"password": "another password"}, headers=admin), 200)
    login = await client.post(
        f"{V1}/auth/login", json={"email": "jane@example.com", "password": "another password"}
    )
    assert login.status_code == 200, login.text
    _json(await client.delete(url, headers=admin), 204)
    gone = await client.get(url, headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "NOT_FOUND"
    assert (await client.delete(url, headers=admin)).status_code == 404


async def test_only_admins_manage_users(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    user_id, token = await user_token(engine, settings, "moderator")
    headers = {"authorization": f"Bearer {token}"}
    body = {"email": "x@example.com", "name": "X", "password": "secure_password"}
    refused = await client.post(f"{V1}/users", json=body, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert refused.json()["error"]["details"]["seed_code"] == "AUTH_003"
    assert (await client.get(f"{V1}/users/{user_id}", headers=headers)).status_code == 403
    assert (await client.delete(f"{V1}/users/{user_id}", headers=headers)).status_code == 403
    anonymous = await client.post(f"{V1}/users", json=body)
    assert anonymous.status_code in (401, 403)


async def test_the_last_admin_can_be_neither_deleted_nor_demoted(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin_id, token = await user_token(engine, settings, "admin")
    headers = {"authorization": f"Bearer {token}"}
    listed = _json(await client.get(f"{V1}/users", params={"limit": 100}, headers=headers), 200)
    for other in listed["items"]:
        if other["role"].lower() == "admin" and other["id"] != admin_id:
            _json(await client.delete(f"{V1}/users/{other['id']}", headers=headers), 204)
    demoted = await client.put(f"{V1}/users/{admin_id}", json={"role": "user"}, headers=headers)
    assert demoted.status_code == 409 and demoted.json()["error"]["code"] == "CONFLICT"
    # Seed 004's code for it, beside ours.
    assert demoted.json()["error"]["details"]["seed_code"] == "RES_002"
    deleted = await client.delete(f"{V1}/users/{admin_id}", headers=headers)
    assert deleted.status_code == 409 and deleted.json()["error"]["code"] == "CONFLICT"
    still = _json(await client.get(f"{V1}/users/{admin_id}", headers=headers), 200)
    assert still["role"] == "admin"
    # With a second admin, the first may step down.
    second = _json(
        await client.post(
            f"{V1}/users",
            json={"email": "b@example.com", "password": "secure_password", "role": "admin"},
            headers=headers,
        ),
        201,
    )
    assert second["role"] == "admin"
    stepped = _json(
        await client.put(f"{V1}/users/{admin_id}", json={"role": "user"}, headers=headers), 200
    )
    assert stepped["role"] == "user"


async def test_bad_user_input_names_the_field(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _headers(engine, settings, "admin")
    cases = [
        ({"name": "No Email", "password": "secure_password"}, "email"),
        ({"email": "nopass@example.com"}, "password"),
        ({"email": "not an email", "password": "secure_password"}, "email"),
        ({"email": "r@example.com", "password": "secure_password", "role": "god"}, "role"),
        ({"email": "s@example.com", "password": "short"}, "password"),
    ]
    for body, field in cases:
        response = await client.post(f"{V1}/users", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and error["details"]["field"] == field
        assert error["details"]["seed_code"] in ("VAL_001", "VAL_002")
    taken = {"email": "dup@example.com", "password": "secure_password"}
    _json(await client.post(f"{V1}/users", json=taken, headers=admin), 201)
    again = await client.post(f"{V1}/users", json=taken, headers=admin)
    assert again.status_code == 409
    bad_id = await client.get(f"{V1}/users/not-an-id", headers=admin)
    assert bad_id.status_code == 422 and bad_id.json()["error"]["details"]["field"] == "id"


async def test_graphql_user_by_id(
    gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    user_id, token = await user_token(engine, settings, "user")
    found = (await gql.query(USER, {"id": user_id}))["user"]
    assert found["id"] == user_id and found["name"] == found["username"]
    missing = await gql.query(USER, {"id": "usr_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"})
    assert missing["user"] is None
    refused = await gql.as_(token).error(USER, {"id": user_id})
    assert refused["extensions"]["code"] == "FORBIDDEN"
