"""Every common format decodes (FFmpeg through PyAV), and no file costs more than the caps:
a decode bomb is analysed for its first minutes, in bounded memory, with its true duration
recorded."""

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from tests import audio_fixtures
from workers._audio_decode import check, decode
from workers.analysis import analyze_file, warm_up
from workers.ingest import check_audio

SR = 44100
FORMATS = {
    ".m4a": "m4a",
    ".aac": "aac",
    ".ogg": "ogg",
    ".opus": "opus",
    ".aiff": "aiff",
    ".wma": "wma",
    ".mp3": "mp3",
    ".flac": "flac",
    ".wav": "wav",
}


@pytest.fixture(scope="module", autouse=True)
def _warm() -> Iterator[None]:
    warm_up()
    yield


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Ten seconds of drums and chords (120 BPM, E minor), stereo, in every format, each
    under a name that says nothing."""
    folder = tmp_path_factory.mktemp("formats")
    signal = audio_fixtures.mixture(120.0, "E", "minor", 10.0, SR)
    out = {}
    for suffix in FORMATS:
        made = audio_fixtures.encode(folder / f"x{suffix}", signal, SR, stereo=True)
        out[suffix] = made.rename(folder / f"{made.stem}-{suffix[1:]}.bin")
    return out


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_each_format_is_sniffed_checked_and_analysed(suffix: str, encoded: dict[str, Path]) -> None:
    path = encoded[suffix]
    assert check_audio(path) == FORMATS[suffix]
    decoded = decode(path, 22050)
    assert decoded.channels.shape[0] == 2
    assert decoded.duration_seconds == pytest.approx(10.0, abs=0.1)
    features = analyze_file(path)
    assert abs(features.tempo_bpm - 120.0) < 1.0
    assert (features.key, features.mode) == ("E", "minor")


@pytest.mark.parametrize("suffix", [".m4a", ".aiff", ".opus"])
def test_a_truncated_file_is_invalid(suffix: str, encoded: dict[str, Path], tmp_path: Path) -> None:
    whole = encoded[suffix].read_bytes()
    half = tmp_path / "half.bin"
    half.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(Exception) as caught:
        check(half)
    assert getattr(caught.value, "code", None) == "INVALID_AUDIO"


def _bomb(path: Path, minutes: float) -> Path:
    """A constant signal, written a block at a time: minutes of audio in a few hundred KB."""
    block = np.full(1 << 16, 0.25, dtype=np.float32)
    with sf.SoundFile(str(path), "w", samplerate=SR, channels=1, format="FLAC") as out:
        for _ in range(round(minutes * 60 * SR / block.size)):
            out.write(block)
    return path


def test_a_decode_bomb_is_capped_in_duration_and_memory(tmp_path: Path) -> None:
    """Thirty minutes in ~250 KB (about 7,000:1). Decoded whole at its rate it is 318 MB of
    float32 (the old decoder took that, and more to resample); capped at 10 minutes at the
    analysis rate it is 53 MB, whatever the file's length. The peak is measured in a fresh
    process so that nothing else in the test session moves it."""
    bomb = _bomb(tmp_path / "bomb.flac", 30)
    assert bomb.stat().st_size < 1_000_000
    probe = textwrap.dedent(
        f"""
        import json, resource
        from workers._audio_decode import decode
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        decoded = decode({str(bomb)!r}, 22050)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"grew_mb": (after - before) / 1024, "samples":
            decoded.channels.shape[1], "seconds": decoded.duration_seconds,
            "capped": decoded.capped}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    measured = json.loads(done.stdout)
    assert measured["capped"] is True
    assert measured["samples"] == 600 * 22050  # the first ten minutes, no more
    assert measured["seconds"] == pytest.approx(1800.0, abs=0.5)  # the true length
    assert measured["grew_mb"] < 120, measured


def test_analysis_of_a_long_file_records_its_whole_duration(tmp_path: Path) -> None:
    long = tmp_path / "long.flac"
    signal = audio_fixtures.mixture(120.0, "D", "major", 30.0, SR)
    sf.write(str(long), np.tile(signal, 4), SR)  # two minutes
    features = analyze_file(long, max_seconds=20.0)
    assert features.duration_seconds == pytest.approx(120.0, abs=0.1)
    assert (features.key, features.mode) == ("D", "major")
    assert abs(features.tempo_bpm - 120.0) < 1.0


def test_the_api_process_does_not_load_ffmpeg() -> None:
    """PyAV loads FFmpeg's libraries (tens of MB): only a decode, never an import of the
    app, may bring it in."""
    probe = "import sys, server.app; print('av' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"


def test_a_worker_memory_ceiling_fails_an_allocation_not_the_machine(tmp_path: Path) -> None:
    """Under APOLLONIA_WORKER_MEMORY_MB a capped decode still runs, and an allocation past
    the ceiling raises MemoryError in the process that asked."""
    bomb = _bomb(tmp_path / "bomb.flac", 12)
    probe = textwrap.dedent(
        f"""
        import numpy as np
        from workers.worker import limit_memory
        from workers._audio_decode import decode
        limit_memory(1500)
        print(decode({str(bomb)!r}, 22050).capped)
        try:
            np.ones(400_000_000)  # 3.2 GB
        except MemoryError:
            print("refused")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["True", "refused"]
