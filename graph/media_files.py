"""Where a track's audio lives: the only graph read the streaming endpoints make."""

from typing import Any

from graph.engine import GraphEngine
from graph.queries import media_files as q


async def track_file(engine: GraphEngine, track_id: str) -> dict[str, Any] | None:
    """`{path, format, sha, duration}` of a track (path None when it has no file), or
    None when there is no such track."""
    rows = await engine.read("track_file", q.TRACK_FILE_QUERY, {"id": track_id})
    return dict(rows[0]) if rows else None


async def artwork_files(engine: GraphEngine, item_id: str) -> list[str]:
    """The files whose artwork stands for a track, an album or an artist (by id prefix)."""
    if item_id.startswith("trk_"):
        row = await track_file(engine, item_id)
        return [row["path"]] if row and row.get("path") else []
    queries = {
        "alb_": ("album_files", q.ALBUM_FILES_QUERY),
        "art_": ("artist_files", q.ARTIST_FILES_QUERY),
    }
    if item_id[:4] not in queries:
        return []
    name, query = queries[item_id[:4]]
    rows = await engine.read(name, query, {"id": item_id})
    return [row["path"] for row in rows]
