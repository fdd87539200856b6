"""Maintenance mode, the server's status, and each user's preferences."""

from typing import Any

import orjson
from ariadne import MutationType, ObjectType, QueryType

from graph import preferences
from music.errors import ValidationError
from resolvers.context import Info

query = QueryType()
mutation = MutationType()
server_status = ObjectType("ServerStatus")

_OFF = {"enabled": False, "message": None, "since": None}


@query.field("maintenance")
async def resolve_maintenance(_: Any, info: Info) -> dict[str, Any]:
    admin = info.context.admin
    return await admin.maintenance() if admin is not None else _OFF


@query.field("serverStatus")
async def resolve_server_status(_: Any, info: Info) -> dict[str, Any]:
    return await info.context.admin_api.status()


@query.field("settings")
async def resolve_settings(_: Any, info: Info) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    return await preferences.preferences(info.context.engine, user_id)


@mutation.field("maintenance")
async def resolve_set_maintenance(
    _: Any, info: Info, enabled: bool, message: str | None = None
) -> dict[str, Any]:
    return await info.context.admin_api.set_maintenance(enabled, message)


@mutation.field("updateSettings")
async def resolve_update_settings(_: Any, info: Info, settings: Any) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    if not isinstance(settings, dict):
        raise ValidationError("'settings' must be a JSON object.", field="settings")
    if len(settings) > preferences.MAX_KEYS:
        message = f"'settings' holds at most {preferences.MAX_KEYS} keys."
        raise ValidationError(message, field="settings")
    if len(orjson.dumps(settings)) > preferences.MAX_BYTES:
        message = f"'settings' is over {preferences.MAX_BYTES} bytes."
        raise ValidationError(message, field="settings")
    return await preferences.set_preferences(info.context.engine, user_id, settings)


bindables = [query, mutation, server_status]
