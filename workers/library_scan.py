"""Walking a music folder on the server's disk: only inside the folders an operator allowed,
and incrementally, so a rescan of a large library only re-reads what changed.

A path comes from a client, so it is checked before anything touches the disk beyond
`realpath`: no `..`, absolute only, and inside an allowed root once every symlink is
resolved. The walk holds to the same rule for each symlink it meets.
"""

import logging
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Any

from music.errors import DomainError, ValidationError

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = frozenset(
    {
        ".mp3",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".wav",
        ".m4a",
        ".aiff",
        ".aif",
        ".aifc",
        ".aac",
        ".wma",
    }
)


class ScanErrorCode(StrEnum):
    PATH_NOT_ALLOWED = "PATH_NOT_ALLOWED"  # relative, has "..", or outside every allowed root
    PATH_NOT_FOUND = "PATH_NOT_FOUND"  # inside a root, but nothing is there


_MESSAGES = {
    ScanErrorCode.PATH_NOT_ALLOWED: "The path is not inside an allowed library folder.",
    ScanErrorCode.PATH_NOT_FOUND: "The path does not exist.",
}


class ScanPathError(DomainError):
    """A library path the server will not scan, with a stable `code`. The path itself goes
    in `details`, not in the message."""

    def __init__(self, code: ScanErrorCode, message: str | None = None, **details: Any):
        super().__init__(message or _MESSAGES[code], **details)
        self.code = code.value


@dataclass(frozen=True)
class FoundFile:
    path: str  # realpath
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Known:
    """What the catalogue holds for one path: its last seen size and mtime, and whether a
    previous scan already found it missing."""

    size: int
    mtime_ns: int
    missing: bool = False


@dataclass(frozen=True)
class ScanPlan:
    """What a scan has to do. `changed` holds every file to re-read: modified ones and the
    `returned` ones (marked missing before, found again; the caller also clears their flag),
    whose content may differ from what was catalogued. `vanished` are known paths not
    found now and not already marked missing."""

    new: list[FoundFile] = field(default_factory=list)
    changed: list[FoundFile] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


def _real_roots(allowed_roots: Sequence[Path]) -> list[Path]:
    return [Path(os.path.realpath(root)) for root in allowed_roots]


def _inside(real: str | Path, roots: Sequence[Path]) -> bool:
    """By path components, so /music2 is not inside /music."""
    return any(Path(real).is_relative_to(root) for root in roots)


def resolve_root(path: str, allowed_roots: Sequence[Path]) -> Path:
    """The real directory a client asked to scan, or ScanPathError / ValidationError.

    PATH_NOT_ALLOWED: not absolute, any `..` component, or not inside one of
    `allowed_roots` after every symlink is resolved (on both sides). PATH_NOT_FOUND: inside
    a root but absent. VALIDATION_ERROR: a file rather than a directory, or a NUL byte.
    Containment is decided before existence, so the error never tells a client whether a
    path outside the roots exists."""
    if "\x00" in path:
        raise ValidationError("The path is not valid.", field="path")
    pure = PurePath(path)
    if not pure.is_absolute() or ".." in pure.parts:
        raise ScanPathError(ScanErrorCode.PATH_NOT_ALLOWED, path=path)
    real = Path(os.path.realpath(path))
    if not _inside(real, _real_roots(allowed_roots)):
        raise ScanPathError(ScanErrorCode.PATH_NOT_ALLOWED, path=path)
    if not real.exists():
        raise ScanPathError(ScanErrorCode.PATH_NOT_FOUND, path=path)
    if not real.is_dir():
        raise ValidationError("The path is not a folder.", field="path", path=path)
    return real


def walk(root: Path, allowed_roots: Sequence[Path]) -> Iterator[FoundFile]:
    """Every audio file (by extension) under `root`, by real path, each once, in a stable
    order. Hidden entries (".git", macOS "._x.mp3" forks) are skipped. A symlink is followed
    only when its target is inside an allowed root, and a directory already visited is not
    entered again, so a link cycle ends. Entries that vanish or cannot be read mid-walk are
    skipped: a scan reports what it could see."""
    roots = _real_roots(allowed_roots)
    start = os.path.realpath(root)
    if not _inside(start, roots):
        raise ScanPathError(ScanErrorCode.PATH_NOT_ALLOWED, path=str(root))
    pending, seen_dirs, seen_files = [start], set[tuple[int, int]](), set[str]()
    while pending:
        folder = pending.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen_dirs:
                continue
            seen_dirs.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            log.info("cannot read folder %s", folder, exc_info=True)
            continue
        subfolders: list[str] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = entry.path
            try:
                if entry.is_symlink():
                    path = os.path.realpath(path)
                    if not _inside(path, roots):
                        continue
                info = os.stat(path)
            except OSError:  # gone since scandir, or a broken link
                continue
            if stat.S_ISDIR(info.st_mode):
                subfolders.append(path)
            elif (
                stat.S_ISREG(info.st_mode)
                and os.path.splitext(path)[1].lower() in AUDIO_EXTENSIONS
                and path not in seen_files
            ):
                seen_files.add(path)
                yield FoundFile(path, info.st_size, info.st_mtime_ns)
        pending.extend(reversed(subfolders))  # popped in name order


def plan(found: Iterable[FoundFile], known: Mapping[str, Known]) -> ScanPlan:
    """Sort what a walk found against what the catalogue `known`s about the same root:
    `new` (not known), `changed` (size or mtime differ, or `returned`), `unchanged` (same
    size and mtime_ns: not worth re-reading), and `vanished` (known, present before, not
    found now). Only `new` and `changed` cost a decode."""
    result = ScanPlan()
    present: set[str] = set()
    for file in found:
        if file.path in present:
            continue
        present.add(file.path)
        before = known.get(file.path)
        if before is None:
            result.new.append(file)
        elif before.missing:
            result.returned.append(file.path)
            result.changed.append(file)
        elif (before.size, before.mtime_ns) != (file.size, file.mtime_ns):
            result.changed.append(file)
        else:
            result.unchanged.append(file.path)
    result.vanished.extend(
        sorted(path for path, k in known.items() if not k.missing and path not in present)
    )
    return result
