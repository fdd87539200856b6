"""Transcoding with PyAV (FFmpeg's libraries, no ffmpeg binary): a transcode is sent
as it is produced, at most `concurrency` run at once per process, and a finished one is
kept in a cache folder (content-addressed by source, format and bit rate) so the next
request is a plain file with Range support.

The encoder runs in a thread; the bytes it muxes go through a small bounded queue to the
response, so a slow client slows the encoder instead of growing memory, and a client
that goes away stops it.
"""

import asyncio
import contextlib
import hashlib
import logging
import os
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("apollonia.transcode")


@dataclass(frozen=True)
class Format:
    container: str
    codec: str
    media_type: str
    rate: int
    suffix: str


FORMATS: dict[str, Format] = {
    "opus": Format("ogg", "libopus", "audio/ogg", 48_000, "opus"),
    "mp3": Format("mp3", "libmp3lame", "audio/mpeg", 44_100, "mp3"),
    "aac": Format("adts", "aac", "audio/aac", 44_100, "aac"),
}
DEFAULT_KBPS = {"opus": 128, "mp3": 192, "aac": 160}
MIN_KBPS, MAX_KBPS = 32, 320
CHUNK_QUEUE = 16  # chunks of about 4-32 kB in flight between encoder and response
_DONE = object()


class TranscodeBusy(Exception):
    """Every transcode slot stayed taken for the whole wait."""


class _Cancelled(Exception):
    pass


class _Sink:
    """The file object PyAV muxes into: each write goes to the response's queue and,
    for a cacheable transcode, to the cache file being written."""

    def __init__(self, chunks: "queue.Queue[object]", cancelled: threading.Event) -> None:
        self.chunks = chunks
        self.cancelled = cancelled
        self.file: object = None

    def write(self, data: bytes) -> int:
        while True:
            if self.cancelled.is_set():
                raise _Cancelled
            try:
                self.chunks.put(bytes(data), timeout=0.5)
                return len(data)
            except queue.Full:
                continue


def bit_rate(fmt: str, max_bit_rate: int | None) -> int:
    """kbit/s to encode at: the client's cap when it gives one (0 means none)."""
    if not max_bit_rate:
        return DEFAULT_KBPS[fmt]
    return max(MIN_KBPS, min(MAX_KBPS, max_bit_rate, DEFAULT_KBPS[fmt] * 2))


def encode(source: str, fmt: str, kbps: int, offset: float, out: object) -> None:
    """Decode `source` from `offset` seconds and encode it to `fmt` into `out` (a path or
    a file object with `write`)."""
    import av  # here, not at import: the API process loads FFmpeg on its first transcode

    spec = FORMATS[fmt]
    with av.open(source) as inp:
        audio = inp.streams.audio[0]
        if offset > 0:
            inp.seek(int(offset * 1_000_000), any_frame=False)  # in AV_TIME_BASE units
        with av.open(out, mode="w", format=spec.container) as output:
            layout = "stereo" if (audio.channels or 2) >= 2 else "mono"
            stream = output.add_stream(spec.codec, rate=spec.rate, layout=layout)
            assert isinstance(stream, av.AudioStream)
            stream.bit_rate = kbps * 1000
            resampler = av.AudioResampler(
                format=stream.codec_context.format, layout=layout, rate=spec.rate
            )
            for frame in inp.decode(audio):
                if (
                    offset > 0
                    and frame.time is not None
                    and frame.time + (frame.samples / (frame.sample_rate or 1)) < offset
                ):
                    continue  # seek lands on a keyframe before the offset
                frame.pts = None
                for resampled in resampler.resample(frame):
                    for packet in stream.encode(resampled):
                        output.mux(packet)
            for resampled in resampler.resample(None):
                for packet in stream.encode(resampled):
                    output.mux(packet)
            for packet in stream.encode(None):
                output.mux(packet)


class Transcoder:
    """Transcodes for one process: the cache folder and the concurrency bound."""

    def __init__(self, cache_dir: Path, concurrency: int, wait_seconds: float = 10.0) -> None:
        self.cache_dir = cache_dir
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.wait_seconds = wait_seconds
        self.running = 0

    def cache_path(self, source_key: str, fmt: str, kbps: int) -> Path:
        digest = hashlib.sha256(f"{source_key}:{fmt}:{kbps}".encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.{FORMATS[fmt].suffix}"

    def cached(self, source_key: str, fmt: str, kbps: int) -> Path | None:
        path = self.cache_path(source_key, fmt, kbps)
        return path if path.is_file() else None

    async def stream(
        self, source: str, source_key: str, fmt: str, kbps: int, offset: float
    ) -> AsyncIterator[bytes]:
        """Acquire a slot (TranscodeBusy after the wait), then yield the transcode's bytes
        as they are produced. A whole transcode from the start is kept in the cache."""
        try:
            await asyncio.wait_for(self.slots.acquire(), self.wait_seconds)
        except TimeoutError:
            raise TranscodeBusy from None
        return self._run(source, source_key, fmt, kbps, offset)

    async def _run(
        self, source: str, source_key: str, fmt: str, kbps: int, offset: float
    ) -> AsyncIterator[bytes]:
        chunks: queue.Queue[object] = queue.Queue(maxsize=CHUNK_QUEUE)
        cancelled = threading.Event()
        sink = _Sink(chunks, cancelled)
        target = self.cache_path(source_key, fmt, kbps) if offset <= 0 else None
        partial = target.with_suffix(f".{os.getpid()}.{id(sink)}.part") if target else None

        def work() -> None:
            cache = None
            try:
                if partial is not None:
                    partial.parent.mkdir(parents=True, exist_ok=True)
                    cache = partial.open("wb")
                    tee = _Tee(sink, cache)
                    encode(source, fmt, kbps, offset, tee)
                else:
                    encode(source, fmt, kbps, offset, sink)
                if cache is not None and target is not None and partial is not None:
                    cache.close()
                    cache = None
                    partial.replace(target)
            except _Cancelled:
                pass
            except Exception:
                log.exception("transcode failed")
            finally:
                if cache is not None:
                    cache.close()
                if partial is not None:
                    with contextlib.suppress(FileNotFoundError):
                        partial.unlink()
                with contextlib.suppress(queue.Full):
                    chunks.put(_DONE, timeout=1.0)

        self.running += 1
        thread = threading.Thread(target=work, name="transcode", daemon=True)
        thread.start()
        try:
            while True:
                item = await asyncio.to_thread(chunks.get)
                if item is _DONE:
                    break
                assert isinstance(item, bytes)
                yield item
        finally:
            cancelled.set()
            with contextlib.suppress(queue.Empty):
                while True:
                    chunks.get_nowait()  # unblock a writer waiting on a full queue
            self.running -= 1
            self.slots.release()


class _Tee:
    def __init__(self, sink: _Sink, cache: object) -> None:
        self.sink = sink
        self.cache = cache

    def write(self, data: bytes) -> int:
        self.cache.write(data)  # type: ignore[attr-defined]
        return self.sink.write(data)
