"""Counts over a filtered label, kept a few seconds rather than counted for every page.

`totalCount` of a filtered list (a genre, a year range, a text) reads every node the
filter selects. A client paging through it asks on every page; the count is kept for
COUNT_SECONDS per process and dropped at once when this process writes the catalogue
(another process's writes show within COUNT_SECONDS). Unfiltered counts and counts
under one artist or album are cheap and never cached. A user's plays are counted the
same way (100k plays: 15-50 ms), and dropped when this process records one of theirs.
"""

import time
from collections.abc import Awaitable, Callable

from graph.engine import GraphEngine

COUNT_SECONDS = 10.0
MAX_ENTRIES = 1024

_counts: dict[tuple[int, str], tuple[float, int]] = {}


async def cached(engine: GraphEngine, key: str, count: Callable[[], Awaitable[int]]) -> int:
    """The count under `key`, counted by `count` when absent or older than COUNT_SECONDS."""
    entry = _counts.get((id(engine), key))
    now = time.monotonic()
    if entry is not None and now - entry[0] < COUNT_SECONDS:
        return entry[1]
    value = await count()
    if len(_counts) >= MAX_ENTRIES:
        _counts.clear()
    _counts[(id(engine), key)] = (now, value)
    return value


def forget() -> None:
    """Drop every kept count: the catalogue changed."""
    _counts.clear()


def drop(engine: GraphEngine, key: str) -> None:
    """Drop the count kept under `key`: what it counts changed."""
    _counts.pop((id(engine), key), None)
