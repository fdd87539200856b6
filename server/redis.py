"""The Redis client: the embedded server's socket by default, or REDIS_URL."""

import redis.asyncio as aioredis


def connect_redis(url: str, max_connections: int = 64, wait: float = 5.0) -> aioredis.Redis:
    """A pooled client with decoded responses (unix://, redis://, rediss://). When every
    connection is busy, a caller waits up to `wait` seconds for one instead of failing."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url, decode_responses=True, max_connections=max_connections, timeout=wait
    )
    return aioredis.Redis(connection_pool=pool)
