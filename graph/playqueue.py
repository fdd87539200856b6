"""A user's play queue: the tracks to play in order, the entry playing and the position
in it. Entries are addressed by their 0-based index, so the same track may be queued
more than once.

Arguments are checked before anything is written; each change is then one query
(one transaction) that checks the queue as it is at that moment. When that query
refuses, a read tells the caller why: NOT_FOUND for a track that does not exist,
VALIDATION_ERROR for an index out of range or a queue past MAX_QUEUE, CONFLICT when
the queue changed between the two (try again).
"""

from collections.abc import Callable, Sequence
from typing import Any

from graph import ids
from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Params, Row
from graph.queries import playqueue as q
from music.errors import ConflictError, NotFoundError, ValidationError

MAX_QUEUE = 1000

# Why a refused change was refused, given the queue's length then.
Check = Callable[[int], ValidationError | None]


def _queue(row: Row) -> Row:
    return {
        "tracks": list(row["tracks"]),
        "current_index": row["current_index"],
        "position_ms": int(row["position_ms"]),
        "version": int(row["version"]),
        "updated_at": row["updated_at"],
    }


def _not_negative(value: int | None, field: str) -> int | None:
    if value is not None and value < 0:
        raise ValidationError(f"'{field}' must not be negative.", field=field)
    return value


def _track_ids(values: Sequence[str], *, empty: bool) -> list[str]:
    if not values and not empty:
        raise ValidationError("'trackIds' must not be empty.", field="trackIds")
    if len(values) > MAX_QUEUE:
        raise ValidationError(f"The queue holds at most {MAX_QUEUE} tracks.", field="trackIds")
    return [ids.require_id(i, "Track", "trackIds") for i in values]


def _below(field: str, value: int | None) -> Check:
    """`value` must be an index of the queue (None always is)."""

    def check(length: int) -> ValidationError | None:
        if value is None or value < length:
            return None
        return ValidationError(f"'{field}' is past the end of the queue.", field=field)

    return check


async def play_queue(engine: GraphEngine, user_id: str) -> Row:
    """The user's queue; an empty one for a user who never had one."""
    rows = await engine.read("play_queue", q.PLAY_QUEUE_QUERY, {"user": user_id})
    if not rows:
        raise NotFoundError(f"User {user_id} does not exist.")
    return _queue(rows[0])


async def _change(
    engine: GraphEngine,
    operation: str,
    query: str,
    params: Params,
    track_ids: Sequence[str] = (),
    *checks: Check,
) -> Row:
    user_id = params["user"]
    rows = await engine.write(operation, query, {**params, "now": now_ms(), "max": MAX_QUEUE})
    if rows:
        return _queue(rows[0])
    length = await engine.read("queue_length", q.QUEUE_LENGTH_QUERY, {"user": user_id})
    if not length:
        raise NotFoundError(f"User {user_id} does not exist.")
    if track_ids:
        missing = await engine.read(
            "missing_tracks", q.MISSING_TRACKS_QUERY, {"ids": list(dict.fromkeys(track_ids))}
        )
        if missing:
            raise NotFoundError(f"Track {missing[0]['id']} does not exist.", field="trackIds")
    for check in checks:
        error = check(int(length[0]["n"]))
        if error is not None:
            raise error
    raise ConflictError("The play queue changed meanwhile; try again.")


async def set_queue(
    engine: GraphEngine,
    user_id: str,
    track_ids: Sequence[str] | None,
    index: int | None = None,
    position_ms: int | None = None,
) -> Row:
    """Replace the entries with `track_ids`, playing `index` (0) from `position_ms` (0).
    Without `track_ids` the entries stay, and an index or position left out too."""
    _not_negative(index, "currentIndex")
    _not_negative(position_ms, "positionMs")
    params: dict[str, Any] = {"user": user_id, "index": index, "position_ms": position_ms}
    if track_ids is None:
        return await _change(
            engine, "seek_queue", q.SEEK_QUERY, params, (), _below("currentIndex", index)
        )
    wanted = _track_ids(track_ids, empty=True)
    if (index or 0) >= max(len(wanted), 1):
        raise ValidationError("'currentIndex' is past the end of the queue.", field="currentIndex")
    if not wanted:
        return await clear_queue(engine, user_id)
    params |= {"track_ids": wanted, "index": index or 0, "position_ms": position_ms or 0}
    return await _change(engine, "set_queue", q.SET_QUEUE_QUERY, params, wanted)


async def enqueue(
    engine: GraphEngine, user_id: str, track_ids: Sequence[str], position: int | None = None
) -> Row:
    """Insert tracks, in the order given, before the entry at `position` (at the end
    when None); `position` may be the queue's length."""
    _not_negative(position, "position")
    wanted = _track_ids(track_ids, empty=False)
    params = {"user": user_id, "track_ids": wanted, "position": position}

    def fits(length: int) -> ValidationError | None:
        if position is not None and position > length:
            return ValidationError("'position' is past the end of the queue.", field="position")
        if length + len(wanted) > MAX_QUEUE:
            return ValidationError(f"The queue holds at most {MAX_QUEUE} tracks.", field="trackIds")
        return None

    return await _change(engine, "enqueue", q.ENQUEUE_QUERY, params, wanted, fits)


async def dequeue(engine: GraphEngine, user_id: str, index: int) -> Row:
    """Remove the entry at `index`."""
    _not_negative(index, "index")
    params = {"user": user_id, "index": index}
    return await _change(engine, "dequeue", q.DEQUEUE_QUERY, params, (), _below("index", index))


async def move_in_queue(engine: GraphEngine, user_id: str, source: int, target: int) -> Row:
    """Move the entry at `source` so that it is at `target` afterwards."""
    _not_negative(source, "fromIndex")
    _not_negative(target, "toIndex")
    params = {"user": user_id, "source": source, "target": target}
    checks = (_below("fromIndex", source), _below("toIndex", target))
    return await _change(engine, "move_in_queue", q.MOVE_QUERY, params, (), *checks)


async def clear_queue(engine: GraphEngine, user_id: str) -> Row:
    """Remove every entry."""
    return await _change(engine, "clear_queue", q.CLEAR_QUEUE_QUERY, {"user": user_id})
