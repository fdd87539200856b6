"""Tracks backed by audio files: uploads (content-addressed, deduplicated by hash) and
library scans (by path, incremental, vanished files marked missing, never deleted)."""

from collections.abc import Sequence
from typing import Any

from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.queries import media as q


async def track_by_hash(engine: GraphEngine, sha256: str) -> Row | None:
    rows = await engine.read("track_by_hash", q.TRACK_BY_HASH_QUERY, {"sha": sha256})
    return dict(rows[0]["row"]) if rows else None


async def files_under(engine: GraphEngine, prefix: str) -> dict[str, Row]:
    """`{path: {id, size, mtime_ns, missing}}` of the tracks whose file is under `prefix`."""
    rows = await engine.read("files_under", q.FILES_UNDER_QUERY, {"prefix": prefix})
    return {r["path"]: r for r in rows}


async def mark_missing(engine: GraphEngine, paths: Sequence[str]) -> int:
    if not paths:
        return 0
    rows = await engine.write(
        "mark_missing", q.MARK_MISSING_QUERY, {"paths": list(paths), "now": now_ms()}
    )
    return int(rows[0]["marked"]) if rows else 0


async def update_file(engine: GraphEngine, path: str, props: dict[str, Any]) -> Row | None:
    rows = await engine.write(
        "update_file", q.UPDATE_FILE_QUERY, {"path": path, "props": props, "now": now_ms()}
    )
    return dict(rows[0]["row"]) if rows else None
