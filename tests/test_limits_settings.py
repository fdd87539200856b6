"""The limits come from the settings, and production errors keep their figures."""

import httpx
import pytest

from graph.embedded import EmbeddedServer
from server.settings import Settings
from tests.support import make_settings

DEPTH_4 = "{ tracks(first: 1) { edges { node { album { title } } } } }"
THREE_ALIASES = "{ a: genres { name } b: genres { name } c: genres { name } }"
COST_40 = "{ a: tracks(first: 20) { totalCount } b: artists(first: 20) { totalCount } }"
LONG = "{ genres { " + "name " * 60 + "} }"


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(
        falkordb_server,
        env="production",
        explorer=False,
        introspection=False,
        allow_anonymous_read=True,
        max_depth=3,
        max_aliases=2,
        max_tokens=50,
        max_cost=30,
    )


@pytest.mark.parametrize(
    ("document", "limit", "measured", "allowed"),
    [
        (DEPTH_4, "depth", 4, 3),
        (THREE_ALIASES, "aliases", 3, 2),
        (LONG, "tokens", 65, 50),
        (COST_40, "cost", 40, 30),
    ],
)
async def test_each_limit_follows_its_setting(
    client: httpx.AsyncClient, document: str, limit: str, measured: int, allowed: int
) -> None:
    response = await client.post("/graphql", json={"query": document})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": limit,
        "measured": measured,
        "allowed": allowed,
    }
    assert str(measured) in error["message"] and str(allowed) in error["message"]


async def test_within_the_limits_runs(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ a: genres { name } }"})
    assert response.json() == {"data": {"a": []}}
