"""Seed 003's `GET /api/v1/users/me/usage`: each user's requests in the current period,
by day and by route template, counted in Redis by every API process."""

import asyncio
import datetime as dt
from typing import Any

import httpx
import redis.asyncio as aioredis

from graph.engine import GraphEngine
from graph.ids import new_id
from server.settings import Settings
from server.usage import (
    FLUSH_SECONDS,
    RETENTION_DAYS,
    UsageCounter,
    current_period,
    usage_key,
)
from tests.support import user_token

V1 = "/api/v1"
USAGE_FIELDS = {"period", "total_requests", "by_day", "by_route"}


async def _headers(engine: GraphEngine, settings: Settings) -> dict[str, str]:
    _, token = await user_token(engine, settings, "user")
    return {"authorization": f"Bearer {token}"}


def _usage(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USAGE_FIELDS
    return body


async def test_usage_counts_the_callers_requests_by_day_and_route(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    alice, bob = await _headers(engine, settings), await _headers(engine, settings)
    for _ in range(3):
        assert (await client.get(f"{V1}/tracks", headers=alice)).status_code == 200
    missing = await client.get(f"{V1}/tracks/{new_id('Track')}", headers=alice)
    assert missing.status_code == 404
    await client.get(f"{V1}/users/me", headers=bob)

    first = _usage(await client.get(f"{V1}/users/me/usage", headers=alice))
    today = dt.datetime.now(dt.UTC).date()
    start, end = current_period(today)
    assert first["period"] == {"start": start.isoformat(), "end": end.isoformat()}
    # Every day of the period so far, oldest first; the requests fall on today.
    assert first["by_day"][0]["date"] == start.isoformat()
    assert first["by_day"][-1] == {"date": today.isoformat(), "requests": 4}
    assert first["total_requests"] == 4
    # Route templates, never raw URLs (so no track id), busiest first; bob's are not here.
    assert first["by_route"] == [
        {"route": f"{V1}/tracks", "requests": 3},
        {"route": f"{V1}/tracks/{{id}}", "requests": 1},
    ]
    # The usage request itself counts, once answered.
    second = _usage(await client.get(f"{V1}/users/me/usage", headers=alice))
    assert second["total_requests"] == 5
    assert {"route": f"{V1}/users/me/usage", "requests": 1} in second["by_route"]
    # GraphQL answers the same figures.
    graphql = await client.post(
        "/graphql",
        json={"query": "{ usage { totalRequests byRoute { route requests } } }"},
        headers=bob,
    )
    assert graphql.json()["data"]["usage"]["totalRequests"] == 1
    assert graphql.json()["data"]["usage"]["byRoute"] == [
        {"route": f"{V1}/users/me", "requests": 1}
    ]


async def test_usage_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V1}/users/me/usage")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    unknown = await client.get(f"{V1}/users/me/usage", params={"since": "2026-01-01"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_only_the_current_period_is_reported(settings: Settings) -> None:
    redis = aioredis.Redis.from_url(settings.resolved_redis_url, decode_responses=True)
    counter = UsageCounter(lambda: redis, lambda: "usage-period-test")
    try:
        may = dt.datetime(2026, 5, 31, 23, 59, tzinfo=dt.UTC)
        june = dt.datetime(2026, 6, 2, 8, 0, tzinfo=dt.UTC)
        await counter.record("usr_period", "/api/v1/tracks", may)
        await counter.record("usr_period", "/api/v1/tracks", june)
        await counter.record("usr_period", "/graphql", june)
        figures = await counter.figures("usr_period", today=dt.date(2026, 6, 3))
    finally:
        await redis.aclose()
    assert figures["period"] == {"start": "2026-06-01", "end": "2026-06-30"}
    assert figures["by_day"] == [
        {"date": "2026-06-01", "requests": 0},
        {"date": "2026-06-02", "requests": 2},
        {"date": "2026-06-03", "requests": 0},
    ]
    assert figures["total_requests"] == 2
    assert figures["by_route"] == [
        {"route": "/api/v1/tracks", "requests": 1},
        {"route": "/graphql", "requests": 1},
    ]


async def test_counts_are_written_together_within_a_second(settings: Settings) -> None:
    """No round trip per request: counts are held, then written in one pipeline by a
    timer (and before figures are read, and at shutdown)."""
    redis = aioredis.Redis.from_url(settings.resolved_redis_url, decode_responses=True)
    counter = UsageCounter(lambda: redis, lambda: "usage-flush-test")
    now = dt.datetime.now(dt.UTC)
    key = usage_key("usage-flush-test", "usr_flush", now.date())
    try:
        await redis.delete(key)
        for _ in range(3):
            await counter.record("usr_flush", "/graphql", now)
        assert await redis.hgetall(key) == {}  # held, not written per request
        deadline = asyncio.get_running_loop().time() + 5 * FLUSH_SECONDS
        while not await redis.hgetall(key):
            assert asyncio.get_running_loop().time() < deadline, "never flushed"
            await asyncio.sleep(0.05)
        assert await redis.hgetall(key) == {"/graphql": "3"}
        assert 0 < await redis.ttl(key) <= RETENTION_DAYS * 86400
        await counter.record("usr_flush", "/graphql", now)
        await counter.close()  # shutdown writes what is held
        assert await redis.hgetall(key) == {"/graphql": "4"}
    finally:
        await redis.delete(key)
        await redis.aclose()
