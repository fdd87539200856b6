"""What admins run on the server itself: maintenance mode and the system status.

Maintenance mode is a flag in Redis, so that every API process sharing the graph sees
it at once. While it is on, every mutation (GraphQL over HTTP or WebSocket, and so every
REST write) is refused with MAINTENANCE before its resolver runs; reads keep working.
The few mutations an admin needs to get in and turn it off stay open.
"""

import logging
import time
from inspect import isawaitable
from typing import Any

import orjson
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, default_field_resolver
from redis.asyncio import Redis
from redis.exceptions import RedisError

from graph import jobs as job_records
from music.errors import DomainError
from music.text import check_text
from server.health import DOWN, UP, Health, version
from server.settings import Settings

log = logging.getLogger("apollonia.admin")

# Mutations that work during maintenance: signing in and out, and ending maintenance.
OPEN_DURING_MAINTENANCE = frozenset({"maintenance", "login", "refreshToken", "logout"})
DEFAULT_MESSAGE = "The service is under maintenance; writes are refused for now."


class MaintenanceError(DomainError):
    code = "MAINTENANCE"


def maintenance_key(graph_name: str) -> str:
    return f"apollonia:{graph_name}:maintenance"


class Admin:
    """Maintenance mode and the status report, over the app's components (the engine,
    Redis and the job queue, read at each call: they are made at start-up)."""

    def __init__(self, settings: Settings, components: dict[str, Any], redis: Redis) -> None:
        self.settings = settings
        self.components = components
        self.redis = redis
        self.health = Health(settings, {**components, "redis": redis})
        self.started = time.time()

    @property
    def _key(self) -> str:
        graph_name = getattr(self.components.get("engine"), "graph_name", None)
        return maintenance_key(graph_name or self.settings.graph_name)

    async def maintenance(self) -> dict[str, Any]:
        """`{enabled, message, since}`; off when nothing is stored."""
        raw = await self.redis.get(self._key)
        if not raw:
            return {"enabled": False, "message": None, "since": None}
        state: dict[str, Any] = orjson.loads(raw)
        return state

    async def set_maintenance(self, enabled: bool, message: str | None) -> dict[str, Any]:
        if not enabled:
            await self.redis.delete(self._key)
            return {"enabled": False, "message": None, "since": None}
        state = {
            "enabled": True,
            "message": check_text((message or "").strip()[:500], "message", multiline=True)
            or DEFAULT_MESSAGE,
            "since": int(time.time() * 1000),
        }
        await self.redis.set(self._key, orjson.dumps(state))
        return state

    async def refuse_writes(self) -> None:
        """Raise MAINTENANCE while maintenance mode is on. Unchecked while Redis is down
        (as the rate limits are): the write then meets the same outage in the graph."""
        try:
            state = await self.maintenance()
        except (RedisError, OSError) as e:
            log.warning("maintenance mode not checked: %s", type(e).__name__)
            return
        if state["enabled"]:
            raise MaintenanceError(str(state["message"]))

    async def status(self) -> dict[str, Any]:
        """Version, uptime, each component up or down, maintenance, and job counts."""
        self.health.components.update(self.components)
        graph_up = await self.health.graph_up()
        redis_up = await self.health.redis_up()
        workers = await self.health.workers()
        components = [
            {"name": "graph", "up": graph_up, "detail": getattr(self.engine, "name", None)},
            {"name": "redis", "up": redis_up, "detail": None},
            {"name": "worker", "up": bool(workers), "detail": f"{workers or 0} worker(s)"},
        ]
        jobs = await job_records.counts(self.engine) if graph_up else []
        return {
            "status": UP if all(c["up"] for c in components) else DOWN,
            "version": version(),
            "environment": self.settings.env,
            "uptime_seconds": round(time.time() - self.started, 3),
            "components": components,
            "maintenance": await self.maintenance(),
            "jobs": [
                {"kind": r["kind"], "status": r["status"], "count": int(r["n"])} for r in jobs
            ],
        }

    @property
    def engine(self) -> Any:
        return self.components.get("engine")


def _refusing(resolver: Any) -> Any:
    async def checked(obj: Any, info: Any, **kwargs: Any) -> Any:
        admin = getattr(info.context, "admin", None)
        if admin is not None:
            await admin.refuse_writes()
        result = resolver(obj, info, **kwargs)
        return await result if isawaitable(result) else result

    return checked


def guard_mutations(schema: GraphQLSchema) -> GraphQLSchema:
    """Put the maintenance check in front of every mutation but OPEN_DURING_MAINTENANCE."""
    mutation = schema.mutation_type
    if isinstance(mutation, GraphQLObjectType):
        for name, field in mutation.fields.items():
            if name not in OPEN_DURING_MAINTENANCE:
                _wrap(field)
    return schema


def _wrap(field: GraphQLField) -> None:
    field.resolve = _refusing(field.resolve or default_field_resolver)
