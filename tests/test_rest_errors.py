"""REST errors never show GraphQL text: a missing or mistyped body field is a
VALIDATION_ERROR naming the field, an unknown query parameter a 422 naming it. And the
refresh token may come as `Authorization: Bearer` (seeds 000 and 004)."""

from typing import Any

import httpx

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import user_token

V1 = "/api/v1"
# What graphql-core says about a document's variables, and never a REST client reads.
GRAPHQL_WORDS = ("$", "GraphQL", "Variable", "Argument", "Expected", "non-null", "mutation")


def _validation(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR", error
    assert error["details"]["field"] == field, error
    assert not any(w in error["message"] for w in GRAPHQL_WORDS), error["message"]
    assert "path" not in error["details"]
    return dict(error)


async def test_a_missing_body_names_the_missing_field(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "admin")
    admin = {"authorization": f"Bearer {token}"}
    # The requests of issue #16, which answered with the GraphQL document's own words.
    _validation(await client.post(f"{V1}/auth/refresh"), "refresh_token")
    _validation(await client.post(f"{V1}/playqueue", json={}, headers=admin), "track_ids")
    _validation(await client.post(f"{V1}/models/deploy", json={}, headers=admin), "version")
    _validation(await client.delete(f"{V1}/users/me", headers=admin), "password")
    _validation(await client.post(f"{V1}/tracks", json={}, headers=admin), "title")
    _validation(await client.post(f"{V1}/auth/register", json={"email": "a@b.co"}), "username")
    _validation(
        await client.post(f"{V1}/auth/login", json={"username": "x"}, headers=admin), "password"
    )


async def test_a_mistyped_field_is_named(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "admin")
    admin = {"authorization": f"Bearer {token}"}
    _validation(
        await client.post(f"{V1}/playqueue", json={"track_ids": "trk_x"}, headers=admin),
        "track_ids",
    )
    _validation(
        await client.post(f"{V1}/models/deploy", json={"version": "one"}, headers=admin),
        "version",
    )
    _validation(
        await client.post(f"{V1}/tracks", json={"title": "T", "year": "1999"}, headers=admin),
        "year",
    )
    _validation(
        await client.post(f"{V1}/tracks", json={"title": "T", "year": True}, headers=admin),
        "year",
    )
    # A field deeper than the body's top level is GraphQL's to refuse: still no GraphQL words.
    deep = await client.put(
        f"{V1}/tracks/trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B/audio-features",
        json={"energy": 0.5},
        headers=admin,
    )
    _validation(deep, "tempo")


async def test_unknown_query_parameters_are_named(client: httpx.AsyncClient) -> None:
    refused = await client.get(f"{V1}/tracks", params={"colour": "blue", "limit": 2, "zz": 1})
    error = _validation(refused, "colour")
    assert error["details"]["unknown"] == ["colour", "zz"]
    assert "'colour'" in error["message"] and "'zz'" in error["message"]
    _validation(await client.get(f"{V1}/genres", params={"page": 2}), "page")


async def test_refresh_with_the_token_as_bearer(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    body = {"email": "bearer@example.com", "username": "bearer", "password": "a long password"}
    assert (await client.post(f"{V1}/auth/register", json=body)).status_code == 201
    login = await client.post(f"{V1}/auth/login", json=body)
    assert login.status_code == 200, login.text
    tokens = login.json()
    # Seed 004: `POST /api/v1/auth/refresh` with `Authorization: Bearer <refresh_token>`.
    refreshed = await client.post(
        f"{V1}/auth/refresh", headers={"authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert fresh["token_type"] == "bearer" and fresh["access_token"] and fresh["expires_in"] > 0
    me = await client.get(
        f"{V1}/users/me", headers={"authorization": f"Bearer {fresh['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["username"] == "bearer"
    # The rotated token was used once: presenting it again ends the session.
    again = await client.post(
        f"{V1}/auth/refresh", headers={"authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert again.status_code == 401 and again.json()["error"]["code"] == "UNAUTHENTICATED"
    # An access token is no refresh token, and a forged one is refused the same way.
    for token in (fresh["access_token"], "not-a-token"):
        wrong = await client.post(
            f"{V1}/auth/refresh", headers={"authorization": f"Bearer {token}"}
        )
        assert wrong.status_code == 401, wrong.text
    # Elsewhere a bad bearer is still refused before any route runs.
    assert (
        await client.get(f"{V1}/users/me", headers={"authorization": "Bearer not-a-token"})
    ).status_code == 401
