"""Decoding with PyAV (FFmpeg, bundled in its wheel): every common format, in blocks, with
caps on what a file may cost.

A file is demuxed and decoded one packet at a time; each block is resampled to the
analysis rate (FFmpeg's swresample) and copied into a buffer sized once, up front, from
the caps: at most `max_seconds` of audio and `MAX_SAMPLES` samples over all channels.
Past the cap the rest of the file is demuxed but not decoded, which is cheap, so that the
true duration is still known (and a truncated file still found). A decode bomb, a small
file that decodes to hours of samples (a 110 KB FLAC of a constant signal is 10 minutes),
therefore costs at most the buffer, never memory in proportion to its decoded length.

FFmpeg is lenient where a worker should not be: it decodes a half-copied file as a
shorter one. The checks here compare what was decoded with what the container declared
(FLAC's STREAMINFO, an MP3's Xing header, the MP4 sample table), and look at the end of
WAV and Ogg files, so that a half-copied upload fails as INVALID_AUDIO instead of being
catalogued with the features of its first half.
"""

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt

from workers.audio_format import (
    MAX_SECONDS,
    READABLE,
    AnalysisError,
    AnalysisErrorCode,
    ogg_truncated,
    sniff_format,
    wav_truncated,
)

# Two channels of MAX_SECONDS at 22,050 Hz: 106 MB of float32. More channels than two
# shorten the analysed stretch rather than grow the buffer.
MAX_SAMPLES = 2 * 600 * 22050
MAX_CHANNELS = 16
# Decoded duration below this share of the declared one (less a little codec padding)
# means the file stops part-way.
_WHOLE_SHARE, _PADDING_SECONDS = 0.98, 0.1
_DECODER_ERRORS = (av.error.FFmpegError, ValueError, RuntimeError, OSError)


@dataclass(frozen=True)
class Decoded:
    """`channels` holds at most the caps' worth of audio from the start of the file;
    `duration_seconds` is the whole file's."""

    channels: npt.NDArray[np.float32]  # channels x samples, at `sr`
    sr: int
    source_sr: int
    format: str | None
    duration_seconds: float
    capped: bool


@dataclass(frozen=True)
class Checked:
    """A trial decode's verdict: the format and the duration, no samples kept."""

    format: str
    duration_seconds: float


def _open(file: Path) -> tuple[str | None, Any]:
    if file.stat().st_size == 0:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file is empty.")
    kind = sniff_format(file)
    if kind is not None and kind not in READABLE:
        raise AnalysisError(AnalysisErrorCode.UNSUPPORTED_FORMAT, format=kind)
    try:
        container = av.open(str(file))
    except _DECODER_ERRORS as e:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, reason=str(e), format=kind) from e
    return kind, container


def _audio_stream(container: Any, kind: str | None) -> Any:
    streams = container.streams.audio
    if not streams:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file holds no audio.")
    stream = streams[0]
    if stream.codec_context is None or not stream.codec_context.sample_rate:
        codec = getattr(stream.codec_context, "name", None)
        raise AnalysisError(AnalysisErrorCode.UNSUPPORTED_FORMAT, format=kind, codec=codec)
    return stream


def _declared_seconds(container: Any, stream: Any) -> float | None:
    """The duration the container claims, if it claims one."""
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return float(container.duration / av.time_base)
    return None


def _frames(container: Any, stream: Any) -> Iterator[Any]:
    """Decoded frames, one packet at a time (FFmpeg holds no more than a packet's worth)."""
    for packet in container.demux(stream):
        yield from packet.decode()


def _check_whole(file: Path, kind: str | None, seconds: float, declared: float | None) -> None:
    truncated = declared is not None and seconds < _WHOLE_SHARE * declared - _PADDING_SECONDS
    truncated |= kind == "wav" and wav_truncated(file)
    truncated |= kind in ("ogg", "opus") and ogg_truncated(file)
    if truncated:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file is truncated.", format=kind)


def _rest_seconds(container: Any, stream: Any) -> float:
    """The duration of the packets not yet read, demuxed without decoding."""
    total = 0.0
    for packet in container.demux(stream):
        if packet.duration and packet.time_base is not None:
            total += float(packet.duration * packet.time_base)
    return total


def decode(path: str | os.PathLike[str], sr: int, max_seconds: float = MAX_SECONDS) -> Decoded:
    """All channels of `path` at `sr` Hz, float32, the first `max_seconds` (and at most
    MAX_SAMPLES over all channels) of it. Raises AnalysisError: INVALID_AUDIO for an
    empty, undecodable or truncated file, UNSUPPORTED_FORMAT for audio whose codec has no
    decoder. A missing file is not an audio problem: FileNotFoundError propagates."""
    file = Path(path)
    kind, container = _open(file)
    with container:
        stream = _audio_stream(container, kind)
        source_sr = int(stream.codec_context.sample_rate)
        declared = _declared_seconds(container, stream)
        count = min(max(1, stream.codec_context.channels), MAX_CHANNELS)
        seconds = min(max_seconds, MAX_SAMPLES / (count * sr))
        buffer = np.zeros((count, math.ceil(seconds * sr)), dtype=np.float32)
        resampler = av.AudioResampler(format="fltp", rate=sr)
        filled, decoded_seconds, capped = 0, 0.0, False
        try:
            for frame in _frames(container, stream):
                decoded_seconds += frame.samples / frame.sample_rate
                for block in resampler.resample(frame):
                    filled = _copy(buffer, block, filled)
                if filled >= buffer.shape[1]:
                    capped = True
                    break
            if capped:
                decoded_seconds += _rest_seconds(container, stream)
            else:
                for block in resampler.resample(None):
                    filled = _copy(buffer, block, filled)
        except _DECODER_ERRORS as e:
            raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, reason=str(e), format=kind) from e
    _check_whole(file, kind, decoded_seconds, declared)
    if filled == 0:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file holds no audio.")
    channels = buffer[:, :filled]
    if not np.isfinite(channels).all():
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The samples are not finite.")
    # Past the cap, packet durations can miss a little (codec delay, a packet without
    # one): the container's own claim, when it has one, is then the better figure.
    whole = declared if capped and declared is not None else decoded_seconds
    return Decoded(channels, sr, source_sr, kind, whole, capped)


def _copy(buffer: npt.NDArray[np.float32], block: Any, filled: int) -> int:
    """Copy one resampled block into `buffer` from column `filled`, as much as fits."""
    samples = block.to_ndarray()  # (channels, samples), planar float
    room = buffer.shape[1] - filled
    take = min(room, samples.shape[1])
    rows = min(buffer.shape[0], samples.shape[0])
    buffer[:rows, filled : filled + take] = samples[:rows, :take]
    return int(filled + take)


def check(path: str | os.PathLike[str], *, full: bool = True) -> Checked:
    """A trial decode that keeps no samples: the format and duration of whole, readable
    audio, or AnalysisError as `decode` raises it. `full=False` decodes only the first
    blocks (a library scan, whose analysis job decodes every file anyway)."""
    file = Path(path)
    kind, container = _open(file)
    if kind is None:
        container.close()
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO)
    with container:
        stream = _audio_stream(container, kind)
        declared = _declared_seconds(container, stream)
        seconds, finite, blocks = 0.0, True, 0
        try:
            for frame in _frames(container, stream):
                seconds += frame.samples / frame.sample_rate
                finite = finite and bool(np.isfinite(frame.to_ndarray()).all())
                blocks += 1
                if not full and blocks >= 8:
                    break
        except _DECODER_ERRORS as e:
            raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, reason=str(e), format=kind) from e
    if seconds == 0:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The file holds no audio.")
    if not finite:
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The samples are not finite.")
    if not full:
        return Checked(kind, declared if declared is not None else seconds)
    _check_whole(file, kind, seconds, declared)
    return Checked(kind, seconds)
