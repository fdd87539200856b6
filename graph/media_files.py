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


async def attach_demo_files(engine: GraphEngine, props_by_title: dict[str, Any]) -> list[str]:
    """Give demo tracks without a file theirs (by title); the ids that got one."""
    from graph.catalog_writes import now_ms

    rows = await engine.read("demo_without_file", q.DEMO_WITHOUT_FILE_QUERY, {})
    attached = []
    for row in rows:
        props = props_by_title.get(row["title"])
        if not props:
            continue
        params = {"id": row["id"], "props": props, "now": now_ms()}
        if await engine.write("attach_file", q.ATTACH_FILE_QUERY, params):
            attached.append(row["id"])
    return attached
