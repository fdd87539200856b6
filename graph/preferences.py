"""A user's preferences, stored as one JSON object (FalkorDB has no map properties)."""

from typing import Any

import orjson

from graph.engine import GraphEngine
from graph.queries import preferences as q
from music.errors import NotFoundError

MAX_BYTES = 16 * 1024
MAX_KEYS = 100


async def preferences(engine: GraphEngine, user_id: str) -> dict[str, Any]:
    """The user's preferences; `{}` when none were stored."""
    rows = await engine.read("preferences", q.PREFERENCES_QUERY, {"id": user_id})
    if not rows or not rows[0]["preferences"]:
        return {}
    value = orjson.loads(rows[0]["preferences"])
    return value if isinstance(value, dict) else {}


async def set_preferences(
    engine: GraphEngine, user_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Replace the user's preferences with `values`, a JSON object of at most MAX_KEYS
    keys and MAX_BYTES encoded (checked by the caller: resolvers/admin.py)."""
    encoded = orjson.dumps(values)
    rows = await engine.write(
        "set_preferences", q.SET_PREFERENCES_QUERY, {"id": user_id, "preferences": encoded.decode()}
    )
    if not rows:
        raise NotFoundError("No such user.", id=user_id)
    return values
