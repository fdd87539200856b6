"""Production mode: no explorer, no introspection, no suggestions."""

import httpx
import pytest

from graph.embedded import EmbeddedServer
from server.settings import Settings
from tests.support import make_settings
from tests.test_http import INTROSPECTION


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(
        falkordb_server,
        env="production",
        explorer=False,
        introspection=False,
        allow_anonymous_read=True,
    )


async def test_production_hides_explorer_and_introspection(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 405
    body = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
    assert "data" not in body or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "introspection" in body["errors"][0]["message"].lower()


async def test_production_makes_no_suggestions(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ trakcs { totalCount } }"})).json()
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "Did you mean" not in body["errors"][0]["message"]


def test_production_refuses_to_start_without_a_server_key(
    falkordb_server: EmbeddedServer,
) -> None:
    from server.app import create_app

    with pytest.raises(RuntimeError, match="APOLLONIA_SERVER_KEY"):
        create_app(make_settings(falkordb_server, env="production", server_key=""))
    create_app(make_settings(falkordb_server, env="production"))  # with a key it builds
