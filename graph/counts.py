"""Counts over a filtered label, kept a few seconds rather than counted for every page.

`totalCount` of a filtered list (a genre, a year range, a text) reads every node the
filter selects. A client paging through it asks on every page; the count is kept for
COUNT_SECONDS per process and dropped at once when this process writes the catalogue
(another process's writes show within COUNT_SECONDS). Unfiltered counts and counts
under one artist or album are cheap and never cached. A user's plays are counted the
same way (100k plays: 15-50 ms), and dropped when this process records one of theirs;
so is a viewer's collections list, dropped on collection writes and account deletions.
Counts are kept per engine object, and go with it.
"""

import time
import weakref
from collections.abc import Awaitable, Callable

from graph.engine import GraphEngine

COUNT_SECONDS = 10.0
MAX_ENTRIES = 1024

# Per engine (weakly: an engine's counts go with it, and a later engine that happens to
# get its id() never sees them): key -> (when counted, count).
_counts: "weakref.WeakKeyDictionary[GraphEngine, dict[str, tuple[float, int]]]" = (
    weakref.WeakKeyDictionary()
)


async def cached(engine: GraphEngine, key: str, count: Callable[[], Awaitable[int]]) -> int:
    """The count under `key`, counted by `count` when absent or older than COUNT_SECONDS."""
    kept = _counts.get(engine)
    entry = kept.get(key) if kept is not None else None
    now = time.monotonic()
    if entry is not None and now - entry[0] < COUNT_SECONDS:
        return entry[1]
    value = await count()
    kept = _counts.setdefault(engine, {})
    if len(kept) >= MAX_ENTRIES:
        kept.clear()
    kept[key] = (now, value)
    return value


def forget() -> None:
    """Drop every kept count: the catalogue changed."""
    _counts.clear()


def drop(engine: GraphEngine, key: str) -> None:
    """Drop the count kept under `key`: what it counts changed."""
    kept = _counts.get(engine)
    if kept is not None:
        kept.pop(key, None)
