"""`GET`/`POST /graphql` go straight to the GraphQL app, past Starlette's exception
middlewares and router (server/app.py, `_App`): the same layers in front, the same
answers, and an exception escaping the GraphQL app still a bare 500, over a real server."""

import re
from typing import Any

import httpx

from server.settings import Settings
from tests.support.live import LiveServer
from tests.test_metrics import sample

QUERY = "{ genres { name } }"
REQUESTS = "apollonia_http_requests_total"


async def test_graphql_answers_with_every_layer_in_front(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        before = (await http.get("/metrics")).text
        posted = await http.post("/graphql", json={"query": QUERY})
        got = await http.get("/graphql", params={"query": QUERY})
        for answer in (posted, got):
            assert answer.status_code == 200
            assert answer.json() == {"data": {"genres": []}}
            assert re.fullmatch("[0-9a-f]{32}", answer.headers["x-request-id"])
            assert answer.headers["server-timing"].startswith("app;dur=")
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        after = (await http.get("/metrics")).text
        for method in ("POST", "GET"):
            labels = {"route": "/graphql", "method": method, "status": "200"}
            counted = sample(after, REQUESTS, **labels) - sample(before, REQUESTS, **labels)
            assert counted == 1, method
        # A bad credential is refused by the authentication in front, as on every route.
        refused = await http.post(
            "/graphql", json={"query": QUERY}, headers={"authorization": "Bearer nonsense"}
        )
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # The other methods take Starlette's way: OPTIONS answered, PUT refused.
        assert (await http.options("/graphql")).status_code in (200, 204, 405)
        assert (await http.put("/graphql", json={"query": QUERY})).status_code == 405


async def test_an_exception_escaping_the_graphql_app_is_a_bare_500(
    live: LiveServer, settings: Settings
) -> None:
    state: dict[str, Any] = live.server.config.app.state.components
    working = state["graphql"]

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("secret detail of a failure")

    state["graphql"] = broken
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            for answer in (
                await http.post("/graphql", json={"query": QUERY}),
                await http.get("/graphql", params={"query": QUERY}),
            ):
                assert answer.status_code == 500
                assert answer.text == "Internal Server Error"
                assert "secret" not in answer.text and "Traceback" not in answer.text
            state["graphql"] = working
            # The server goes on serving.
            again = await http.post("/graphql", json={"query": QUERY})
            assert again.json() == {"data": {"genres": []}}
    finally:
        state["graphql"] = working
