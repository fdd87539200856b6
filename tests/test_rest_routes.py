"""Every REST route that needs no worker, against a live server."""

from typing import Any

import httpx

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import user_token

V1 = "/api/v1"


async def _auth(engine: GraphEngine, settings: Settings, role: str) -> dict[str, str]:
    _, token = await user_token(engine, settings, role)
    return {"authorization": f"Bearer {token}"}


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


async def _track(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> str:
    created = await client.post(f"{V1}/tracks", json={"title": "T", **body}, headers=headers)
    return str((await _ok(created, 201))["id"])


async def test_audio_features(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _auth(engine, settings, "admin")
    a = await _track(client, admin, title="A")
    b = await _track(client, admin, title="B")
    url = f"{V1}/tracks/{a}/audio-features"
    assert (await client.get(url)).status_code == 404
    features = {"tempo": 124.0, "key": "A", "mode": "minor", "energy": 0.8}
    created = await _ok(await client.post(url, json=features, headers=admin), 201)
    assert created["camelot"] == "8A" and created["tempo"] == 124.0
    await _ok(
        await client.put(
            f"{V1}/tracks/{b}/audio-features", json={"bpm": 90, "energy": 0.2}, headers=admin
        )
    )
    assert (await _ok(await client.get(url)))["energy"] == 0.8
    found = await _ok(
        await client.get(
            f"{V1}/audio-features/search", params={"bpm_min": 100, "camelot_key": "8a"}
        )
    )
    assert [t["id"] for t in found["items"]] == [a] and found["total"] == 1
    low = await _ok(await client.get(f"{V1}/audio-features/search", params={"energy_max": 0.5}))
    assert [t["id"] for t in low["items"]] == [b]
    stats = await _ok(await client.get(f"{V1}/audio-features/statistics"))
    assert stats["total_analyzed"] == 2
    similar = await _ok(await client.get(f"{V1}/tracks/{a}/similar-by-features"))
    assert similar["items"] == []
    analytics = await _ok(
        await client.get(
            f"{V1}/analytics/similar/{a}", params={"similarity_threshold": 0.5}, headers=admin
        )
    )
    assert analytics["similar_media"] == []
    await _ok(await client.delete(url, headers=admin), 204)
    assert (await client.get(url)).status_code == 404


async def test_embeddings(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _auth(engine, settings, "admin")
    a = await _track(client, admin)
    vector = [0.1] * 63 + [1.0]
    made = await client.post(
        f"{V1}/tracks/{a}/embeddings", json={"type": "audio", "vector": vector}, headers=admin
    )
    assert (await _ok(made, 201))["dimension"] == 64
    clap = await client.put(
        f"{V1}/tracks/{a}/embeddings/clap", json={"vector": [0.5, 0.5]}, headers=admin
    )
    assert (await _ok(clap))["vector"] == [0.5, 0.5]
    listed = await _ok(await client.get(f"{V1}/tracks/{a}/embeddings"))
    assert {e["type"] for e in listed["items"]} == {"audio", "clap"}
    one = await _ok(await client.get(f"{V1}/tracks/{a}/embeddings/clap"))
    assert one == {"type": "clap", "dimension": 2, "vector": [0.5, 0.5]}
    await _ok(await client.delete(f"{V1}/tracks/{a}/embeddings/clap", headers=admin), 204)
    assert (await client.get(f"{V1}/tracks/{a}/embeddings/clap")).status_code == 404
    bad = await client.post(f"{V1}/tracks/{a}/embeddings", json={"vector": [1.0]}, headers=admin)
    assert bad.status_code == 422
    await _ok(await client.post(f"{V1}/embeddings/search", json={"vector": vector, "limit": 5}))
    await _ok(await client.post(f"{V1}/tracks/{a}/embeddings/search-similar", json={}))
    stats = await _ok(await client.get(f"{V1}/embeddings/statistics"))
    audio = next(t for t in stats["by_type"] if t["type"] == "audio")
    assert stats["total_tracks"] == 1 and audio["count"] == 1
    b = await _track(client, admin, title="No vector")
    missing = await _ok(await client.get(f"{V1}/tracks/without-embeddings"))
    assert [t["id"] for t in missing["items"]] == [b] and missing["total"] == 1


async def test_metadata(client: httpx.AsyncClient, engine: GraphEngine, settings: Settings) -> None:
    admin = await _auth(engine, settings, "admin")
    a = await _track(client, admin, title="A")
    b = await _track(client, admin, title="B")
    url = f"{V1}/tracks/{a}/metadata"
    entry = await _ok(
        await client.post(url, json={"key": "isrc", "value": "USX1"}, headers=admin), 201
    )
    assert entry["source"] == "user" and entry["key"] == "isrc"
    await _ok(
        await client.put(f"{url}/mood", json={"value": "Calm", "source": "tags"}, headers=admin)
    )
    batch = await client.post(
        f"{V1}/tracks/{a}/metadata-batch",
        json={"source": "musicbrainz", "metadata": {"isrc": "USX2"}},
        headers=admin,
    )
    assert (await _ok(batch))["total"] == 1
    listed = await _ok(await client.get(url))
    assert listed["total"] == 3
    assert (await _ok(await client.get(url, params={"source": "tags"})))["total"] == 1
    assert (await _ok(await client.get(f"{url}/mood")))["value"] == "Calm"
    by_source = await _ok(await client.get(f"{V1}/tracks/{a}/metadata-by-source"))
    assert by_source == {
        "musicbrainz": {"isrc": "USX2"},
        "tags": {"mood": "Calm"},
        "user": {"isrc": "USX1"},
    }
    found = await _ok(await client.get(f"{V1}/metadata/search", params={"value": "calm"}))
    assert found["total"] == 1 and found["items"][0]["track"]["id"] == a
    assert (await _ok(await client.get(f"{V1}/metadata/search", params={"key": "isrc"})))[
        "total"
    ] == 2
    stats = await _ok(await client.get(f"{V1}/tracks/{a}/metadata-stats"))
    assert stats["total_entries"] == 3
    overall = await _ok(await client.get(f"{V1}/metadata/statistics"))
    assert overall["tracks_with_metadata"] == 1
    without = await _ok(await client.get(f"{V1}/tracks/without-metadata"))
    assert [t["id"] for t in without["items"]] == [b]
    await _ok(await client.delete(f"{url}/isrc", params={"source": "user"}, headers=admin), 204)
    assert (
        await client.delete(f"{url}/isrc", params={"source": "user"}, headers=admin)
    ).status_code == 404
    assert (await client.get(f"{url}/nope")).status_code == 404
    bad_key = await client.post(url, json={"key": "bad key!", "value": "x"}, headers=admin)
    assert bad_key.status_code == 422


async def test_catalogue_and_listening(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _auth(engine, settings, "admin")
    a = await _track(
        client, admin, title="Blue in Green", artist="Bill Evans", album="Portrait", genre="Jazz"
    )
    artists = await _ok(await client.get(f"{V1}/artists", params={"q": "bill"}))
    assert artists["items"][0]["name"] == "Bill Evans" and artists["total"] == 1
    albums = await _ok(
        await client.get(f"{V1}/albums", params={"artist_id": artists["items"][0]["id"]})
    )
    assert albums["items"][0]["title"] == "Portrait"
    assert albums["items"][0]["artist"] == "Bill Evans"
    genres = await _ok(await client.get(f"{V1}/genres"))
    assert genres["success"] is True and genres["data"]["genres"][0]["name"] == "Jazz"
    queue = await _ok(await client.post(f"{V1}/playqueue", json={"track_ids": [a]}, headers=admin))
    assert [t["id"] for t in queue["tracks"]] == [a]
    assert (await _ok(await client.get(f"{V1}/playqueue", headers=admin)))["current_index"] == 0
    assert (await _ok(await client.delete(f"{V1}/playqueue", headers=admin)))["tracks"] == []
    hits = await _ok(await client.get(f"{V1}/search", params={"q": "blue", "mode": "text"}))
    assert hits["results"][0]["item"]["id"] == a and hits["query"] == "blue"
    suggestions = await _ok(await client.get(f"{V1}/search/suggest", params={"q": "Blu"}))
    assert suggestions["suggestions"][0] == {"text": "Blue in Green", "type": "track", "id": a}
    recs = await _ok(await client.get(f"{V1}/recommendations", params={"genre": "Jazz"}))
    assert isinstance(recs["items"], list)
    assert (await client.get(f"{V1}/recommendations")).status_code == 422
    assert (await _ok(await client.get(f"{V1}/settings", headers=admin))) == {}
    saved = await client.put(f"{V1}/settings", json={"theme": "dark"}, headers=admin)
    assert (await _ok(saved)) == {"theme": "dark"}
    assert (await _ok(await client.get(f"{V1}/settings", headers=admin))) == {"theme": "dark"}
    assert (await client.get(f"{V1}/settings")).status_code == 401
    history = await _ok(await client.get(f"{V1}/history", headers=admin))
    assert history["items"] == [] and history["total"] == 0


async def test_analytics_models_and_admin(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _auth(engine, settings, "admin")
    user = await _auth(engine, settings, "user")
    await _track(client, admin, genre="Jazz", duration=60.0)
    stats = await _ok(await client.get(f"{V1}/analytics/stats", headers=user))
    assert stats["track_count"] == 1 and stats["total_duration"] == 60.0
    assert (await _ok(await client.get(f"{V1}/stats", headers=user)))["track_count"] == 1
    trends = await _ok(
        await client.get(
            f"{V1}/analytics/trends",
            params={"period": "day", "metric": "uploads", "last": 3},
            headers=user,
        )
    )
    assert len(trends["trends"]) == 3 and trends["trends"][-1]["value"] == 1
    assert (await client.get(f"{V1}/analytics/stats")).status_code == 401
    assert (await client.get(f"{V1}/models", headers=user)).status_code == 403
    assert (await _ok(await client.get(f"{V1}/models", headers=admin)))["data"]["models"] == []
    deploy = await client.post(f"{V1}/models/deploy", json={"version": 1}, headers=user)
    assert deploy.status_code == 403
    deploy = await client.post(f"{V1}/models/deploy", json={"version": 1}, headers=admin)
    assert deploy.status_code == 404
    assert (await client.get(f"{V1}/batch/job_01JD7Q3N4V3Y0R6K8W9X2Z5A1B")).status_code == 404
    assert (await client.get(f"{V1}/prediction/job_01JD7Q3N4V3Y0R6K8W9X2Z5A1B")).status_code == 404
    status = await _ok(await client.get(f"{V1}/admin/system/status", headers=admin))
    assert {c["name"] for c in status["components"]} == {"graph", "redis", "worker"}
    assert status["maintenance"]["enabled"] is False
    assert (await client.get(f"{V1}/admin/system/status", headers=user)).status_code == 403
    users = await _ok(await client.get(f"{V1}/users", headers=admin))
    assert users["total"] == 2
    assert (await client.get(f"{V1}/users", headers=user)).status_code == 403


async def test_auth_and_me(client: httpx.AsyncClient) -> None:
    body = {"email": "rest@example.com", "username": "rest", "password": "long enough password"}
    registered = await _ok(await client.post(f"{V1}/auth/register", json=body), 201)
    # Seed 000: register answers the user (UserResponse).
    assert registered["username"] == "rest" and registered["email"] == "rest@example.com"
    assert registered["id"].startswith("usr_") and registered["token_type"] == "bearer"
    assert (await client.post(f"{V1}/auth/register", json=body)).status_code == 409
    login = await _ok(
        await client.post(
            f"{V1}/auth/login", json={"username": "rest", "password": body["password"]}
        )
    )
    bad = await client.post(f"{V1}/auth/login", json={"username": "rest", "password": "wrong"})
    assert bad.status_code == 401
    headers = {"authorization": f"Bearer {login['access_token']}"}
    me = await _ok(await client.get(f"{V1}/users/me", headers=headers))
    assert me["email"] == "rest@example.com"
    assert (await client.get(f"{V1}/users/me")).status_code == 401
    changed = await client.patch(
        f"{V1}/users/me",
        json={"current_password": body["password"], "new_password": "another long password"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert {**changed.json(), "updated_at": None} == {**me, "updated_at": None}
    refreshed = await _ok(
        await client.post(f"{V1}/auth/refresh", json={"refresh_token": login["refresh_token"]})
    )
    headers = {"authorization": f"Bearer {refreshed['access_token']}"}
    out = await client.post(
        f"{V1}/auth/logout", json={"refresh_token": refreshed["refresh_token"]}, headers=headers
    )
    assert out.status_code == 204
    assert (await client.get(f"{V1}/users/me", headers=headers)).status_code == 401


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    document = await _ok(await client.get("/api/openapi.json"))
    assert document["openapi"].startswith("3.1")
    operations = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert ("POST", "/admin/maintenance") in operations and len(operations) >= 70
    assert document["paths"]["/tracks"]["post"]["security"] == [
        {"bearerAuth": []},
        {"apiKeyAuth": []},
    ]
    assert document["paths"]["/auth/login"]["post"]["security"] == []
    for page, asset in (
        ("/api/docs", "swagger-ui-bundle.js"),
        ("/api/redoc", "redoc-init.js"),
    ):
        html = await client.get(page)
        assert html.status_code == 200 and asset in html.text and "cdn" not in html.text.lower()
    for asset in (
        "/api/static/swagger-ui/swagger-ui-bundle.js",
        "/api/static/swagger-ui/swagger-ui.css",
        "/api/static/redoc/redoc.standalone.js",
        "/api/static/docs/redoc-init.js",
        "/api/static/docs/redoc-logo-mini.svg",
    ):
        assert (await client.get(asset)).status_code == 200
    # ReDoc's bundle names no CDN: its logo is ours (web/vendor-api-docs.sh).
    bundle = await client.get("/api/static/redoc/redoc.standalone.js")
    assert "cdn.redoc.ly" not in bundle.text


def test_every_document_is_valid_and_named() -> None:
    """Each route's document validates against the schema and defines its operation."""
    from graphql import OperationDefinitionNode, parse, validate

    from server.graphql_app import build_schema
    from server.rest.routes import ROUTES

    schema = build_schema()
    seen = set()
    for route in ROUTES:
        document = parse(route.document)
        names = [
            d.name.value
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and d.name
        ]
        assert names == [route.operation], route.path
        assert not validate(schema, document), (route.method, route.path)
        assert (route.method, route.path) not in seen
        seen.add((route.method, route.path))
