"""Where a track's audio lives: the only graph read the streaming endpoints make."""

from typing import Any

from graph.engine import GraphEngine
from graph.queries import media_files as q


async def track_file(engine: GraphEngine, track_id: str) -> dict[str, Any] | None:
    """`{path, format, sha, duration}` of a track (path None when it has no file), or
    None when there is no such track."""
    rows = await engine.read("track_file", q.TRACK_FILE_QUERY, {"id": track_id})
    return dict(rows[0]) if rows else None
