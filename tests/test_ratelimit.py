"""Rate limits in Redis: per user or client IP, per budget, shared by every process."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.app import create_app
from server.ratelimit import lease_size
from server.settings import Settings
from tests.support import LiveServer, make_settings, user_token

QUERY = "{ __typename }"
CREATE = "mutation Create($name: String!) { createArtist(input: {name: $name}) { id } }"
REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { user { id } } }
"""
LOGIN = """
mutation Login($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { user { username } }
}
"""
TWO_LOGINS = """
mutation Two($login: String!, $password: String!) {
  a: login(input: {login: $login, password: $password}) { expiresIn }
  b: login(input: {login: $login, password: $password}) { expiresIn }
}
"""
PASSWORD = "correct horse battery"


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(
        falkordb_server,
        rate_limit_query="100/minute",
        rate_limit_mutation="20/minute",
        rate_limit_login="3/minute",
        trusted_proxies=("127.0.0.1",),
    )


async def post(
    client: httpx.AsyncClient,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    ip: str | None = None,
) -> httpx.Response:
    """POST /graphql as a user (`token`), or anonymously from `ip` (these tests' server
    trusts X-Forwarded-For from 127.0.0.1, as behind a proxy)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if ip:
        headers["x-forwarded-for"] = ip
    return await client.post(
        "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
    )


def code_of(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


def assert_limited(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == "0"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])


async def rate_limited_total(client: httpx.AsyncClient, budget: str) -> float:
    text = (await client.get("/metrics")).text
    prefix = f'apollonia_rate_limit_rejections_total{{budget="{budget}"}} '
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


async def test_the_101st_query_in_a_minute_gets_429(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    _, token = await user_token(engine, settings, "user")
    refused_before = await rate_limited_total(client, "query")
    started = time.time()
    for n in range(100):
        response = await post(client, QUERY, token=token)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "100"
        assert response.headers["x-ratelimit-remaining"] == str(99 - n)
        assert started < int(response.headers["x-ratelimit-reset"]) <= started + 61
    refused = await post(client, QUERY, token=token)
    assert_limited(refused, 100)
    assert "data" not in refused.json()
    assert await rate_limited_total(client, "query") == refused_before + 1


async def test_mutations_have_their_own_budget(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    _, token = await user_token(engine, settings, "admin")
    for n in range(20):
        response = await post(client, CREATE, {"name": f"Artist {n}"}, token=token)
        assert code_of(response) is None
        assert response.headers["x-ratelimit-remaining"] == str(19 - n)
    refused = await post(client, CREATE, {"name": "One too many"}, token=token)
    assert_limited(refused, 20)
    assert await engine.read("t", "MATCH (a:Artist {name: 'One too many'}) RETURN a") == []
    query = await post(client, QUERY, token=token)
    assert query.status_code == 200
    assert query.headers["x-ratelimit-remaining"] == "99"


async def test_users_and_anonymous_addresses_have_budgets_of_their_own(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    _, token = await user_token(engine, settings, "user")
    callers: list[dict[str, Any]] = [
        {"ip": "10.1.0.1"},
        {"ip": "10.1.0.1"},
        {"ip": "10.1.0.2"},
        {"ip": "10.1.0.1", "token": token},
    ]
    remaining = [
        (await post(client, QUERY, **caller)).headers["x-ratelimit-remaining"] for caller in callers
    ]
    assert remaining == ["99", "98", "99", "99"]


@contextlib.asynccontextmanager
async def two_servers(
    engine: GraphEngine, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two API servers on the same graph and Redis, and a client of each."""
    servers = [LiveServer(engine, settings), LiveServer(engine, settings)]
    for server in servers:
        await server.start()
    try:
        async with (
            httpx.AsyncClient(base_url=servers[0].url) as one,
            httpx.AsyncClient(base_url=servers[1].url) as two,
        ):
            yield one, two
    finally:
        for server in servers:
            await server.stop()


async def test_two_servers_on_one_redis_share_the_budget(
    engine: GraphEngine, settings: Settings
) -> None:
    # 100 queries a minute: each process draws 2 at a time from Redis (lease_size), so
    # the remaining count a server reports may be one unit off: the other holds one,
    # or drew two since this one last asked Redis.
    assert lease_size(100) == 2
    _, token = await user_token(engine, settings, "user")
    async with two_servers(engine, settings) as (one, two):
        for n in range(100):
            response = await post((one, two)[n % 2], QUERY, token=token)
            assert code_of(response) is None
            assert abs(int(response.headers["x-ratelimit-remaining"]) - (99 - n)) <= 1
        assert_limited(await post(one, QUERY, token=token), 100)
        assert_limited(await post(two, QUERY, token=token), 100)


async def test_leases_never_let_processes_exceed_the_budget_together(
    engine: GraphEngine, settings: Settings
) -> None:
    """One server spends a single query and holds the second unit of its lease; the
    other can then spend only the 98 units left in Redis, and the first its one."""
    _, token = await user_token(engine, settings, "user")
    async with two_servers(engine, settings) as (one, two):
        assert code_of(await post(one, QUERY, token=token)) is None
        answers = [await post(two, QUERY, token=token) for _ in range(100)]
        allowed = [r for r in answers if r.status_code == 200]
        assert len(allowed) == 98
        assert all(r.status_code == 429 for r in answers[98:])
        last = await post(one, QUERY, token=token)
        assert code_of(last) is None  # the unit it held
        # Its remaining count is as of its last draw from Redis (98): the header is a
        # hint across processes; the budget itself is exact.
        assert last.headers["x-ratelimit-remaining"] == "98"
        assert_limited(await post(one, QUERY, token=token), 100)


async def test_another_prefix_counts_apart(engine: GraphEngine, settings: Settings) -> None:
    _, token = await user_token(engine, settings, "user")
    servers = [LiveServer(engine, settings), LiveServer(engine, settings)]
    servers[1].server.config.app = create_app(
        settings, engine=engine, rate_limit_prefix=f"test:{uuid.uuid4().hex}"
    )
    for server in servers:
        await server.start()
    try:
        async with (
            httpx.AsyncClient(base_url=servers[0].url) as one,
            httpx.AsyncClient(base_url=servers[1].url) as two,
        ):
            await post(one, QUERY, token=token)
            response = await post(two, QUERY, token=token)
            assert response.headers["x-ratelimit-remaining"] == "99"
    finally:
        for server in servers:
            await server.stop()


async def register(client: httpx.AsyncClient, username: str, ip: str) -> None:
    account = {"email": f"{username}@example.com", "username": username, "password": PASSWORD}
    response = await post(client, REGISTER, {"input": account}, ip=ip)
    assert code_of(response) is None, response.text


async def test_login_is_limited_per_account_from_any_address(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "Ada", ip="10.2.0.1")
    await register(client, "Grace", ip="10.2.0.2")
    refused_before = await rate_limited_total(client, "login_account")
    # One login, spelled three ways, from three addresses.
    for n, login in enumerate(("Ada", "ADA", " ada ")):
        wrong = await post(client, LOGIN, {"login": login, "password": "guess"}, ip=f"10.2.1.{n}")
        assert code_of(wrong) == "UNAUTHENTICATED"
    refused = await post(client, LOGIN, {"login": "ada", "password": PASSWORD}, ip="10.2.1.9")
    assert refused.status_code == 429
    assert code_of(refused) == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["data"] is None
    assert await rate_limited_total(client, "login_account") == refused_before + 1
    other = await post(client, LOGIN, {"login": "grace", "password": PASSWORD}, ip="10.2.1.9")
    assert other.json() == {"data": {"login": {"user": {"username": "Grace"}}}}


async def test_login_is_limited_per_address(client: httpx.AsyncClient) -> None:
    attempt = {"password": "guess"}
    first = await post(client, TWO_LOGINS, {"login": "nobody1"} | attempt, ip="10.3.0.1")
    assert code_of(first) == "UNAUTHENTICATED"
    assert first.headers["x-ratelimit-limit"] == "3"
    assert first.headers["x-ratelimit-remaining"] == "1"  # two attempts in one request
    second = await post(client, LOGIN, {"login": "nobody2"} | attempt, ip="10.3.0.1")
    assert code_of(second) == "UNAUTHENTICATED"
    assert_limited(await post(client, LOGIN, {"login": "nobody3"} | attempt, ip="10.3.0.1"), 3)
    elsewhere = await post(client, LOGIN, {"login": "nobody3"} | attempt, ip="10.3.0.2")
    assert code_of(elsewhere) == "UNAUTHENTICATED"


async def test_without_redis_requests_go_through(
    engine: GraphEngine, falkordb_server: EmbeddedServer, tmp_path: Any
) -> None:
    settings = make_settings(falkordb_server, redis_url=f"unix://{tmp_path}/no-redis.sock")
    server = LiveServer(engine, settings)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await post(client, QUERY)
    finally:
        await server.stop()
    assert response.json() == {"data": {"__typename": "Query"}}
    assert "x-ratelimit-remaining" not in response.headers


async def test_concurrent_requests_wait_for_one_draw_of_a_lease(
    falkordb_server: EmbeddedServer,
) -> None:
    """32 requests arriving at once with no lease make one round trip to Redis, not 32:
    the count in Redis is one lease (100 units at 6,000 a minute), and all 32 pass."""
    from server.ratelimit import QUERY, RateLimiter, RedisPyStorage, limits_uri

    prefix = f"test:{uuid.uuid4().hex}"
    storage = RedisPyStorage(
        limits_uri(falkordb_server.redis_url), implementation="redispy", key_prefix=prefix
    )
    limiter = RateLimiter(storage, "6000/minute", "20/minute", "3/minute")
    verdicts = await asyncio.gather(*(limiter.hit(QUERY, "ip:10.0.0.1") for _ in range(32)))
    assert all(v is not None and v.allowed for v in verdicts)
    key = limiter.items[QUERY].key_for(QUERY, "ip:10.0.0.1")
    assert await storage.get(key) == lease_size(6000) == 100
    # The lease's last units, then the next draw: one more lease in Redis.
    more = await asyncio.gather(*(limiter.hit(QUERY, "ip:10.0.0.1") for _ in range(70)))
    assert all(v is not None and v.allowed for v in more)
    assert await storage.get(key) == 200
