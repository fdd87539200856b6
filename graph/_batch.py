"""Batch reads lined up with their keys, as dataloaders need them.

A dataloader batches the keys of one request. Reads by key are also shared between
requests: the keys that every caller asks of one query (same engine, same statement,
same parameters besides `$ids`) within one turn of the event loop go to the graph as one
`UNWIND $ids` read, and each caller gets the rows of its own keys. At 32 concurrent
`track(id)` requests that is one graph round trip for several requests instead of one
each (bench/shared_reads.py). Nothing is cached: a read leaves after every key of it was
asked, so it sees every write its callers had finished; a failure reaches every caller
of the read, and a caller that is cancelled leaves the read to the others.
"""

import asyncio
import contextvars
import weakref
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.engine import GraphEngine, Row, graph_call

# The most keys a read shared by several callers carries (a dataloader's batch is at
# most 1,000 too): a caller whose keys would take it past this starts another read in
# the same turn (a single caller's keys always go in one read).
MAX_SHARED_KEYS = 1000


Index = dict[str, Any]  # a read's rows by key, built once for all its callers


@dataclass
class _Read:
    """One pending shared read: its rows by key (once read), its keys in the order first
    asked, and how many callers asked."""

    rows: asyncio.Future[Index]
    keys: dict[str, None] = field(default_factory=dict)
    callers: int = 0


# Per event loop (the tests run many): the reads waiting for the end of this turn.
_pending: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Read]]" = (
    weakref.WeakKeyDictionary()
)
_running: set["asyncio.Task[None]"] = set()  # a task nobody holds can be collected
_sharing = True  # APOLLONIA_SHARED_READS (server/settings.py), set by the app


def share_reads(on: bool) -> None:
    """Share reads between callers (the default), or give each caller a read of its own."""
    global _sharing
    _sharing = on


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for a parameter value (lists and dicts included)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_frozen(v) for v in value))
    if isinstance(value, Hashable):
        return (type(value).__name__, value)
    raise TypeError(f"parameter value {type(value).__name__} is not shareable")


@dataclass(frozen=True)
class _Statement:
    """What a shared read sends, and how its rows are indexed by key."""

    engine: GraphEngine
    operation: str
    query: str
    params: dict[str, Any]
    index: Callable[[list[Row]], Index]


def _key(s: "_Statement") -> Hashable | None:
    """What a read must match to be shared: engine, statement and parameters."""
    try:
        return (id(s.engine), s.operation, s.query, _frozen(s.params))
    except TypeError:
        return None


def _start(
    loop: asyncio.AbstractEventLoop,
    waiting: dict[Hashable, _Read],
    key: Hashable,
    read: _Read,
    statement: _Statement,
) -> None:
    """At the end of the turn: no more callers join `read`; it is sent."""
    if waiting.get(key) is read:
        del waiting[key]
    task = loop.create_task(_send(statement, read))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _send(statement: _Statement, read: _Read) -> None:
    s, rows = statement, read.rows
    try:
        found = await s.engine.read(s.operation, s.query, {"ids": list(read.keys), **s.params})
        index = s.index(found)
    except asyncio.CancelledError:
        rows.cancel()
        raise
    except Exception as e:  # every caller of the read gets the error
        if not rows.done():
            rows.set_exception(e)
        return
    if not rows.done():
        rows.set_result(index)


async def _shared_read(statement: _Statement, ids: Sequence[str]) -> tuple[Index, bool]:
    """`statement` over `ids` (its `$ids`), sent together with the same statement's other
    callers of this loop turn: the rows of every caller's keys, indexed by key, which
    the caller picks its own from; and whether other callers got the same rows (each
    must then take copies: resolvers put what they prefetched on a row)."""
    s = statement
    key = _key(s) if _sharing else None
    if key is None:  # not shared, or a parameter that cannot be compared: its own read
        ids = list(dict.fromkeys(ids))
        rows = await s.engine.read(s.operation, s.query, {"ids": ids, **s.params})
        return s.index(rows), False
    loop = asyncio.get_running_loop()
    waiting = _pending.setdefault(loop, {})
    read = waiting.get(key)
    if read is None or (read.keys and len(read.keys) + len(ids) > MAX_SHARED_KEYS):
        read = waiting[key] = _Read(rows=loop.create_future())
        # After the callbacks of this turn (other requests' loaders among them), in a
        # context of its own: no request's variables (its id in the logs) on a shared read.
        loop.call_soon(_start, loop, waiting, key, read, s, context=contextvars.Context())
    read.keys.update(dict.fromkeys(ids))
    read.callers += 1
    with graph_call():  # the read runs in no request's context: each caller's wait
        index = await asyncio.shield(read.rows)
    return index, read.callers > 1


def _by_row_id(rows: list[Row]) -> Index:
    return {row["row"]["id"]: row["row"] for row in rows}


def _by_key(rows: list[Row]) -> Index:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row["key"]].append(row["row"])
    return groups


async def by_id(
    engine: GraphEngine, operation: str, query: str, ids: Sequence[str], **params: Any
) -> list[Row | None]:
    """One query over `$ids` whose rows are `{row: {id, …}}`; None for a missing id."""
    found, shared = await _shared_read(
        _Statement(engine, operation, query, params, _by_row_id), ids
    )
    if shared:
        return [None if (row := found.get(i)) is None else dict(row) for i in ids]
    return [found.get(i) for i in ids]


async def grouped(
    engine: GraphEngine, operation: str, query: str, ids: Sequence[str], **params: Any
) -> list[list[Row]]:
    """One query over `$ids` whose rows are `{key, row}`; the rows of each id, in the
    query's order ([] for an id with none)."""
    groups, shared = await _shared_read(_Statement(engine, operation, query, params, _by_key), ids)
    if shared:
        return [[dict(row) for row in groups.get(i, ())] for i in ids]
    return [groups.get(i, []) for i in ids]
