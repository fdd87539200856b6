"""The Redis client: the embedded server's socket by default, or REDIS_URL."""

import redis.asyncio as aioredis


def connect_redis(url: str) -> aioredis.Redis:
    """A pooled client with decoded responses (unix://, redis://, rediss://)."""
    return aioredis.Redis.from_url(url, decode_responses=True, max_connections=64)
