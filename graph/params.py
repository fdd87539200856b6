"""Checks on query parameters that hold on every engine."""

from typing import Any

from graph.engine import Params
from music.errors import ValidationError


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], float):
            return False  # a vector: numbers only
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul(params: Params | None) -> None:
    """Refuse text holding a NUL character as the client's error, on every engine.

    FalkorDB's client sends parameters inside the command text, where a NUL ends it
    (FalkorDB then answers "empty key"); Neo4j would store it. One rule for both keeps
    the API the same whichever engine serves it.
    """
    if params and _has_nul(params):
        raise ValidationError("Text must not contain NUL characters.")
