"""Strict readers for the JSON artifacts stored on graph nodes: a wrong type is a
ValueError, never a silently coerced value."""

import math
from typing import Any


def as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return value


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(value)


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def as_floats(values: Any) -> tuple[float, ...]:
    if not isinstance(values, list):
        raise ValueError("expected a list of finite numbers")
    return tuple(as_float(v) for v in values)
