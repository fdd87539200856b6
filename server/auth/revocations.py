"""Revoked access tokens: durable in the graph, cached in Redis for every API process.

Each request asks Redis for its token's jti and for a marker saying the cache is
loaded, in one round trip. A Redis that lost its data (restarted without persistence)
has no marker: the cache is refilled from the graph before answering. If Redis cannot
be reached, the graph answers instead.
"""

import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from graph import users
from graph.engine import GraphEngine

log = logging.getLogger(__name__)

PREFIX = "apollonia:revoked:"
LOADED = "apollonia:revoked:loaded"


class Revocations:
    def __init__(self, engine: GraphEngine, redis: aioredis.Redis) -> None:
        self.engine = engine
        self.redis = redis

    async def revoke(self, jti: str, expires_at: int) -> None:
        """Revoke an access token (expires_at in epoch seconds) on every process."""
        await users.revoke_jti(self.engine, jti, expires_at * 1000)
        ttl_ms = max(1, expires_at * 1000 - int(time.time() * 1000))
        try:
            await self.redis.set(PREFIX + jti, "1", px=ttl_ms)
        except RedisError as e:
            log.warning("revocation cache not updated (%s); the graph still has it", e)

    async def _reload(self) -> None:
        now = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            for row in await users.revoked_jtis(self.engine):
                pipe.set(PREFIX + row["jti"], "1", px=max(1, row["expires_at"] - now))
            pipe.set(LOADED, "1")
            await pipe.execute()

    async def is_revoked(self, jti: str) -> bool:
        try:
            loaded, revoked = await self.redis.mget(LOADED, PREFIX + jti)
            if loaded is None:
                await self._reload()
                revoked = await self.redis.get(PREFIX + jti)
            return revoked is not None
        except RedisError as e:
            log.warning("revocation cache unavailable (%s); asking the graph", e)
            return await users.is_revoked(self.engine, jti)
