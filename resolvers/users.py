"""Accounts: sign-up, sign-in, sessions, API keys, and the user list for admins."""

from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType

from graph import users
from graph.ids import require_id
from music.errors import ForbiddenError, NotFoundError
from resolvers._pagination import connection, decode_cursor, page_size, resolve_total_count
from resolvers.collections import publish_change
from resolvers.context import Info

query = QueryType()
mutation = MutationType()
user = ObjectType("User")
role = EnumType("Role", {r.upper(): r for r in users.ROLES})


@user.field("email")
def resolve_email(obj: dict[str, Any], info: Info) -> str | None:
    principal = info.context.principal
    visible = obj.get("_signed_in") or principal.user_id == obj["id"] or principal.is_admin
    return obj["email"] if visible else None


@query.field("me")
async def resolve_me(_: Any, info: Info) -> dict[str, Any] | None:
    user_id = info.context.principal.user_id
    if user_id is None:
        return None
    [found] = await users.users_by_id(info.context.engine, [user_id])
    return found


@user.field("name")
def resolve_name(obj: dict[str, Any], info: Info) -> str:
    return str(obj.get("name") or obj["username"])


@user.field("emailVerified")
def resolve_email_verified(obj: dict[str, Any], info: Info) -> bool:
    return obj.get("email_verified_at") is not None


@query.field("user")
async def resolve_user(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    require_id(id, "User")
    [found] = await users.users_by_id(info.context.engine, [id])
    return found


@query.field("usage")
async def resolve_usage(_: Any, info: Info) -> dict[str, Any]:
    user_id = info.context.principal.require_user()
    return await info.context.usage_api.figures(user_id)


@query.field("users")
async def resolve_users(
    _: Any, info: Info, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    size = page_size(first)
    position = decode_cursor(after, "users", (str,))
    engine = info.context.engine
    rows, keys = await users.users_page(engine, position[0] if position else None, size + 1)
    return connection(rows, [[k] for k in keys], size, "users", lambda: users.users_count(engine))


@query.field("apiKeys")
async def resolve_api_keys(_: Any, info: Info) -> list[dict[str, Any]]:
    user_id = info.context.principal.require_user()
    return await users.api_keys_of(info.context.engine, user_id)


@mutation.field("register")
async def resolve_register(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    return await info.context.auth_api.register(
        input["email"], input["username"], input["password"]
    )


@mutation.field("login")
async def resolve_login(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    # The server's per-account attempt limit (server/ratelimit.py), when it has one: set
    # on the request, or on the WebSocket for operations sent over one.
    check_login = getattr(getattr(info.context.request, "state", None), "check_login", None)
    return await info.context.auth_api.login(input["login"], input["password"], check_login)


@mutation.field("refreshToken")
async def resolve_refresh(_: Any, info: Info, token: str) -> dict[str, Any]:
    return await info.context.auth_api.refresh(token)


@mutation.field("logout")
async def resolve_logout(_: Any, info: Info, refresh_token: str | None = None) -> bool:
    return await info.context.auth_api.logout(info.context.principal, refresh_token)


@mutation.field("changePassword")
async def resolve_change_password(_: Any, info: Info, input: dict[str, Any]) -> bool:
    principal = info.context.principal
    if principal.via == "api_key":
        raise ForbiddenError("Sign in with your password to change it, not with an API key.")
    return await info.context.auth_api.change_password(
        principal, input["current_password"], input["new_password"], principal.family
    )


@mutation.field("updateProfile")
async def resolve_update_profile(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    principal = info.context.principal
    # Email and username sign in: whoever holds only an API key must not take the account.
    if principal.via == "api_key":
        raise ForbiddenError("Sign in with your password to change your profile, not an API key.")
    return await info.context.auth_api.update_profile(
        principal,
        input.get("email"),
        input.get("username"),
        input.get("current_password"),
        input.get("new_password"),
        principal.family,
    )


@mutation.field("deleteAccount")
async def resolve_delete_account(_: Any, info: Info, password: str) -> bool:
    principal = info.context.principal
    if principal.via == "api_key":
        raise ForbiddenError("Sign in with your password to delete your account, not an API key.")
    collection_ids = await info.context.auth_api.delete_account(principal, password)
    for collection_id in collection_ids:
        await publish_change(info, collection_id, "deleted", [])
    return True


@mutation.field("requestPasswordReset")
async def resolve_request_password_reset(_: Any, info: Info, email: str) -> bool:
    await info.context.auth_api.request_password_reset(email)
    return True


@mutation.field("resetPassword")
async def resolve_reset_password(_: Any, info: Info, token: str, new_password: str) -> bool:
    await info.context.auth_api.reset_password(token, new_password)
    return True


@mutation.field("verifyEmail")
async def resolve_verify_email(_: Any, info: Info, token: str) -> dict[str, Any]:
    return {**await info.context.auth_api.verify_email(token), "_signed_in": True}


@mutation.field("requestEmailVerification")
async def resolve_request_email_verification(_: Any, info: Info) -> bool:
    user_id = info.context.principal.require_user()
    [found] = await users.users_by_id(info.context.engine, [user_id])
    if found is None:
        raise NotFoundError("Your account no longer exists.")
    await info.context.auth_api.send_verification(found)
    return True


@mutation.field("createUser")
async def resolve_create_user(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    return await info.context.auth_api.admin_create_user(
        input["email"],
        input.get("username"),
        input.get("name"),
        input["password"],
        input.get("role") or "user",
    )


@mutation.field("updateUser")
async def resolve_update_user(_: Any, info: Info, id: str, input: dict[str, Any]) -> dict[str, Any]:
    return await info.context.auth_api.admin_update_user(
        id,
        email=input.get("email"),
        username=input.get("username"),
        name=input.get("name"),
        password=input.get("password"),
        role=input.get("role"),
    )


@mutation.field("deleteUser")
async def resolve_delete_user(_: Any, info: Info, id: str) -> bool:
    collection_ids = await info.context.auth_api.admin_delete_user(id)
    for collection_id in collection_ids:
        await publish_change(info, collection_id, "deleted", [])
    return True


@mutation.field("createApiKey")
async def resolve_create_api_key(_: Any, info: Info, name: str) -> dict[str, Any]:
    return await info.context.auth_api.create_api_key(info.context.principal, name)


@mutation.field("revokeApiKey")
async def resolve_revoke_api_key(_: Any, info: Info, id: str) -> dict[str, Any]:
    return await info.context.auth_api.revoke_api_key(info.context.principal, id)


user_connection = ObjectType("UserConnection")
user_connection.set_field("totalCount", resolve_total_count)

bindables = [query, mutation, user, role, user_connection]
