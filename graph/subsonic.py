"""The Subsonic credentials of a user: an encrypted secret, opted into per user."""

from typing import Any

from graph.catalog_writes import now_ms
from graph.engine import GraphEngine
from graph.names import name_key
from graph.queries import subsonic as q


async def set_subsonic_password(engine: GraphEngine, user_id: str, secret: str | None) -> bool:
    """Store (or with None, remove) the user's encrypted Subsonic password."""
    rows = await engine.write(
        "set_subsonic_password",
        q.SET_SUBSONIC_PASSWORD_QUERY,
        {"id": user_id, "secret": secret, "now": now_ms()},
    )
    return bool(rows)


async def subsonic_user(engine: GraphEngine, username: str) -> dict[str, Any] | None:
    """`{id, role, secret, password_hash}` of the user signing in as `username`."""
    rows = await engine.read(
        "subsonic_user", q.SUBSONIC_USER_QUERY, {"username_key": name_key(username)}
    )
    return dict(rows[0]) if rows else None
