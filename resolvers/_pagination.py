"""Relay connections over keyset cursors.

A cursor is the opaque, url-safe base64 of `[kind, sort key, id]`: it says where the
page ends, so the next page starts right after it whatever was inserted meanwhile.
"""

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson

from graph.ids import label_of
from music.errors import ValidationError

MAX_FIRST = 100


def page_size(first: int | None, default: int = 20) -> int:
    """Validate `first`: 1 to MAX_FIRST."""
    if first is None:
        return default
    if not 1 <= first <= MAX_FIRST:
        raise ValidationError(f"'first' must be between 1 and {MAX_FIRST}.", field="first")
    return first


def encode_cursor(kind: str, sort_key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([kind, sort_key])).decode().rstrip("=")


Shape = tuple[type | tuple[type, ...], ...]


def _fits(position: Any, shape: Shape) -> bool:
    """A keyset position: a list of scalars of the given types, ending with a node id."""
    if not isinstance(position, list) or len(position) != len(shape):
        return False
    if not all(
        isinstance(value, kind) and not isinstance(value, bool)
        for value, kind in zip(position, shape, strict=True)
    ):
        return False
    return label_of(position[-1]) is not None


def decode_cursor(cursor: str | None, kind: str, shape: Shape) -> tuple[Any, ...] | None:
    """The keyset position in a cursor of `kind`, or None for no cursor.

    Anything that is not a cursor this server made for this list, with values of the
    types its sort keys have, is a VALIDATION_ERROR: a forged position must not reach
    the graph, where a type mismatch would silently end the list.
    """
    if cursor is None:
        return None
    try:
        if len(cursor) > 2048:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        value = None
    if not isinstance(value, list) or len(value) != 2 or value[0] != kind:
        raise ValidationError("'after' is not a valid cursor for this list.", field="after")
    if not _fits(value[1], shape):
        raise ValidationError("'after' is not a valid cursor for this list.", field="after")
    return tuple(value[1])


def connection(
    rows: Sequence[dict[str, Any]],
    sort_keys: Sequence[Any],
    first: int,
    kind: str,
    count: Callable[[], Awaitable[int]],
) -> dict[str, Any]:
    """A connection from up to `first + 1` rows: the extra row only tells hasNextPage.

    `count` runs only if the client asks for totalCount.
    """
    edges = [
        {"cursor": encode_cursor(kind, key), "node": row}
        for row, key in zip(rows[:first], sort_keys[:first], strict=True)
    ]
    return {
        "edges": edges,
        "page_info": {
            "has_next_page": len(rows) > first,
            "end_cursor": edges[-1]["cursor"] if edges else None,
        },
        "_count": count,
    }


async def resolve_total_count(conn: dict[str, Any], *_: Any) -> int:
    return await conn["_count"]()  # type: ignore[no-any-return]
