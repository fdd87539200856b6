"""What an audio file is, from its bytes and never its name, whether its container says it
is whole, and the errors and caps of decoding it. No decoder here and nothing heavy to
import: the API process sniffs uploads with it, and the decoder (`workers._audio_decode`,
PyAV) does the rest in a worker or an upload's thread.
"""

import os
import struct
from enum import StrEnum
from pathlib import Path
from typing import Any

from music.errors import DomainError

# Everything sniff_format names is decoded by FFmpeg (PyAV's wheel bundles it): a file is
# UNSUPPORTED_FORMAT only when its codec has no decoder there.
READABLE = frozenset({"wav", "aiff", "flac", "mp3", "mp2", "ogg", "opus", "m4a", "aac", "wma"})
# What one file may cost the analysis: the first APOLLONIA_ANALYSIS_MAX_SECONDS of it.
MAX_SECONDS = float(os.environ.get("APOLLONIA_ANALYSIS_MAX_SECONDS", "600"))
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_SNIFF_BYTES = 64


class AnalysisErrorCode(StrEnum):
    INVALID_AUDIO = "INVALID_AUDIO"  # undecodable, truncated, empty, or not audio at all
    SILENT_AUDIO = "SILENT_AUDIO"  # decodes, but there is nothing to analyse
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"  # audio whose codec has no decoder here


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
        return "m4a"  # ISO base media (MP4/M4A)
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


def wav_truncated(path: Path) -> bool:
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


def ogg_truncated(path: Path) -> bool:
    """True when the last Ogg page does not close its stream (the end-of-stream flag,
    bit 2 of the header type): the file stops part-way."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 65536))
        tail = f.read()
    last = tail.rfind(b"OggS")
    return last < 0 or last + 5 >= len(tail) or not tail[last + 5] & 0x04
