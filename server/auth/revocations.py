"""Revoked access tokens: durable in the graph, cached in Redis for every API process.

Each request asks Redis for its token's jti and for a marker saying the cache is
loaded, in one round trip. A Redis that lost its data (restarted without persistence)
has no marker: the cache is refilled from the graph before answering. If Redis cannot
be reached, the graph answers instead.

A deleted user's access tokens are refused as a whole, by one entry for the user
(`user_entry`) that every token of theirs is checked against along with its own jti;
a session's (a refresh-token family's) likewise, by one entry for the family
(`family_entry`), when it ends by replay, logout or a password change.
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


def user_entry(user_id: str) -> str:
    """The revocation entry that stands for every access token of a user. Real jtis
    are hex UUIDs, so it cannot clash with one."""
    return f"user:{user_id}"


def family_entry(family: str) -> str:
    """The revocation entry that stands for every access token of one session."""
    return f"fam:{family}"


class Revocations:
    def __init__(self, engine: GraphEngine, redis: aioredis.Redis) -> None:
        self.engine = engine
        self.redis = redis

    async def revoke(self, jti: str, expires_at: int) -> None:
        """Revoke an access token (expires_at in epoch seconds) on every process."""
        await users.revoke_jti(self.engine, jti, expires_at * 1000)
        await self.remember(jti, expires_at)

    async def revoke_families(self, families: list[str], expires_at: int) -> None:
        """Revoke every access token of the sessions `families` (expires_at in epoch
        seconds: when the last of them expires), durably and on every process."""
        if not families:
            return
        entries = [family_entry(f) for f in families]
        await users.revoke_jtis(self.engine, entries, expires_at * 1000)
        for entry in entries:
            await self.remember(entry, expires_at)

    async def remember(self, jti: str, expires_at: int) -> None:
        """Cache a revocation the graph holds already (expires_at in epoch seconds)."""
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

    async def is_revoked(
        self, jti: str, user_id: str | None = None, family: str | None = None
    ) -> bool:
        """Whether the access token `jti` of `user_id` is revoked: alone, with its user,
        or with its session `family`."""
        entries = [jti] if user_id is None else [jti, user_entry(user_id)]
        if family:
            entries.append(family_entry(family))
        keys = [PREFIX + e for e in entries]
        try:
            loaded, *revoked = await self.redis.mget(LOADED, *keys)
            if loaded is None:
                await self._reload()
                revoked = await self.redis.mget(*keys)
            return any(r is not None for r in revoked)
        except RedisError as e:
            log.warning("revocation cache unavailable (%s); asking the graph", e)
            return await users.is_revoked(self.engine, entries)
