"""Listening data: plays, a user's history, play counts, trends and catalogue statistics.

Whose plays count is decided by the `Viewer`: a user sees their own plays, an admin
everybody's, and an anonymous caller none. Catalogue statistics cover every track,
or the tracks of one collection that the caller was checked to see.
"""

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from graph import catalog, counts, ids, pages
from graph.catalog_writes import now_ms
from graph.collection_store import Viewer
from graph.engine import GraphEngine, Row
from graph.queries import listening as q
from music.errors import NotFoundError, ValidationError

# A client's clock may run a little ahead of ours.
MAX_FUTURE_SKEW_MS = 5 * 60 * 1000
# Seeking back can make a play longer than the track, but not by this much.
MAX_PLAYED_FACTOR = 2.0
MAX_PLAYED_SLACK = 60.0
MAX_PLAYED_UNKNOWN = 24 * 3600.0  # seconds, when the track's duration is unknown
MAX_TREND_POINTS = 365

DAY_MS = 24 * 3600 * 1000
PERIODS = ("DAY", "WEEK", "MONTH", "YEAR")
METRICS = ("UPLOADS", "PLAYS", "DURATION")

Page = tuple[list[Row], list[Any]]


def _plays_of(viewer: Viewer) -> str | None:
    """The `$user` of the play queries: the viewer, or None (everybody) for an admin."""
    return None if viewer.admin else viewer.user_id


def _sees_plays(viewer: Viewer) -> bool:
    return viewer.admin or viewer.user_id is not None


def _played_at(at: datetime | None, now: int) -> int:
    if at is None:
        return now
    at_ms = int(at.timestamp() * 1000)
    if at_ms < 0:
        raise ValidationError("'at' must not be before 1970.", field="at")
    if at_ms > now + MAX_FUTURE_SKEW_MS:
        raise ValidationError("'at' must not be in the future.", field="at")
    return at_ms


def _duration_played(value: float | None, track: Row) -> float:
    duration = track.get("duration")
    if value is None:
        return float(duration or 0.0)
    if not math.isfinite(value) or value < 0:
        raise ValidationError("'durationPlayed' must not be negative.", field="durationPlayed")
    limit = (
        MAX_PLAYED_UNKNOWN if duration is None else duration * MAX_PLAYED_FACTOR + MAX_PLAYED_SLACK
    )
    if value > limit:
        raise ValidationError(
            f"'durationPlayed' must be at most {limit:g} seconds for this track.",
            field="durationPlayed",
        )
    return float(value)


async def record_play(
    engine: GraphEngine,
    user_id: str,
    track_id: str,
    at: datetime | None = None,
    duration_played: float | None = None,
) -> Row:
    """Record that `user_id` played a track at `at` (now when None) for
    `duration_played` seconds (the whole track when None). Recording the same play
    (user, track, millisecond) again only updates its duration."""
    ids.require_id(track_id, "Track", "trackId")
    now = now_ms()
    at_ms = _played_at(at, now)
    [track] = await catalog.tracks_by_id(engine, [track_id])
    if track is None:
        raise NotFoundError(f"Track {track_id} does not exist.", field="trackId")
    params = {
        "user": user_id,
        "track_id": track_id,
        "at": at_ms,
        "duration_played": _duration_played(duration_played, track),
    }
    rows = await engine.write("record_play", q.RECORD_PLAY_QUERY, params)
    counts.drop(engine, _history_key(user_id))
    if not rows:  # the track went meanwhile, or the user
        raise NotFoundError(f"Track {track_id} does not exist.", field="trackId")
    return rows[0]["row"]  # type: ignore[no-any-return]


async def history_page(
    engine: GraphEngine, user_id: str, after: tuple[int, str] | None, limit: int
) -> Page:
    """A user's plays, newest first, after a keyset cursor `[at, track id]`."""
    after_at, after_id = after if after else (None, None)
    params = {"user": user_id, "after_at": after_at, "after_id": after_id}

    def build(near: bool, far: bool) -> tuple[str, dict[str, Any]]:
        return q.history_window(after is not None, near, far), dict(params)

    def exact(position: list[Any] | None) -> tuple[str, dict[str, Any]]:
        at, track_id = position if position else (None, None)
        return q.HISTORY_PAGE_QUERY, {"user": user_id, "after_at": at, "after_id": track_id}

    rows = await pages.window_page(
        engine,
        "history_page",
        f"PLAYED of {user_id}",
        "at",
        "DESC",
        list(after) if after else None,
        limit,
        build,
        "history",
        exact,
        stats_query=(q.HISTORY_STATS_QUERY, {"user": user_id}),
    )
    return [row["row"] for row in rows], [row["sort_key"] for row in rows]


async def history_count(engine: GraphEngine, user_id: str) -> int:
    """How many plays a user has; kept a few seconds (graph/counts.py)."""

    async def count() -> int:
        query = q.history_count(engine.dialect)
        rows = await engine.read("history_count", query, {"user": user_id})
        return int(rows[0]["total"]) if rows else 0

    return await counts.cached(engine, _history_key(user_id), count)


def _history_key(user_id: str) -> str:
    return f"history:{user_id}"


async def play_counts(engine: GraphEngine, viewer: Viewer, track_ids: Sequence[str]) -> list[int]:
    """How often each track was played, in the plays `viewer` may see."""
    if not _sees_plays(viewer):
        return [0] * len(track_ids)
    params = {"ids": list(dict.fromkeys(track_ids)), "user": _plays_of(viewer)}
    rows = await engine.read("play_counts", q.PLAY_COUNTS_QUERY, params)
    counts = {row["key"]: int(row["n"]) for row in rows}
    return [counts.get(i, 0) for i in track_ids]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def period_bounds(period: str, last: int, now: int) -> tuple[list[int], int | None]:
    """The starts of the `last` periods up to the current one (UTC; weeks start on
    Monday) and the end of the current one, with the width in ms of a fixed period
    (None for months and years)."""
    today = datetime.fromtimestamp(now / 1000, UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    if period in ("DAY", "WEEK"):
        width = DAY_MS if period == "DAY" else 7 * DAY_MS
        current = _ms(today - timedelta(days=today.weekday() if period == "WEEK" else 0))
        return [current + width * k for k in range(1 - last, 2)], width
    if period == "MONTH":
        index = today.year * 12 + today.month - 1
        months = range(index + 1 - last, index + 2)
        return [_ms(datetime(m // 12, m % 12 + 1, 1, tzinfo=UTC)) for m in months], None
    years = range(today.year + 1 - last, today.year + 2)
    return [_ms(datetime(y, 1, 1, tzinfo=UTC)) for y in years], None


async def trend(
    engine: GraphEngine, viewer: Viewer, period: str, metric: str, last: int
) -> list[Row]:
    """`last` points, oldest first, each the start of a period and its value: tracks
    added (UPLOADS), plays (PLAYS) or seconds played (DURATION) in it."""
    if period not in PERIODS or metric not in METRICS:
        raise ValidationError("Unknown period or metric.", field="period")
    if not 1 <= last <= MAX_TREND_POINTS:
        raise ValidationError(f"'last' must be between 1 and {MAX_TREND_POINTS}.", field="last")
    bounds, width = period_bounds(period, last, now_ms())
    params: dict[str, Any] = {
        "bounds": bounds,
        "width": width,
        "start": bounds[0],
        "end": bounds[-1],
    }
    values = [0.0] * last
    if metric == "UPLOADS":
        rows = await engine.read("trend_uploads", q.TREND_UPLOADS_QUERY, params)
    elif _sees_plays(viewer):
        params |= {"user": _plays_of(viewer), "durations": metric == "DURATION"}
        rows = await engine.read("trend_plays", q.TREND_PLAYS_QUERY, params)
    else:
        rows = []
    for row in rows:
        if 0 <= row["bucket"] < last:
            values[row["bucket"]] = float(row["value"] or 0.0)
    return [{"start": s, "value": v} for s, v in zip(bounds, values, strict=False)]


async def collection_stats(engine: GraphEngine, collection_id: str | None) -> Row:
    """Counts, total duration (seconds) and the genre, Camelot key and tempo (10 BPM)
    distributions of every track, or of the tracks of one collection. Artists, albums
    and genres are those of the tracks counted."""
    if collection_id is None:
        queries = (
            q.STATS_TOTALS_QUERY,
            q.STATS_DISTINCT_QUERY,
            q.STATS_GENRES_QUERY,
            q.STATS_KEYS_QUERY,
            q.STATS_TEMPO_QUERY,
        )
    else:
        queries = (
            q.COLLECTION_STATS_TOTALS_QUERY,
            q.COLLECTION_STATS_DISTINCT_QUERY,
            q.COLLECTION_STATS_GENRES_QUERY,
            q.COLLECTION_STATS_KEYS_QUERY,
            q.COLLECTION_STATS_TEMPO_QUERY,
        )
    params = {"collection": collection_id}
    names = ("stats_totals", "stats_distinct", "stats_genres", "stats_keys", "stats_tempo")
    totals, distinct, genres, keys, tempo = [
        await engine.read(name, query, params) for name, query in zip(names, queries, strict=True)
    ]
    return {
        "track_count": int(totals[0]["tracks"]) if totals else 0,
        "total_duration": float(totals[0]["duration"] or 0.0) if totals else 0.0,
        "artist_count": int(distinct[0]["artists"]) if distinct else 0,
        "album_count": int(distinct[0]["albums"]) if distinct else 0,
        "genre_count": len(genres),
        "genre_distribution": [{"genre": r["genre"], "count": int(r["n"])} for r in genres],
        "key_distribution": [{"camelot": r["key"], "count": int(r["n"])} for r in keys],
        "bpm_distribution": [
            {"min": 10.0 * r["bucket"], "max": 10.0 * r["bucket"] + 10.0, "count": int(r["n"])}
            for r in tempo
        ],
    }
