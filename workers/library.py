"""Library scans: walk a folder under the allowed roots and bring the catalogue in line.

Incremental: a file whose size and mtime match what the catalogue recorded is skipped; a
new or changed one is checked (content sniffing plus a trial decode), its tags read, and
its track created or updated, then queued for analysis; a file that vanished is marked
`missing`, never deleted (a disconnected drive must not empty the catalogue).
Tracks are keyed by path here, unlike uploads (by content): the library is the source.
"""

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from graph import catalog_writes, media
from graph.engine import GraphEngine
from music.errors import DomainError
from workers import ingest, library_scan, webhooks
from workers.jobs import JobContext, handler
from workers.uploads import title_from_name, track_input

log = logging.getLogger("apollonia.library")

Progress = Callable[[int, int], Awaitable[None]]
Enqueue = Callable[[str], Awaitable[Any]]


async def _read(found: library_scan.FoundFile) -> tuple[str, ingest.Tags]:
    # The first block only: the analysis job decodes the whole file (see check_audio).
    fmt = await asyncio.to_thread(ingest.check_audio, found.path, full=False)
    tags = await asyncio.to_thread(ingest.read_tags, found.path, fmt)
    return fmt, tags


def _file_props(found: library_scan.FoundFile, fmt: str) -> dict[str, Any]:
    return {
        "file_path": found.path,
        "file_size": found.size,
        "file_mtime_ns": found.mtime_ns,
        "format": fmt,
        "analysis_status": "QUEUED",
        "missing": False,
    }


async def scan_folder(
    engine: GraphEngine,
    root: Path,
    progress: Progress,
    enqueue: Enqueue,
) -> dict[str, Any]:
    """Scan `root` (already checked with `library_scan.resolve_root`). Only symlinks that
    stay inside `root` are followed, so each file has one path and one track."""
    prefix = str(root).rstrip(os.sep) + os.sep
    rows = await media.files_under(engine, prefix)
    known = {
        path: library_scan.Known(int(r["size"] or -1), int(r["mtime_ns"] or -1), bool(r["missing"]))
        for path, r in rows.items()
    }
    found = await asyncio.to_thread(lambda: list(library_scan.walk(root, [root])))
    plan = library_scan.plan(found, known)
    todo = [*plan.new, *plan.changed]
    summary = {"added": 0, "updated": 0, "unchanged": len(plan.unchanged), "refused": 0}
    refused: list[dict[str, str]] = []
    await progress(0, len(todo))
    for done, item in enumerate(todo, 1):
        try:
            fmt, tags = await _read(item)
            values = track_input(tags, None, title_from_name(item.path))
            if item.path in rows:
                track_id = rows[item.path]["id"]
                props = {k: v for k, v in _file_props(item, fmt).items() if k != "file_path"}
                await media.update_file(engine, item.path, props)
                await catalog_writes.update_track(
                    engine, track_id, {k: v for k, v in values.items() if k != "title"}
                )
                summary["updated"] += 1
            else:
                [track] = await catalog_writes.create_tracks(
                    engine, [{**values, "file_props": _file_props(item, fmt)}]
                )
                track_id = track["id"]
                summary["added"] += 1
            await enqueue(track_id)
        except DomainError as e:
            summary["refused"] += 1
            if len(refused) < 100:
                refused.append({"path": item.path, "code": e.code})
        await progress(done, len(todo))
    summary["missing"] = await media.mark_missing(engine, plan.vanished)
    return {**summary, "refusedFiles": refused}


@handler("scan")
async def scan(ctx: JobContext) -> dict[str, Any]:
    roots = ctx.settings.resolved_scan_roots
    root = library_scan.resolve_root(ctx.job["params"]["path"], roots)
    step = {"last": -1.0}

    async def progress(done: int, total: int) -> None:
        value = done / total if total else 1.0
        if value - step["last"] >= 0.05 or done == total:
            step["last"] = value
            await ctx.progress(value, f"{done}/{total} files")

    async def enqueue(track_id: str) -> None:
        await ctx.queue.submit(
            ctx.engine, "analyze", {"trackId": track_id}, ctx.job["owner_id"], track_id
        )

    summary = await scan_folder(ctx.engine, root, progress, enqueue)
    await webhooks.notify(ctx, summary)
    return summary
