"""Decoding: what a file is (from its bytes, not its name), whether it is whole, and its
samples at the analysis rate.

libsndfile (through soundfile) reads WAV, AIFF, FLAC, Ogg Vorbis, Opus and MP3. It is
lenient where a worker should not be: it reads a truncated WAV or Ogg file as a shorter
one, and an MP3 cut short only shows as fewer samples than its Xing header promised. Those
checks are made here, so that a half-copied upload fails as INVALID_AUDIO instead of being
catalogued with the features of its first half.
"""

import os
import struct
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import numpy.typing as npt
import soundfile as sf  # type: ignore[import-untyped]

from music.errors import DomainError

READABLE = frozenset({"wav", "aiff", "flac", "mp3", "mp2", "ogg", "opus"})
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_SNIFF_BYTES = 64


class AnalysisErrorCode(StrEnum):
    INVALID_AUDIO = "INVALID_AUDIO"  # undecodable, truncated, empty, or not audio at all
    SILENT_AUDIO = "SILENT_AUDIO"  # decodes, but there is nothing to analyse
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"  # audio, in a container we cannot read


_MESSAGES = {
    AnalysisErrorCode.INVALID_AUDIO: "The file is not readable audio.",
    AnalysisErrorCode.SILENT_AUDIO: "The audio is silent.",
    AnalysisErrorCode.UNSUPPORTED_FORMAT: "This audio format is not supported.",
}


class AnalysisError(DomainError):
    """Audio that cannot be analysed, with a stable `code` a job can record and a client
    can act on (re-upload, convert, ignore). The message is ours; decoder text goes in
    `details["reason"]` for the log only."""

    def __init__(self, code: AnalysisErrorCode, message: str | None = None, **details: Any):
        super().__init__(message or _MESSAGES[code], **details)
        self.code = code.value


@dataclass(frozen=True)
class Decoded:
    channels: npt.NDArray[np.float32]  # channels x samples, at `sr`
    sr: int
    source_sr: int
    format: str | None


def _id3_end(head: bytes) -> int:
    """Offset just past a leading ID3v2 tag (0 without one): its size is "syncsafe", seven
    bits per byte, plus a 10-byte footer when flag bit 4 is set."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9] & 0x7F
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _mpeg_frame(head: bytes) -> str | None:
    """'mp3' / 'mp2' for an MPEG audio frame header, 'aac' for an ADTS one, else None."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    if layer == 0:
        return "aac" if head[1] & 0xF6 == 0xF0 else None
    if version == 1 or head[2] >> 4 == 0xF or (head[2] >> 2) & 0x3 == 0x3:
        return None  # reserved version, bad bitrate or reserved sample rate
    return "mp3" if layer == 1 else "mp2"


def _sniff_head(head: bytes) -> str | None:
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS" and len(head) > 27:
        packet = head[27 + head[26] :]  # past the page header and its segment table
        if packet.startswith(b"OpusHead"):
            return "opus"
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"  # ISO base media (MP4/M4A); libsndfile reads none of it
    if head[:16] == _ASF_GUID:
        return "wma"
    return _mpeg_frame(head)


def sniff_format(source: str | os.PathLike[str] | bytes) -> str | None:
    """The audio format from the content's first bytes, whatever the name says: "wav",
    "aiff", "flac", "mp3", "mp2", "ogg" (Vorbis or other Ogg audio), "opus", "m4a",
    "aac" (ADTS), "wma", or None for anything else. A leading ID3 tag is skipped (MP3, and
    FLAC files written by careless taggers)."""
    if isinstance(source, bytes):
        head = source[:_SNIFF_BYTES]
        skip = _id3_end(head)
        return _sniff_head(source[skip : skip + _SNIFF_BYTES] if skip else head)
    with open(source, "rb") as f:
        head = f.read(_SNIFF_BYTES)
        skip = _id3_end(head)
        if skip:
            f.seek(skip)
            head = f.read(_SNIFF_BYTES)
    return _sniff_head(head)


def _wav_truncated(path: Path) -> bool:
    """True when the RIFF `data` chunk claims more bytes than the file holds. Streaming
    writers leave 0 or 0xFFFFFFFF as the size (and RF64 keeps it elsewhere): no claim."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if f.read(4) != b"RIFF":
            return False
        f.seek(12)
        while True:
            header = f.read(8)
            if len(header) < 8:
                return False
            chunk, length = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"data":
                return length not in (0, 0xFFFFFFFF) and f.tell() + length > size
            f.seek(length + (length & 1), os.SEEK_CUR)


def _ogg_truncated(path: Path) -> bool:
    """True when the last Ogg page does not close its stream (the end-of-stream flag,
    bit 2 of the header type): the file stops part-way."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 65536))
        tail = f.read()
    last = tail.rfind(b"OggS")
    return last < 0 or last + 5 >= len(tail) or not tail[last + 5] & 0x04


def decode(path: str | os.PathLike[str], sr: int) -> Decoded:
    """All channels of `path` at `sr` Hz, float32. Raises AnalysisError: INVALID_AUDIO for
    an empty, undecodable or truncated file, UNSUPPORTED_FORMAT for audio in a container we
    do not read. A missing file is not an audio problem: FileNotFoundError propagates."""
    file = Path(path)
    if file.stat().st_size == 0:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file is empty.")
    kind = sniff_format(file)
    if kind is not None and kind not in READABLE:
        raise AnalysisError(AnalysisErrorCode.UNSUPPORTED_FORMAT, format=kind)
    try:
        with sf.SoundFile(str(file)) as audio:
            declared, source_sr = audio.frames, int(audio.samplerate)
            data = audio.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as e:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, reason=str(e), format=kind) from e
    truncated = len(data) < declared
    truncated |= kind == "wav" and _wav_truncated(file)
    truncated |= kind in ("ogg", "opus") and _ogg_truncated(file)
    if truncated:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file is truncated.", format=kind)
    if data.size == 0:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file holds no audio.")
    if not np.isfinite(data).all():
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The samples are not finite.")
    channels = np.ascontiguousarray(data.T)
    if source_sr != sr:
        channels = librosa.resample(channels, orig_sr=source_sr, target_sr=sr, res_type="soxr_hq")
    return Decoded(np.asarray(channels, dtype=np.float32), sr, source_sr, kind)
