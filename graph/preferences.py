"""A user's preferences, stored as one JSON object (FalkorDB has no map properties)."""

from typing import Any

import orjson

from graph.engine import GraphEngine
from graph.queries import preferences as q
from music.errors import NotFoundError, ValidationError

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
    """Replace the user's preferences with `values` (a JSON object, bounded in size)."""
    if not isinstance(values, dict):
        raise ValidationError("'settings' must be a JSON object.", field="settings")
    if len(values) > MAX_KEYS:
        raise ValidationError(f"'settings' holds at most {MAX_KEYS} keys.", field="settings")
    encoded = orjson.dumps(values)
    if len(encoded) > MAX_BYTES:
        raise ValidationError(f"'settings' is over {MAX_BYTES} bytes.", field="settings")
    rows = await engine.write(
        "set_preferences", q.SET_PREFERENCES_QUERY, {"id": user_id, "preferences": encoded.decode()}
    )
    if not rows:
        raise NotFoundError("No such user.", id=user_id)
    return values
