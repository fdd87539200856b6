"""Seed conformance: one case per in-domain seed endpoint (tests/seed_inventory.py lists
them all, with the tests elsewhere that check the ones this table cannot), asserting
the status, the shape and the field names the seed shows.

Each case runs against a live server holding a small world: an admin, a user, a track
with audio features, a metadata entry and an audio embedding, and another user. A
case's fields are those its seed writes (seed 001 shows no bodies: its cases hold the
fields of our documented shape); every JSON answer is also checked against the route's
own OpenAPI response schema, so a field the document promises cannot go missing.
"""

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from graph.engine import GraphEngine
from server.rest.routes import ROUTES
from server.settings import Settings
from taskqueue import broker_for, workers_key
from tests import audio_fixtures as af
from tests import seed_inventory
from tests.seed_inventory import ENDPOINTS, V1, Endpoint
from tests.support import user_token
from workers.presence import Presence

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
VECTOR = [0.1] * 63 + [1.0]
PASSWORD = "a long password"

# Seed 000's MediaResponse fields we keep to ourselves, and why: `file_path` is the
# server's file system; `bit_rate`, `sample_rate`, `channels`, `technical_analysis` and
# `similarity_vector` are not stored per track (audio features and embeddings have their
# own routes).
MEDIA_FIELDS = (
    "id",
    "title",
    "artist",
    "album",
    "genre",
    "year",
    "tags",
    "format",
    "file_size",
    "duration",
    "created_at",
    "updated_at",
)
TOKEN_FIELDS = ("access_token", "token_type", "expires_in")
USER_004 = ("id", "email", "name", "created_at", "updated_at")
LIST = ("items", "total", "limit", "offset")


@dataclass
class World:
    client: httpx.AsyncClient
    admin: dict[str, str]
    user: dict[str, str]
    user_id: str
    other_user: str
    track: str
    scan_root: str
    wav: bytes
    session: dict[str, Any] = field(default_factory=dict)

    async def sign_up(self) -> dict[str, Any]:
        """A user made through seed 000's register (a real password and sessions)."""
        body = {"email": "sam@example.com", "username": "sam", "password": PASSWORD}
        made = await self.client.post(f"{V1}/auth/register", json=body)
        assert made.status_code == 201, made.text
        self.session = dict(made.json())
        return self.session


Build = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    status: int
    fields: tuple[str, ...] = ()  # top-level fields the answer must have
    items: tuple[str, ...] = ()  # fields of every element of `items_key`
    items_key: str = "items"
    item_key: str = ""  # check `items` in this field of each element instead
    request: Build = lambda w: {}  # httpx keyword arguments
    who: str = "admin"  # admin, user, session (signed up), none
    wrapped: bool = False  # seed 002's {success, data, timestamp}
    text: str = ""  # for non-JSON answers: a string the body holds
    session: bool = False  # sign a user up first


def _json(body: dict[str, Any]) -> Build:
    return lambda w: {"json": body}


CASES: dict[str, Case] = {
    # --- 000 ------------------------------------------------------------------------
    f"000 POST {V1}/auth/login": Case(
        200,
        TOKEN_FIELDS,
        who="none",
        session=True,
        request=_json({"username": "sam", "password": PASSWORD}),
    ),
    f"000 POST {V1}/auth/register": Case(
        201,
        ("id", "username", "email", "role", "created_at"),
        who="none",
        request=_json({"email": "reg@example.com", "username": "reg", "password": PASSWORD}),
    ),
    f"000 POST {V1}/auth/refresh": Case(
        200,
        ("access_token", "token_type"),
        who="none",
        session=True,
        request=lambda w: {"json": {"refresh_token": w.session["refresh_token"]}},
    ),
    f"000 GET {V1}/media": Case(
        200, LIST, MEDIA_FIELDS, request=lambda w: {"params": {"limit": 10, "genre": "Jazz"}}
    ),
    f"000 GET {V1}/media/{{id}}": Case(200, MEDIA_FIELDS),
    # Seed 000's upload answers the MediaResponse (ours adds `track`, `job`, `duplicate`).
    f"000 POST {V1}/media/upload": Case(
        201,
        MEDIA_FIELDS,
        request=lambda w: {
            "files": {"file": ("click.wav", w.wav, "audio/wav")},
            "data": {"metadata": '{"title": "Click", "artist": "Metronome"}'},
        },
    ),
    f"000 PUT {V1}/media/{{id}}": Case(200, MEDIA_FIELDS, request=_json({"year": 1960})),
    f"000 DELETE {V1}/media/{{id}}": Case(200, ("message",)),
    f"000 GET {V1}/search": Case(
        200,
        ("query", "results", "total", "took_ms"),
        MEDIA_FIELDS,
        items_key="results",
        item_key="item",  # each result is {type, score, item}: the media is the item
        request=lambda w: {"params": {"q": "blue", "fields": "track"}},
    ),
    f"000 GET {V1}/search/suggest": Case(
        200, ("suggestions",), request=lambda w: {"params": {"q": "bl"}}
    ),
    f"000 GET {V1}/analytics/stats": Case(200),
    f"000 GET {V1}/analytics/trends": Case(200, ("trends", "period", "metric")),
    f"000 GET {V1}/analytics/similar/{{id}}": Case(200, ("similar_media",)),
    "000 GET /docs": Case(200, text="swagger-ui"),
    "000 GET /redoc": Case(200, text="redoc"),
    "000 GET /openapi.json": Case(200, ("openapi", "info", "paths")),
    # --- 001 ------------------------------------------------------------------------
    f"001 GET {V1}/tracks": Case(200, LIST, MEDIA_FIELDS),
    f"001 GET {V1}/tracks/{{id}}": Case(200, MEDIA_FIELDS),
    f"001 POST {V1}/tracks": Case(201, MEDIA_FIELDS, request=_json({"title": "New"})),
    f"001 PUT {V1}/tracks/{{id}}": Case(200, MEDIA_FIELDS, request=_json({"title": "Renamed"})),
    f"001 DELETE {V1}/tracks/{{id}}": Case(204),
    f"001 GET {V1}/tracks/{{id}}/audio-features": Case(200, ("tempo", "key", "mode", "energy")),
    f"001 POST {V1}/tracks/{{id}}/audio-features": Case(
        201,
        ("tempo", "key", "mode", "camelot"),
        request=_json({"tempo": 90.0, "key": "C", "mode": "major"}),
    ),
    f"001 PUT {V1}/tracks/{{id}}/audio-features": Case(
        200,
        ("tempo", "key", "mode", "camelot"),
        request=_json({"tempo": 91.0, "key": "D", "mode": "minor"}),
    ),
    f"001 DELETE {V1}/tracks/{{id}}/audio-features": Case(204),
    f"001 GET {V1}/audio-features/search": Case(
        200, LIST, MEDIA_FIELDS, request=lambda w: {"params": {"bpm_min": 100}}
    ),
    f"001 GET {V1}/audio-features/statistics": Case(200, ("total_analyzed",)),
    f"001 GET {V1}/tracks/{{id}}/similar-by-features": Case(200, LIST),
    f"001 GET {V1}/tracks/{{id}}/embeddings": Case(200, LIST, ("type", "dimension", "vector")),
    f"001 GET {V1}/tracks/{{id}}/embeddings/{{type}}": Case(200, ("type", "dimension", "vector")),
    f"001 POST {V1}/tracks/{{id}}/embeddings": Case(
        201, ("type", "dimension", "vector"), request=_json({"type": "audio", "vector": VECTOR})
    ),
    f"001 PUT {V1}/tracks/{{id}}/embeddings/{{type}}": Case(
        200, ("type", "dimension", "vector"), request=_json({"vector": VECTOR})
    ),
    f"001 DELETE {V1}/tracks/{{id}}/embeddings/{{type}}": Case(204),
    f"001 POST {V1}/embeddings/search": Case(
        200, LIST, ("score", "track"), request=_json({"vector": VECTOR, "limit": 5})
    ),
    f"001 POST {V1}/tracks/{{id}}/embeddings/search-similar": Case(200, LIST, request=_json({})),
    f"001 GET {V1}/embeddings/statistics": Case(200, ("total_tracks", "by_type")),
    f"001 GET {V1}/tracks/without-embeddings": Case(200, LIST),
    f"001 GET {V1}/tracks/{{id}}/metadata": Case(
        200, LIST, ("source", "key", "value", "updated_at")
    ),
    f"001 GET {V1}/tracks/{{id}}/metadata/{{key}}": Case(200, ("source", "key", "value")),
    f"001 POST {V1}/tracks/{{id}}/metadata": Case(
        201, ("source", "key", "value"), request=_json({"key": "label", "value": "Columbia"})
    ),
    f"001 PUT {V1}/tracks/{{id}}/metadata/{{key}}": Case(
        200, ("source", "key", "value"), request=_json({"value": "sad"})
    ),
    f"001 DELETE {V1}/tracks/{{id}}/metadata/{{key}}": Case(204),
    f"001 GET {V1}/metadata/search": Case(
        200, LIST, ("track", "entry"), request=lambda w: {"params": {"key": "mood"}}
    ),
    f"001 GET {V1}/tracks/{{id}}/metadata-by-source": Case(200, ("user",)),
    f"001 POST {V1}/tracks/{{id}}/metadata-batch": Case(
        200, LIST, request=_json({"source": "user", "metadata": {"a": "1", "b": "2"}})
    ),
    f"001 GET {V1}/tracks/{{id}}/metadata-stats": Case(200, ("total_entries", "by_source")),
    f"001 GET {V1}/metadata/statistics": Case(200, ("total_entries", "by_source")),
    f"001 GET {V1}/tracks/without-metadata": Case(200, LIST),
    f"001 GET {V1}/artists": Case(200, LIST, ("id", "name")),
    f"001 GET {V1}/albums": Case(200, LIST, ("id", "title", "artist")),
    f"001 GET {V1}/playqueue": Case(200, ("tracks", "current_index"), who="user"),
    f"001 POST {V1}/playqueue": Case(
        200,
        ("tracks", "current_index"),
        who="user",
        request=lambda w: {"json": {"track_ids": [w.track]}},
    ),
    f"001 DELETE {V1}/playqueue": Case(200, ("tracks",), who="user"),
    f"001 GET {V1}/recommendations": Case(
        200, LIST, request=lambda w: {"params": {"track_id": w.track}}
    ),
    f"001 GET {V1}/search": Case(
        200, ("query", "results", "total"), request=lambda w: {"params": {"q": "blue"}}
    ),
    f"001 POST {V1}/scan": Case(
        202, ("id", "kind", "status"), request=lambda w: {"json": {"path": w.scan_root}}
    ),
    f"001 GET {V1}/settings": Case(200, who="user"),
    f"001 PUT {V1}/settings": Case(200, ("theme",), who="user", request=_json({"theme": "dark"})),
    "001 GET /api/docs": Case(200, text="swagger-ui"),
    "001 GET /api/redoc": Case(200, text="redoc"),
    # --- 002 ------------------------------------------------------------------------
    f"002 GET {V1}/health": Case(
        200, ("status", "version", "components", "uptime_seconds", "timestamp"), who="none"
    ),
    f"002 GET {V1}/genres": Case(
        200,
        ("genres", "total"),
        ("id", "name", "description", "sub_genres"),
        items_key="genres",
        wrapped=True,
        who="none",
    ),
    "002 GET /docs": Case(200, text="swagger-ui", who="none"),
    f"002 GET {V1}/history": Case(200, LIST, who="user"),
    f"002 GET {V1}/stats": Case(200),
    f"002 GET {V1}/models": Case(200, ("models", "total"), wrapped=True),
    # No model is trained in this world: the seed's error answer, as a 404.
    f"002 POST {V1}/models/deploy": Case(404, ("success", "error"), request=_json({"version": 1})),
    "002 GET /metrics": Case(200, text="# TYPE apollonia_http_requests_total counter"),
    f"002 POST {V1}/auth/login": Case(
        200,
        TOKEN_FIELDS,
        who="none",
        session=True,
        request=_json({"email": "sam@example.com", "password": PASSWORD}),
    ),
    # --- 003 ------------------------------------------------------------------------
    f"003 POST {V1}/auth/register": Case(
        201,
        ("id", "email", "username", "access_token", "refresh_token"),
        who="none",
        request=_json({"email": "new@example.com", "username": "new", "password": PASSWORD}),
    ),
    # Seed 003's login answer: tokens, `token_type`, `expires_in` and the user.
    f"003 POST {V1}/auth/login": Case(
        200,
        (*TOKEN_FIELDS, "refresh_token", "user"),
        who="none",
        session=True,
        request=_json({"email": "sam@example.com", "password": PASSWORD}),
    ),
    f"003 POST {V1}/auth/logout": Case(
        204,
        who="session",
        session=True,
        request=lambda w: {"json": {"refresh_token": w.session["refresh_token"]}},
    ),
    f"003 POST {V1}/auth/refresh": Case(
        200,
        (*TOKEN_FIELDS, "refresh_token"),
        who="none",
        session=True,
        request=lambda w: {"json": {"refresh_token": w.session["refresh_token"]}},
    ),
    f"003 GET {V1}/users/me": Case(200, ("id", "email", "username"), who="user"),
    f"003 PATCH {V1}/users/me": Case(
        200,
        ("id", "email", "username"),
        who="session",
        session=True,
        request=_json({"username": "samuel"}),
    ),
    f"003 GET {V1}/users/me/usage": Case(
        200, ("period", "total_requests", "by_day", "by_route"), who="user"
    ),
    f"003 DELETE {V1}/users/me": Case(
        204, who="session", session=True, request=_json({"password": PASSWORD})
    ),
    f"003 GET {V1}/users": Case(200, LIST, ("id", "email", "username")),
    "003 GET /health": Case(200, ("status",), who="none"),
    "003 GET /health/ready": Case(200, who="none"),
    "003 GET /health/live": Case(200, who="none"),
    "003 GET /metrics": Case(200, text="# TYPE"),
    # --- 004 ------------------------------------------------------------------------
    "004 GET /health": Case(200, ("status", "version", "timestamp"), who="none"),
    "004 GET /metrics": Case(200, text="# HELP apollonia_http_requests_total"),
    f"004 POST {V1}/users": Case(
        201,
        ("id", "email", "name", "created_at"),
        request=_json({"email": "user@example.com", "name": "John Doe", "password": PASSWORD}),
    ),
    f"004 GET {V1}/users/{{id}}": Case(200, USER_004),
    f"004 PUT {V1}/users/{{id}}": Case(
        200, USER_004, request=_json({"name": "Jane Doe", "email": "jane@example.com"})
    ),
    f"004 DELETE {V1}/users/{{id}}": Case(204),
    f"004 POST {V1}/auth/login": Case(
        200,
        TOKEN_FIELDS,
        who="none",
        session=True,
        request=_json({"email": "sam@example.com", "password": PASSWORD}),
    ),
    # Seed 004 sends the refresh token as `Authorization: Bearer <refresh_token>`.
    f"004 POST {V1}/auth/refresh": Case(
        200,
        TOKEN_FIELDS,
        who="none",
        session=True,
        request=lambda w: {"headers": {"authorization": f"Bearer {w.session['refresh_token']}"}},
    ),
    f"004 POST {V1}/auth/logout": Case(204, who="session", session=True),
    f"004 GET {V1}/admin/system/status": Case(200, ("services", "database", "cache")),
    f"004 POST {V1}/admin/maintenance": Case(
        200,
        ("enabled", "message"),
        request=_json({"enabled": False, "message": "System maintenance in progress"}),
    ),
    "004 GET /api/docs": Case(200, text="swagger-ui"),
    "004 GET /api/redoc": Case(200, text="redoc"),
}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "library").mkdir()
    return dataclasses.replace(settings, scan_roots=(str(tmp_path / "library"),))


@pytest.fixture
async def world(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings, tmp_path: Path
) -> World:
    _, admin_token = await user_token(engine, settings, "admin")
    user_id, user_token_ = await user_token(engine, settings, "user")
    other, _ = await user_token(engine, settings, "user")
    admin = {"authorization": f"Bearer {admin_token}"}
    body = {
        "title": "Blue in Green",
        "artist": "Miles Davis",
        "album": "Kind of Blue",
        "genre": "Jazz",
        "year": 1959,
    }
    made = await client.post(f"{V1}/tracks", json=body, headers=admin)
    assert made.status_code == 201, made.text
    track = made.json()["id"]
    features = {"tempo": 120.0, "key": "A", "mode": "minor", "energy": 0.8}
    for method, path, payload in (
        ("PUT", "audio-features", features),
        ("POST", "metadata", {"key": "mood", "value": "calm"}),
        ("POST", "embeddings", {"type": "audio", "vector": VECTOR}),
    ):
        response = await client.request(
            method, f"{V1}/tracks/{track}/{path}", json=payload, headers=admin
        )
        assert response.status_code in (200, 201), response.text
    user = {"authorization": f"Bearer {user_token_}"}
    wav = af.write(tmp_path / "click.wav", af.click_track(100, seconds=2), 22050).read_bytes()
    return World(client, admin, user, user_id, other, track, settings.scan_roots[0], wav)


def _url(endpoint: Endpoint, w: World) -> str:
    path = endpoint.path.replace("{type}", "audio").replace("{key}", "mood")
    return path.replace("{id}", w.other_user if "/users/" in path else w.track)


def _headers(case: Case, w: World) -> dict[str, str]:
    if case.who == "admin":
        return w.admin
    if case.who == "user":
        return w.user
    if case.who == "session":
        return {"authorization": f"Bearer {w.session['access_token']}"}
    return {}


def _response_schema(openapi: dict[str, Any], endpoint: Endpoint, status: int) -> Any:
    """The route's documented answer for `status`, or None for a path outside the REST
    document (health, docs, metrics)."""
    path = endpoint.path.removeprefix(V1)
    operation = openapi["paths"].get(path, {}).get(endpoint.method.lower())
    if not endpoint.path.startswith(V1) or operation is None:
        return None
    answer = operation["responses"][str(status)]
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    return {**schema, "components": openapi["components"]} if schema else None


CONFORMANCE_CASES = [e for e in ENDPOINTS if e.test.startswith(seed_inventory.CONFORMANCE)]


@contextlib.contextmanager
def _a_worker_present(settings: Settings) -> Iterator[None]:
    """A job worker's entry in the graph's set of live workers, kept as a worker keeps it
    (workers/presence.py) but without consuming jobs: the full /health is 200 only with
    a worker, and what these cases check is its shape."""
    broker = broker_for(settings)
    presence = Presence(workers_key(settings.graph_name), settings.worker_heartbeat_ms)
    presence.after_worker_boot(broker, None)
    try:
        yield
    finally:
        presence.before_worker_shutdown(broker, None)
        broker.close()


@pytest.mark.parametrize("endpoint", CONFORMANCE_CASES, ids=lambda e: e.case)
async def test_seed_endpoint(world: World, endpoint: Endpoint, settings: Settings) -> None:
    case = CASES[endpoint.case]
    with _a_worker_present(settings) if endpoint.path == "/health" else contextlib.nullcontext():
        await _check_endpoint(world, endpoint, case)


async def _check_endpoint(world: World, endpoint: Endpoint, case: Case) -> None:
    if case.session:
        await world.sign_up()
    kwargs = case.request(world)
    headers = {**_headers(case, world), **kwargs.pop("headers", {})}
    response = await world.client.request(
        endpoint.method, _url(endpoint, world), headers=headers, **kwargs
    )
    assert response.status_code == case.status, response.text
    if case.status == 204:
        assert response.content == b""
        return
    if case.text:
        assert case.text in response.text
        return
    body = response.json()
    schema = _response_schema(
        (await world.client.get("/openapi.json")).json(), endpoint, case.status
    )
    if schema is not None:
        jsonschema_rs.validator_for(schema).validate(body)
    if case.wrapped:
        assert body["success"] is True and ISO.match(body["timestamp"]), body
        body = body["data"]
    missing = [f for f in case.fields if f not in body]
    assert not missing, f"{endpoint.case}: no {missing} in {body}"
    if case.items:
        assert body[case.items_key], f"{endpoint.case}: no {case.items_key} to check"
        for element in body[case.items_key]:
            item = element[case.item_key] if case.item_key else element
            absent = [f for f in case.items if f not in item]
            assert not absent, f"{endpoint.case}: no {absent} in {item}"


def test_every_seed_endpoint_has_a_conformance_test() -> None:
    missing = [e.case for e in ENDPOINTS if not seed_inventory.has_test(e)]
    assert not missing, f"endpoints without a conformance test: {missing}"
    # Every case of the table is an inventoried endpoint, and the other way round.
    assert set(CASES) == {e.case for e in CONFORMANCE_CASES}
    # Every inventoried REST path under /api/v1 is a route of ours.
    served = {(r.method, f"{V1}{r.path}") for r in ROUTES}
    rest = {
        (e.method, e.path) for e in ENDPOINTS if e.path.startswith(V1) and e.path != f"{V1}/health"
    }
    assert rest <= served, sorted(rest - served)
    counts = seed_inventory.counts()
    assert all(row["rest_tested"] == row["rest"] for row in counts.values())
    assert all(row["websocket_tested"] == row["websocket"] for row in counts.values())
    assert all(row["messages_tested"] == row["messages"] for row in counts.values())
    assert sum(row["messages"] for row in counts.values()) == 9
