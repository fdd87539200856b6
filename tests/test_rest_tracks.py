"""REST tracks, the error envelope, pagination bounds and auth refusals, over a live
server: every route runs a GraphQL document through the same path as /graphql."""

from typing import Any

import httpx

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import user_token

V1 = "/api/v1"


async def _headers(engine: GraphEngine, settings: Settings, role: str) -> dict[str, str]:
    _, token = await user_token(engine, settings, role)
    return {"authorization": f"Bearer {token}"}


def _envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    error = body["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details", "timestamp", "request_id"}
    assert error["request_id"] == response.headers["x-request-id"]
    return error  # type: ignore[no-any-return]


async def test_track_crud(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _headers(engine, settings, "admin")
    body = {
        "title": "So What",
        "artist": "Miles Davis",
        "album": "Kind of Blue",
        "genre": "Jazz",
        "year": 1959,
        "tags": ["modal"],
        "duration": 562.0,
    }
    created = await client.post(f"{V1}/tracks", json=body, headers=admin)
    assert created.status_code == 201, created.text
    track = created.json()
    assert track["title"] == "So What"
    assert track["artist"] == "Miles Davis"
    assert track["album"] == "Kind of Blue"
    assert track["genre"] == "Jazz"
    assert track["year"] == 1959
    assert track["tags"] == ["modal"]

    got = await client.get(f"{V1}/tracks/{track['id']}")
    assert got.status_code == 200
    assert got.json() == track

    updated = await client.put(
        f"{V1}/tracks/{track['id']}", json={"title": "Freddie Freeloader"}, headers=admin
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["title"] == "Freddie Freeloader"
    assert updated.json()["artist"] == "Miles Davis"

    deleted = await client.delete(f"{V1}/tracks/{track['id']}", headers=admin)
    assert deleted.status_code == 204
    _envelope(await client.get(f"{V1}/tracks/{track['id']}"), 404, "NOT_FOUND")


async def test_list_pagination_and_filters(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _headers(engine, settings, "admin")
    for n in range(7):
        genre = "Rock" if n % 2 else "Jazz"
        response = await client.post(
            f"{V1}/tracks",
            json={"title": f"Song {n}", "genre": genre, "year": 2000 + n},
            headers=admin,
        )
        assert response.status_code == 201
    page = (await client.get(f"{V1}/tracks", params={"limit": 3, "sort": "title"})).json()
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 0
    assert [t["title"] for t in page["items"]] == ["Song 0", "Song 1", "Song 2"]
    page = (
        await client.get(f"{V1}/tracks", params={"limit": 3, "offset": 5, "sort": "title"})
    ).json()
    assert [t["title"] for t in page["items"]] == ["Song 5", "Song 6"]
    assert page["offset"] == 5
    past = (await client.get(f"{V1}/tracks", params={"offset": 50})).json()
    assert past["items"] == [] and past["total"] == 7
    rock = (await client.get(f"{V1}/tracks", params={"genre": "rock", "order": "desc"})).json()
    assert rock["total"] == 3
    years = (await client.get(f"{V1}/tracks", params={"year_min": 2005})).json()
    assert years["total"] == 2

    for params in (
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"offset": 10_001},
        {"limit": "many"},
        {"sort": "color"},
    ):
        error = _envelope(await client.get(f"{V1}/tracks", params=params), 422, "VALIDATION_ERROR")
        assert error["details"]["field"] in params


async def test_errors_and_auth(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    guest_write = await client.post(f"{V1}/tracks", json={"title": "x"})
    _envelope(guest_write, 401, "UNAUTHENTICATED")
    user = await _headers(engine, settings, "user")
    created = await client.post(f"{V1}/tracks", json={"title": "Mine"}, headers=user)
    assert created.status_code == 201
    forbidden = await client.delete(f"{V1}/tracks/{created.json()['id']}", headers=user)
    _envelope(forbidden, 403, "FORBIDDEN")
    bad_token = await client.get(f"{V1}/tracks", headers={"authorization": "Bearer nope"})
    _envelope(bad_token, 401, "UNAUTHENTICATED")
    malformed = await client.post(
        f"{V1}/tracks", content=b"{not json", headers={**user, "content-type": "application/json"}
    )
    _envelope(malformed, 400, "BAD_REQUEST")
    _envelope(await client.post(f"{V1}/tracks", json=[1], headers=user), 422, "VALIDATION_ERROR")
    _envelope(await client.post(f"{V1}/tracks", json={}, headers=user), 422, "VALIDATION_ERROR")
    _envelope(await client.get(f"{V1}/tracks/not-an-id"), 422, "VALIDATION_ERROR")
    _envelope(await client.get(f"{V1}/nowhere"), 404, "NOT_FOUND")
    _envelope(await client.patch(f"{V1}/tracks"), 405, "METHOD_NOT_ALLOWED")


async def test_media_routes(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _headers(engine, settings, "admin")
    created = (await client.post(f"{V1}/tracks", json={"title": "Media"}, headers=admin)).json()
    listed = (await client.get(f"{V1}/media")).json()
    assert [t["id"] for t in listed["items"]] == [created["id"]]
    assert (await client.get(f"{V1}/media/{created['id']}")).json()["title"] == "Media"
    put = await client.put(f"{V1}/media/{created['id']}", json={"year": 1999}, headers=admin)
    assert put.json()["year"] == 1999
    deleted = await client.delete(f"{V1}/media/{created['id']}", headers=admin)
    assert deleted.status_code == 200
    assert deleted.json()["message"] == "Media deleted successfully"
