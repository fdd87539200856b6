"""From received bytes or a library file to a catalogued track.

An upload has to be received in the request that carries it, so this runs in the API
process: stream to a temp file (size-capped, hashed), check the content is audio we can
decode, read its tags, store it content-addressed, then create the track in one write.
Any failure before the write removes the temp file; a failed write removes a stored file
that no other track uses. The same bytes uploaded twice are one track.
"""

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from graph import catalog_writes, media
from graph.engine import GraphEngine, Row
from music.errors import ConflictError, ValidationError
from music.text import clean_text
from workers import ingest

_TITLE_JUNK = re.compile(r"[_]+")


def track_input(
    tags: ingest.Tags, metadata: Mapping[str, Any] | None, fallback_title: str
) -> dict[str, Any]:
    """Track fields from the file's tags, overridden by what the client gave. A tag that
    would not pass validation (a zero year, a 500-character title) is dropped: files
    carry junk, and junk in a tag must not refuse the upload. The client's metadata is
    validated strictly by the caller."""
    found: dict[str, Any] = {
        "title": tags.title,
        "artist_names": list(tags.artists or ([tags.album_artist] if tags.album_artist else [])),
        "album_title": tags.album,
        "album_artist_name": tags.album_artist if tags.album else None,
        "genres": [tags.genre] if tags.genre else None,
        "year": tags.year,
        "track_number": tags.track_number,
        "disc_number": tags.disc_number,
        "duration": round(tags.duration_seconds, 3) if tags.duration_seconds else None,
    }
    values: dict[str, Any] = {"title": fallback_title or "Untitled"}
    for name, value in found.items():
        if value in (None, []):
            continue
        try:
            catalog_writes.validate_track_input({"title": "x", name: value})
        except ValidationError:
            continue
        values[name] = value
    for name, value in (metadata or {}).items():
        if value is not None:
            values[name] = value
    return values


def title_from_name(filename: str | None) -> str:
    """A readable title from a file name (`01_my_song.mp3` -> `01 my song`); control
    characters are cleaned as in tags, not refused."""
    stem = clean_text(Path(filename or "").stem)
    return _TITLE_JUNK.sub(" ", stem).strip()[:200]


async def ingest_upload(
    engine: GraphEngine,
    chunks: AsyncIterator[bytes],
    filename: str | None,
    metadata: Mapping[str, Any] | None,
    media_dir: Path,
    max_bytes: int,
) -> tuple[Row, bool]:
    """The track for an uploaded file and whether it was created (False: the same bytes
    were uploaded before). Raises IngestError (INVALID_AUDIO, UNSUPPORTED_FORMAT,
    FILE_TOO_LARGE) or ValidationError, leaving no file and no node behind."""
    staged = await ingest.receive(chunks, media_dir, max_bytes)
    try:
        fmt = await asyncio.to_thread(ingest.check_audio, staged.path)
        existing = await media.track_by_hash(engine, staged.sha256)
        if existing is not None:
            return existing, False
        tags = await asyncio.to_thread(ingest.read_tags, staged.path, fmt)
        values = track_input(tags, metadata, title_from_name(filename))
        # Validate before the file moves into the store: bad metadata leaves nothing.
        catalog_writes.validate_track_input(values)
        stored = await asyncio.to_thread(ingest.commit, staged, media_dir, fmt)
    finally:
        ingest.discard(staged)
    file_props = {
        "file_path": str(stored.path),
        "content_hash": stored.sha256,
        "file_size": stored.size,
        "format": stored.format,
        "analysis_status": "QUEUED",
        "missing": False,
    }
    try:
        [track] = await catalog_writes.create_tracks(engine, [{**values, "file_props": file_props}])
    except ConflictError:
        # The same bytes, uploaded at the same moment by another request: it won.
        winner = await media.track_by_hash(engine, stored.sha256)
        if winner is None:
            raise
        return winner, False
    except BaseException:
        if await _unused(engine, stored.sha256):
            with contextlib.suppress(OSError):
                os.unlink(stored.path)
        raise
    return track, True


async def _unused(engine: GraphEngine, sha256: str) -> bool:
    try:
        return await media.track_by_hash(engine, sha256) is None
    except Exception:
        return False  # cannot tell: keep the file (a stray file beats a lost one)
