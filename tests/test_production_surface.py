"""What a production server shows to strangers (issue 11, finding 9): `/metrics` only
with its token, `/health` reduced to its status, security headers on every response,
the error envelope for odd paths, `Allow` on 405."""

import httpx
import pytest

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.explorer import CSP as EXPLORER_CSP
from server.settings import Settings
from tests.support import LiveServer, make_settings, user_token

METRICS_TOKEN = "metrics-" + "m" * 32


@pytest.fixture
def settings(falkordb_server: EmbeddedServer, engine: GraphEngine) -> Settings:
    """Production settings, with the test's own job-queue namespace (its graph's name):
    in the shared one, the app of an earlier test that enqueued a job could pass for a
    worker between two /health calls, and the status change under this test."""
    return make_settings(
        falkordb_server,
        graph_name=getattr(engine, "graph_name", "apollonia"),
        env="production",
        explorer=False,
        introspection=False,
        allow_anonymous_read=True,
        metrics_token=METRICS_TOKEN,
    )


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_metrics_need_the_token_or_an_admin(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "python" not in anonymous.text.lower()
    wrong = await client.get("/metrics", headers=_bearer("metrics-" + "x" * 32))
    assert wrong.status_code == 401
    _, user = await user_token(engine, settings, "user")
    assert (await client.get("/metrics", headers=_bearer(user))).status_code == 401
    scraped = await client.get("/metrics", headers=_bearer(METRICS_TOKEN))
    assert scraped.status_code == 200
    assert "apollonia_http_requests_total" in scraped.text
    _, admin = await user_token(engine, settings, "admin")
    assert (await client.get("/metrics", headers=_bearer(admin))).status_code == 200


async def test_health_is_only_a_status_for_strangers(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    anonymous = await client.get("/health")
    assert set(anonymous.json()) == {"status"}
    assert anonymous.json()["status"] in ("ok", "degraded")
    full = await client.get("/health", headers=_bearer(METRICS_TOKEN))
    assert full.status_code == anonymous.status_code
    assert {"version", "uptime", "components"} <= set(full.json())
    _, admin = await user_token(engine, settings, "admin")
    assert "components" in (await client.get("/health", headers=_bearer(admin))).json()
    # The metrics token is no credential anywhere else.
    elsewhere = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers=_bearer(METRICS_TOKEN)
    )
    assert elsewhere.status_code == 401


async def test_development_without_a_token_keeps_both_open(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> None:
    server = LiveServer(engine, make_settings(falkordb_server))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            metrics = await http.get("/metrics")
            health = await http.get("/health")
    finally:
        await server.stop()
    assert metrics.status_code == 200
    assert "components" in health.json()
    assert "strict-transport-security" not in health.headers
    # uvicorn names itself in `Server` unless told not to: it is not.
    assert "server" not in health.headers and "server" not in metrics.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/health/ready"),
        ("POST", "/graphql"),
        ("GET", "/api/v1/tracks"),
        ("GET", "/api/openapi.json"),
        ("GET", "/api/docs"),
        ("GET", "/api/redoc"),
        ("GET", "/explore"),
        ("GET", "/nowhere"),
        ("GET", "/metrics"),
        ("DELETE", "/health"),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(
        method, path, json={"query": "{ __typename }"} if method == "POST" else None
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["strict-transport-security"].startswith("max-age=")
    csp = response.headers["content-security-policy"]
    assert "default-src" in csp and "frame-ancestors 'none'" in csp
    if response.headers.get("content-type", "").startswith("text/html"):
        # The pages load their own scripts only: no CDN, no inline script but by hash.
        assert "script-src 'self'" in csp and "unsafe-inline' " not in csp.split("script-src")[1]
    else:
        assert csp.startswith("default-src 'none'")


async def test_the_explorer_page_gets_a_policy_that_lets_it_start(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> None:
    server = LiveServer(engine, make_settings(falkordb_server))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            page = await http.get("/graphql", headers={"accept": "text/html"})
    finally:
        await server.stop()
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith(EXPLORER_CSP)


@pytest.mark.parametrize("id_", ["trk_%0A", "trk_%0Aabc", "%0D%0A", "trk_%00", "trk_%1B[31m"])
async def test_path_ids_with_control_characters_get_the_envelope(
    client: httpx.AsyncClient, id_: str
) -> None:
    response = await client.get(f"/api/v1/tracks/{id_}")
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] in ("NOT_FOUND", "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/health"),
        ("POST", "/health/ready"),
        ("PUT", "/graphql"),
        ("GET", "/graphql"),
        ("DELETE", "/api/openapi.json"),
        ("PATCH", "/api/v1/tracks"),
        ("POST", "/metrics"),
    ],
)
async def test_405_names_the_allowed_methods(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405, response.text
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed and method not in allowed
