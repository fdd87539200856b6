"""Users, their API keys, refresh-token families and revoked access tokens."""

from collections.abc import Sequence
from typing import Any

from graph import counts, ids
from graph._batch import by_id
from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.names import name_key
from graph.queries import users as q
from music.errors import ConflictError, NotFoundError

ROLES = ("guest", "user", "moderator", "admin")


async def create_user(
    engine: GraphEngine,
    email: str,
    username: str,
    password_hash: str,
    role: str = "user",
    name: str | None = None,
) -> Row:
    """Create a user; an email or username already taken is a CONFLICT. `name` is a
    display name (seed 004's), shown as the username when absent."""
    params = {
        "id": ids.new_id("User"),
        "email": email,
        "username": username,
        "name": name,
        "username_key": name_key(username),
        "password_hash": password_hash,
        "role": role,
        "now": now_ms(),
    }
    try:
        rows = await engine.write("create_user", q.CREATE_USER_QUERY, params)
    except ConflictError as e:
        raise ConflictError("That email or username is already registered.") from e
    return rows[0]["row"]  # type: ignore[no-any-return]


async def users_by_id(engine: GraphEngine, user_ids: Sequence[str]) -> list[Row | None]:
    return await by_id(engine, "users_by_id", q.USERS_BY_ID_QUERY, user_ids)


async def user_for_login(engine: GraphEngine, login: str) -> tuple[Row, str] | None:
    """The user whose email or username is `login`, with the password hash."""
    if "@" in login:
        rows = await engine.read("user_by_email", q.USER_BY_EMAIL_QUERY, {"email": login.lower()})
    else:
        rows = await engine.read(
            "user_by_username", q.USER_BY_USERNAME_QUERY, {"username_key": name_key(login)}
        )
    return (rows[0]["row"], rows[0]["password_hash"]) if rows else None


async def password_hash(engine: GraphEngine, user_id: str) -> str | None:
    rows = await engine.read("password_hash", q.PASSWORD_HASH_QUERY, {"id": user_id})
    return rows[0]["password_hash"] if rows else None


async def set_password(engine: GraphEngine, user_id: str, new_hash: str) -> None:
    await engine.write(
        "set_password",
        q.SET_PASSWORD_QUERY,
        {"id": user_id, "password_hash": new_hash, "now": now_ms()},
    )


async def update_profile(
    engine: GraphEngine,
    user_id: str,
    email: str | None,
    username: str | None,
    password_hash: str | None = None,
) -> Row:
    """Set a user's email, username and password hash, each only when given, in one
    write. An email or username another user has is a CONFLICT and changes nothing; a
    user that is gone is NOT_FOUND."""
    params = {
        "id": user_id,
        "email": email,
        "username": username,
        "username_key": name_key(username) if username is not None else None,
        "password_hash": password_hash,
        "now": now_ms(),
    }
    try:
        rows = await engine.write("update_profile", q.UPDATE_PROFILE_QUERY, params)
    except ConflictError as e:
        raise ConflictError("That email or username belongs to another account.") from e
    if not rows:
        raise NotFoundError(f"User {user_id} does not exist.")
    return rows[0]["row"]  # type: ignore[no-any-return]


async def admin_update_user(
    engine: GraphEngine,
    user_id: str,
    changes: dict[str, str | None],
) -> Row:
    """An admin's edit of a user: `email`, `username`, `name`, `role` and
    `password_hash`, each only when given, in one write. An email or username another
    user has is a CONFLICT; so is taking the admin role from the last admin (then
    nothing changes). A user that does not exist is NOT_FOUND."""
    username = changes.get("username")
    params = {
        "id": user_id,
        "admin": "admin",
        "email": changes.get("email"),
        "username": username,
        "username_key": name_key(username) if username is not None else None,
        "name": changes.get("name"),
        "role": changes.get("role"),
        "password_hash": changes.get("password_hash"),
        "now": now_ms(),
    }
    try:
        rows = await engine.write("admin_update_user", q.ADMIN_UPDATE_USER_QUERY, params)
    except ConflictError as e:
        raise ConflictError("That email or username belongs to another account.") from e
    if rows:
        return rows[0]["row"]  # type: ignore[no-any-return]
    if not await engine.read("user_role", q.USER_ROLE_QUERY, {"id": user_id}):
        raise NotFoundError(f"User {user_id} does not exist.")
    raise ConflictError("This is the only admin: make another admin before changing its role.")


async def users_page(
    engine: GraphEngine, after_id: str | None, limit: int
) -> tuple[list[Row], list[Any]]:
    rows = await engine.read(
        "users_page", q.USERS_PAGE_QUERY, {"after_id": after_id, "limit": limit}
    )
    return [r["row"] for r in rows], [r["sort_key"] for r in rows]


async def users_count(engine: GraphEngine) -> int:
    rows = await engine.read("users_count", q.USERS_COUNT_QUERY)
    return int(rows[0]["total"]) if rows else 0


async def create_family(
    engine: GraphEngine, user_id: str, family_id: str, jti: str, expires_at: int
) -> None:
    await engine.write(
        "create_family",
        q.CREATE_FAMILY_QUERY,
        {
            "user_id": user_id,
            "id": family_id,
            "jti": jti,
            "now": now_ms(),
            "expires_at": expires_at,
        },
    )


async def rotate_family(
    engine: GraphEngine,
    family_id: str,
    jti: str,
    new_jti: str,
    expires_at: int,
    raced_after: int = 0,
) -> tuple[str | None, bool]:
    """Move a family on from `jti` to `new_jti`: its user id, and False.

    If `jti` is the family's previous token and that rotation happened at or after
    `raced_after` (epoch ms), the caller lost a race with a concurrent rotation: (None,
    True), and the family lives on. Otherwise, if `jti` is not the family's current
    token (it was rotated already: a replay) or the family is revoked or expired, the
    family is revoked as a whole: (None, False).
    """
    rows = await engine.write(
        "rotate_family",
        q.ROTATE_FAMILY_QUERY,
        {
            "id": family_id,
            "jti": jti,
            "new_jti": new_jti,
            "now": now_ms(),
            "expires_at": expires_at,
            "raced_after": raced_after,
        },
    )
    if rows and rows[0]["current"]:
        return str(rows[0]["user_id"]), False
    return None, bool(rows and rows[0]["raced"])


async def revoke_family(engine: GraphEngine, family_id: str, user_id: str) -> bool:
    rows = await engine.write(
        "revoke_family", q.REVOKE_FAMILY_QUERY, {"id": family_id, "user_id": user_id}
    )
    return bool(rows)


async def revoke_other_families(engine: GraphEngine, user_id: str, keep: str) -> list[str]:
    """Revoke every live family of the user but `keep`; the ids of those revoked."""
    rows = await engine.write(
        "revoke_user_families", q.REVOKE_USER_FAMILIES_QUERY, {"user_id": user_id, "keep": keep}
    )
    return [str(i) for i in rows[0]["ids"]] if rows else []


async def revoke_jti(engine: GraphEngine, jti: str, expires_at: int) -> None:
    """Record an access token as revoked until it would have expired anyway."""
    await engine.write("revoke_jti", q.REVOKE_JTI_QUERY, {"jti": jti, "expires_at": expires_at})


async def revoke_jtis(engine: GraphEngine, jtis: Sequence[str], expires_at: int) -> None:
    """Record revocation entries until `expires_at` (epoch ms), in one write."""
    rows = [{"jti": jti, "expires_at": expires_at} for jti in jtis]
    if rows:
        await engine.write("revoke_jtis", q.REVOKE_JTIS_QUERY, {"rows": rows})


async def revoked_jtis(engine: GraphEngine) -> list[Row]:
    """Every revocation still in force: jti and expires_at (epoch ms)."""
    return await engine.read("revoked_jtis", q.REVOKED_JTIS_QUERY, {"now": now_ms()})


async def create_api_key(
    engine: GraphEngine, user_id: str, key_id: str, name: str, prefix: str, secret_hash: str
) -> Row:
    rows = await engine.write(
        "create_api_key",
        q.CREATE_API_KEY_QUERY,
        {
            "user_id": user_id,
            "id": key_id,
            "name": name,
            "prefix": prefix,
            "secret_hash": secret_hash,
            "now": now_ms(),
        },
    )
    return rows[0]["row"]  # type: ignore[no-any-return]


async def api_key(engine: GraphEngine, key_id: str) -> Row | None:
    """A live key's secret hash and its owner's id and role."""
    rows = await engine.read("api_key", q.API_KEY_QUERY, {"id": key_id})
    return rows[0] if rows else None


async def api_keys_of(engine: GraphEngine, user_id: str) -> list[Row]:
    rows = await engine.read("api_keys_of_user", q.API_KEYS_OF_USER_QUERY, {"user_id": user_id})
    return [r["row"] for r in rows]


async def revoke_api_key(engine: GraphEngine, user_id: str, key_id: str) -> Row | None:
    rows = await engine.write(
        "revoke_api_key",
        q.REVOKE_API_KEY_QUERY,
        {"user_id": user_id, "id": key_id, "now": now_ms()},
    )
    return rows[0]["row"] if rows else None


async def is_revoked(engine: GraphEngine, jtis: Sequence[str]) -> bool:
    """Whether any of `jtis` is revoked: the durable answer, for when the Redis cache
    cannot give one."""
    return bool(await engine.read("revoked_jti", q.REVOKED_JTI_QUERY, {"jtis": list(jtis)}))


async def delete_user(engine: GraphEngine, user_id: str, entry: str, expires_at: int) -> Row:
    """Delete a user with their collections, sessions, API keys, plays, queue and
    preferences, and record the revocation `entry` until `expires_at` (epoch ms), all in
    one transaction.

    Returns the ids of the collections and API keys that went. The last admin cannot be
    deleted (CONFLICT); a user that is already gone is NOT_FOUND.
    """
    params = {"id": user_id, "admin": "admin", "entry": entry, "expires_at": expires_at}
    rows = await engine.write("delete_user", q.DELETE_USER_QUERY, params)
    if rows:
        counts.forget()  # their public collections left every list, their plays went
        return rows[0]
    found = await engine.read("user_role", q.USER_ROLE_QUERY, {"id": user_id})
    if not found:
        raise NotFoundError(f"User {user_id} does not exist.")
    raise ConflictError(
        "You are the only admin: make another admin (`apollonia create-admin`) "
        "before deleting your account."
    )


async def create_account_token(
    engine: GraphEngine, user_id: str, token_hash: str, purpose: str, expires_at: int
) -> None:
    """Record a mailed token (its hash) for `purpose`, valid until `expires_at` (epoch
    ms), for the user's e-mail address as it is now."""
    await engine.write(
        "create_account_token",
        q.CREATE_ACCOUNT_TOKEN_QUERY,
        {
            "user_id": user_id,
            "hash": token_hash,
            "purpose": purpose,
            "now": now_ms(),
            "expires_at": expires_at,
        },
    )


async def consume_account_token(engine: GraphEngine, token_hash: str, purpose: str) -> str | None:
    """The user id of a token used for the first time, for `purpose`, before it expires,
    while the user's e-mail address is still the one it was sent to; else None."""
    rows = await engine.write(
        "consume_account_token",
        q.CONSUME_ACCOUNT_TOKEN_QUERY,
        {"hash": token_hash, "purpose": purpose, "now": now_ms()},
    )
    return str(rows[0]["user_id"]) if rows else None


async def set_email_verified(engine: GraphEngine, user_id: str) -> Row:
    rows = await engine.write(
        "set_email_verified", q.SET_EMAIL_VERIFIED_QUERY, {"id": user_id, "now": now_ms()}
    )
    if not rows:
        raise NotFoundError(f"User {user_id} does not exist.")
    return rows[0]["row"]  # type: ignore[no-any-return]
