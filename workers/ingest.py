"""One audio file into the media store: receive the bytes, check they are whole audio we can
read, read their tags, and file them under their own hash.

The steps are separate so the caller decides where each runs (receive in the event loop,
the CPU-bound check in a thread) and so that one failure path serves them all:

    staged = await receive(request.stream(), media_dir, max_bytes)
    try:
        fmt = await asyncio.to_thread(check_audio, staged.path)
        tags = read_tags(staged.path, fmt)
        stored = commit(staged, media_dir, fmt)
    except BaseException:
        discard(staged)
        raise

Bytes are staged in `media_dir/.incoming/`, on the same filesystem as the store, so the
final `os.replace` is atomic: a reader sees a whole file under its hash or nothing.
"""

import asyncio
import hashlib
import logging
import math
import os
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import mutagen
from mutagen.aac import AAC
from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.easymp4 import EasyMP4
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.mp3 import EasyMP3
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from music.errors import DomainError
from music.text import clean_text
from workers.audio_format import READABLE, AnalysisError

log = logging.getLogger(__name__)

INCOMING = ".incoming"
_WRITE_BYTES = 1 << 20  # gather small network chunks into 1 MiB writes: fewer thread hops


class IngestErrorCode(StrEnum):
    INVALID_AUDIO = "INVALID_AUDIO"  # empty, not audio, undecodable or truncated
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"  # audio, in a container we cannot read
    FILE_TOO_LARGE = "FILE_TOO_LARGE"  # more bytes than the upload limit


_MESSAGES = {
    IngestErrorCode.INVALID_AUDIO: "The file is not readable audio.",
    IngestErrorCode.UNSUPPORTED_FORMAT: "This audio format is not supported.",
    IngestErrorCode.FILE_TOO_LARGE: "The file is too large.",
}


class IngestError(DomainError):
    """An upload the store refuses, with a stable `code` the client can act on (convert,
    re-upload, shrink). Messages are ours; decoder text goes in `details["reason"]`."""

    def __init__(self, code: IngestErrorCode, message: str | None = None, **details: Any):
        super().__init__(message or _MESSAGES[code], **details)
        self.code = code.value


@dataclass(frozen=True)
class StagedFile:
    """Bytes received but not yet in the store: a temp file and what it hashes to."""

    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    path: Path
    size: int
    format: str


@dataclass(frozen=True)
class Tags:
    """What the file says about itself; every field may be absent."""

    title: str | None = None
    artists: tuple[str, ...] = ()
    album: str | None = None
    album_artist: str | None = None
    genre: str | None = None
    year: int | None = None
    track_number: int | None = None
    disc_number: int | None = None
    duration_seconds: float | None = None


async def receive(chunks: AsyncIterator[bytes], media_dir: Path, max_bytes: int) -> StagedFile:
    """Stream an upload to a temp file in `media_dir/.incoming/`, hashing as it arrives, so
    the body is never held in memory and the hash costs no second read. Past `max_bytes`
    reading stops and FILE_TOO_LARGE is raised; on that or any other failure (a client that
    disconnects, a cancelled task) the temp file is gone."""
    incoming = media_dir / INCOMING
    await asyncio.to_thread(incoming.mkdir, parents=True, exist_ok=True)
    # Creating and removing the temp file stay inline (quick metadata operations): no
    # cancellation can then fall between the file existing and the cleanup owning it.
    fd, name = tempfile.mkstemp(dir=incoming, suffix=".part")
    path = Path(name)
    digest, size, pending = hashlib.sha256(), 0, bytearray()
    try:
        with open(fd, "wb") as out:  # noqa: ASYNC230 (an fd: nothing to block on)
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    if isinstance(chunks, AsyncGenerator):
                        await chunks.aclose()
                    raise IngestError(IngestErrorCode.FILE_TOO_LARGE, max_bytes=max_bytes)
                digest.update(chunk)
                pending += chunk
                if len(pending) >= _WRITE_BYTES:
                    await asyncio.to_thread(out.write, bytes(pending))
                    pending.clear()
            await asyncio.to_thread(_finish, out, bytes(pending))
    except BaseException:
        path.unlink(missing_ok=True)  # noqa: ASYNC240
        raise
    return StagedFile(path, digest.hexdigest(), size)


def _finish(out: BinaryIO, tail: bytes) -> None:
    """The last write and an fsync, so a crash after the rename cannot leave an empty file
    under a hash."""
    out.write(tail)
    out.flush()
    os.fsync(out.fileno())


def check_audio(path: str | os.PathLike[str], *, full: bool = True) -> str:
    """The format of `path` ("wav", "flac", "mp3", "m4a", ...), judged by its bytes, once a
    full trial decode has shown it is whole audio we can read; else IngestError. CPU-bound
    (it decodes the file, one block at a time, keeping no samples): run it in a thread.

    `full=False` decodes only the first blocks: for a library scan, where the analysis job
    decodes every file anyway (and marks a bad one FAILED with its code), a second full
    decode at scan time would double the work for no gain.

    INVALID_AUDIO: empty, not audio (a text file renamed .mp3), undecodable, truncated (less
    audio than the container declares, a WAV data chunk longer than the file, an Ogg stream
    with no end), no samples, or non-finite samples. UNSUPPORTED_FORMAT: audio we recognise
    but whose codec FFmpeg cannot decode."""
    # PyAV loads FFmpeg's libraries: imported here, in the upload's thread, so that the
    # API process pays for it on its first upload and not at start-up.
    from workers._audio_decode import check

    try:
        return check(path, full=full).format
    except AnalysisError as e:
        raise IngestError(IngestErrorCode(e.code), e.message, **e.details) from e


# The easy (key = "title", "artist", ...) reader for each format, so a staged ".part" file
# is not guessed by its name. WAV and AIFF carry raw ID3 frames, mapped below.
_READERS: dict[str, list[Any]] = {
    "mp3": [EasyMP3],
    "mp2": [EasyMP3],
    "flac": [FLAC],
    "ogg": [OggVorbis, OggFLAC, OggSpeex],
    "opus": [OggOpus],
    "wav": [WAVE],
    "aiff": [AIFF],
    "m4a": [EasyMP4],
    "aac": [AAC],
    "wma": [ASF],
}
_ID3_FRAMES = {
    "TIT2": "title",
    "TPE1": "artist",
    "TALB": "album",
    "TPE2": "albumartist",
    "TCON": "genre",
    "TDRC": "date",
    "TRCK": "tracknumber",
    "TPOS": "discnumber",
}
# "A feat. B", "A (feat. B)", "A ft. B", "A featuring B", "A; B", "A / B". Not "&" or ",":
# too many single acts have them in their names.
_ARTIST_SPLIT = re.compile(r"\s*(?:;|\s/\s|[(\[]?\b(?:feat\.?|ft\.|featuring)\s)\s*", re.I)
_LEADING_NUMBER = re.compile(r"\s*(\d+)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_MAX_NUMBER = 9999  # a larger track or disc number is garbage, not a box set


def read_tags(path: str | os.PathLike[str], fmt: str) -> Tags:
    """The file's own tags (ID3, Vorbis comments, ...) as a `Tags`, for a first catalogue
    entry the user can correct. Tags are untrusted input: anything unreadable is left out,
    and a tag block mutagen cannot parse gives empty Tags (with the decoder's duration), so
    a bad tag never fails an upload."""
    try:
        audio = mutagen.File(os.fspath(path), options=_READERS.get(fmt), easy=True)
    except Exception:  # a tag parser on hostile bytes can fail in any way
        log.info("unreadable tags in %s", path, exc_info=True)
        audio = None
    fields = _fields(audio.tags) if audio is not None and audio.tags is not None else {}
    duration = getattr(getattr(audio, "info", None), "length", None)
    if not isinstance(duration, int | float) or not math.isfinite(duration) or duration <= 0:
        duration = _decoder_duration(path)
    artists = _artists(fields.get("artist", []))
    return Tags(
        title=_first(fields.get("title")),
        artists=artists,
        album=_first(fields.get("album")),
        album_artist=_first(_any(fields, "albumartist", "album artist", "album_artist")),
        genre=_first(fields.get("genre")),
        year=_year(_any(fields, "date", "year", "originaldate")),
        track_number=_number(_any(fields, "tracknumber", "track")),
        disc_number=_number(_any(fields, "discnumber", "disc")),
        duration_seconds=float(duration) if duration is not None else None,
    )


def _fields(tags: Any) -> dict[str, list[str]]:
    """Tag values by lower-case easy key, every value a string."""
    out: dict[str, list[str]] = {}
    try:
        if isinstance(tags, ID3):
            _id3_fields(tags, out)
        else:
            for key, values in tags.items():
                out.setdefault(str(key).lower(), []).extend(str(v) for v in values)
    except Exception:
        log.info("unreadable tag values", exc_info=True)
    return out


def _id3_fields(tags: Any, out: dict[str, list[str]]) -> None:
    for frame_id, key in _ID3_FRAMES.items():
        for frame in tags.getall(frame_id):
            values = frame.genres if frame_id == "TCON" else frame.text
            out.setdefault(key, []).extend(str(v) for v in values)


def _decoder_duration(path: str | os.PathLike[str]) -> float | None:
    """The container's declared duration, read by FFmpeg, when the tags have none."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            micros = container.duration
    except (av.FFmpegError, OSError, ValueError):
        return None
    duration = micros / av.time_base if micros else None
    return duration if duration is not None and math.isfinite(duration) and duration > 0 else None


def _any(fields: dict[str, list[str]], *keys: str) -> list[str]:
    """The values of the first key present: taggers disagree on names."""
    return next((fields[k] for k in keys if fields.get(k)), [])


def _clean(value: str) -> str:
    return clean_text(value).strip()


def _first(values: Iterable[str] | None) -> str | None:
    return next((v for v in map(_clean, values or ()) if v), None)


def _artists(values: Iterable[str]) -> tuple[str, ...]:
    names: list[str] = []
    for value in values:
        for part in _ARTIST_SPLIT.split(_clean(value)):
            for opening, closing in ("()", "[]"):
                if part.endswith(closing) and part.count(opening) < part.count(closing):
                    part = part[:-1].rstrip()
            if part and part not in names:
                names.append(part)
    return tuple(names)


def _number(values: Iterable[str] | None) -> int | None:
    """3 from "3", "03" or "3/12"; None for "", "0", "A1" or an absurd number."""
    match = _LEADING_NUMBER.match(_first(values) or "")
    number = int(match.group(1)) if match else 0
    return number if 0 < number <= _MAX_NUMBER else None


def _year(values: Iterable[str] | None) -> int | None:
    """2019 from "2019", "2019-05-01" or "2019-05-01T10:00:00"."""
    match = _YEAR.search(_first(values) or "")
    year = int(match.group(1)) if match else 0
    return year if year >= 1000 else None


def commit(staged: StagedFile, media_dir: Path, fmt: str) -> StoredFile:
    """Move a checked upload to `media_dir/<sha[:2]>/<sha[2:4]>/<sha>.<ext>`. The name is
    the content's hash, so the same bytes uploaded twice are one file: when it already
    exists the staged copy is dropped and the stored one reused. `os.replace` is atomic,
    so concurrent commits of the same bytes are safe too."""
    if fmt not in READABLE:
        raise ValueError(f"not a storable format: {fmt!r}")  # check_audio never returns it
    sha = staged.sha256
    final = media_dir / sha[:2] / sha[2:4] / f"{sha}.{fmt}"
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.is_file() and final.stat().st_size == staged.size:
        discard(staged)
    else:
        os.chmod(staged.path, 0o644)  # mkstemp makes files private; a stored one is served
        os.replace(staged.path, final)
    return StoredFile(sha, final, staged.size, fmt)


def discard(staged: StagedFile) -> None:
    """Remove the staged temp file; safe to call twice or after `commit`."""
    staged.path.unlink(missing_ok=True)
