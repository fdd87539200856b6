"""Maintenance mode, the server's status, and each user's preferences."""

from typing import Any

from ariadne import MutationType, ObjectType, QueryType

from graph import preferences
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
    return await preferences.set_preferences(info.context.engine, user_id, settings)


bindables = [query, mutation, server_status]
