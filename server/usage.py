"""Per-user usage figures (seed 003's `GET /users/me/usage`), counted in Redis.

Prometheus counts requests by route for the whole process, and its labels must stay
bounded, so users cannot be a label there. Here each signed-in request adds one to a
Redis hash per user and UTC day, keyed by the same route template the metrics use
(`/api/v1/tracks/{id}`, never the raw URL), so every API process shares the figures.
A day's hash expires after `RETENTION_DAYS`, which outlives the current period (the
calendar month, UTC).

Counting costs no round trip per request: each process adds up its counts in memory and
writes them in one pipeline at most every `FLUSH_SECONDS`, before it reads figures, and
at shutdown. So another process's requests show within about a second, and a process
that dies loses at most its last second of counts. If Redis is down, those counts are
dropped with a warning and nothing fails.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("apollonia.usage")

RETENTION_DAYS = 62
FLUSH_SECONDS = 1.0
MAX_PENDING = 10_000  # (key, route) pairs held before a flush is forced


def usage_key(graph_name: str, user_id: str, day: dt.date) -> str:
    return f"apollonia:{graph_name}:usage:{user_id}:{day.isoformat()}"


def current_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month holding `today`, as its first and last day."""
    start = today.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following - dt.timedelta(days=1)


class UsageCounter:
    """Counts each user's requests by day and route, and reads them back."""

    def __init__(self, redis: Callable[[], Redis | None], graph_name: Callable[[], str]) -> None:
        self._redis = redis
        self._graph_name = graph_name
        self._pending: dict[tuple[str, str], int] = {}
        self._flushing: asyncio.Task[None] | None = None

    async def record(self, user_id: str, route: str, when: dt.datetime | None = None) -> None:
        """Add one request by `user_id` to `route` on the day of `when` (now by default);
        written to Redis with the others within `FLUSH_SECONDS`."""
        day = (when or dt.datetime.now(dt.UTC)).date()
        pair = (usage_key(self._graph_name(), user_id, day), route)
        self._pending[pair] = self._pending.get(pair, 0) + 1
        if len(self._pending) >= MAX_PENDING:
            await self.flush()
        elif self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Write the counts held so far in one pipeline."""
        pending, self._pending = self._pending, {}
        redis = self._redis()
        if not pending or redis is None:
            return
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for (key, route), n in pending.items():
                    pipe.hincrby(key, route, n)
                for key in {key for key, _ in pending}:
                    pipe.expire(key, RETENTION_DAYS * 86400)
                await pipe.execute()
        except (RedisError, OSError) as e:
            log.warning("%d usage counts not written: %s", len(pending), type(e).__name__)

    async def close(self) -> None:
        """Stop the timer and write what is held (at shutdown)."""
        if self._flushing is not None and not self._flushing.done():
            self._flushing.cancel()
        await self.flush()

    async def figures(self, user_id: str, today: dt.date | None = None) -> dict[str, Any]:
        """The current period's figures: `{period: {start, end}, total_requests,
        by_day: [{date, requests}], by_route: [{route, requests}]}`, days oldest first
        (every day of the period so far, zeros included), routes busiest first."""
        await self.flush()  # this process's latest counts first
        today = today or dt.datetime.now(dt.UTC).date()
        start, end = current_period(today)
        days = [start + dt.timedelta(days=n) for n in range((today - start).days + 1)]
        redis = self._redis()
        hashes: list[dict[str, str]] = [{} for _ in days]
        if redis is not None:
            async with redis.pipeline(transaction=False) as pipe:
                for day in days:
                    pipe.hgetall(usage_key(self._graph_name(), user_id, day))
                hashes = await pipe.execute()
        by_route: dict[str, int] = {}
        by_day = []
        for day, counts in zip(days, hashes, strict=True):
            requests = 0
            for route, n in counts.items():
                by_route[route] = by_route.get(route, 0) + int(n)
                requests += int(n)
            by_day.append({"date": day.isoformat(), "requests": requests})
        return {
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "total_requests": sum(d["requests"] for d in by_day),
            "by_day": by_day,
            "by_route": [
                {"route": route, "requests": n}
                for route, n in sorted(by_route.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        }
