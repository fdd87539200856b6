"""JSON from clients, parsed with a bound on nesting.

A body nesting `variables` 3,000 levels deep (18 KB) made the standard library's parser
raise RecursionError: a 500 in plain text and a traceback logged for every such request.
Every JSON a client sends (GraphQL bodies, GET variables, multipart `operations` and
`map`, REST bodies, WebSocket messages) is parsed here instead: orjson, which stops at
1,024 levels by itself, then an iterative walk that refuses anything deeper than
MAX_DEPTH, so that no later recursive walk (variable coercion, NUL checks) can overflow.
"""

from typing import Any

import orjson

# Deeper than any document or variables this API takes: input objects nest a few
# levels, and JSON-typed values (metadata, settings) a handful more.
MAX_DEPTH = 64
BAD_REQUEST = "BAD_REQUEST"


class JSONRefused(ValueError):
    """Not JSON, or JSON nested deeper than MAX_DEPTH."""


def depth(value: Any) -> int:
    """How deep containers nest in `value` (a scalar is 0, `[]` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest


def loads(raw: bytes | bytearray | str) -> Any:
    """Parse client JSON; JSONRefused when it is not JSON or nests too deep."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        if "depth" in str(e).lower() or "recursion" in str(e).lower():
            raise JSONRefused(f"JSON may nest at most {MAX_DEPTH} levels.") from None
        raise JSONRefused("The body is not valid JSON.") from None
    if depth(value) > MAX_DEPTH:
        raise JSONRefused(f"JSON may nest at most {MAX_DEPTH} levels.")
    return value


def too_deep(raw: bytes | str) -> bool:
    """Whether `raw` is JSON nested deeper than MAX_DEPTH (not JSON at all: False)."""
    try:
        loads(raw)
    except JSONRefused as e:
        return "nest" in str(e)
    return False


def bad_request(message: str) -> bytes:
    """A GraphQL-shaped error body (server/envelope.py puts it in the REST envelope)."""
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": BAD_REQUEST}}]})
