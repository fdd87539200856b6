"""What a file is, and what a file that is not analysable audio raises: each case its own
stable code, decided by the content and never by the name."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from music.errors import DomainError
from tests import audio_fixtures
from workers.analysis import AnalysisError, analyze_file, analyze_signal, sniff_format, warm_up

SR = 44100


@pytest.fixture(scope="module", autouse=True)
def _warm() -> Iterator[None]:
    warm_up()  # numba's compilation happens here once, not inside a timed test
    yield


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Ten seconds of drums and chords in every format libsndfile writes, as bytes."""
    folder = tmp_path_factory.mktemp("encoded")
    signal = audio_fixtures.mixture(120.0, "C", "major", 10.0, SR)
    opus_signal = audio_fixtures.mixture(120.0, "C", "major", 10.0, 48000)
    out = {}
    for suffix in ("wav", "flac", "mp3", "ogg"):
        path = audio_fixtures.write(folder / f"x.{suffix}", signal, SR, stereo=True)
        out[suffix] = path.read_bytes()
    out["opus"] = audio_fixtures.write(folder / "x.opus", opus_signal, 48000).read_bytes()
    return out


def _raises(path: Path, code: str) -> AnalysisError:
    with pytest.raises(AnalysisError) as caught:
        analyze_file(path)
    assert caught.value.code == code
    return caught.value


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "ogg", "opus"])
def test_sniff_reads_content_not_names(fmt: str, encoded: dict[str, bytes], tmp_path: Path) -> None:
    disguised = tmp_path / "track.m4a"  # every file wears the wrong name
    disguised.write_bytes(encoded[fmt])
    assert sniff_format(disguised) == fmt
    assert sniff_format(encoded[fmt]) == fmt
    features = analyze_file(disguised)
    assert abs(features.tempo_bpm - 120.0) < 0.5
    assert (features.key, features.mode) == ("C", "major")


def test_sniff_skips_an_id3_tag(encoded: dict[str, bytes], tmp_path: Path) -> None:
    body = b"TIT2" + (9).to_bytes(4, "big") + b"\x00\x00\x03A title" + bytes(1000)
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    tagged = b"ID3\x04\x00\x00" + syncsafe + body + encoded["mp3"]
    assert sniff_format(tagged) == "mp3"
    path = tmp_path / "tagged.bin"
    path.write_bytes(tagged)
    assert sniff_format(path) == "mp3"
    assert analyze_file(path).key == "C"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42", "m4a"),
        (bytes.fromhex("fff15080"), "aac"),
        (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"), "wma"),
        (b"FORM\x00\x00\x10\x00AIFFCOMM", "aiff"),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"Dear diary, today I renamed a text file to .mp3", None),
        (b"", None),
    ],
)
def test_sniff_other_content(head: bytes, expected: str | None) -> None:
    assert sniff_format(head) == expected


@pytest.mark.parametrize("fmt", ["flac", "mp3", "wav", "ogg"])
def test_truncated_file_is_invalid(fmt: str, encoded: dict[str, bytes], tmp_path: Path) -> None:
    whole = encoded[fmt]
    path = tmp_path / f"half.{fmt}"
    path.write_bytes(whole[: len(whole) // 2])
    error = _raises(path, "INVALID_AUDIO")
    assert "truncated" in error.message or "reason" in error.details


def test_corrupt_file_is_invalid(encoded: dict[str, bytes], tmp_path: Path) -> None:
    noise = np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    corrupt = tmp_path / "corrupt.flac"
    corrupt.write_bytes(encoded["flac"][:4096] + noise)  # a FLAC header, then garbage
    _raises(corrupt, "INVALID_AUDIO")
    (tmp_path / "noise.wav").write_bytes(noise)
    _raises(tmp_path / "noise.wav", "INVALID_AUDIO")


def test_zero_length_file_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    error = _raises(tmp_path / "empty.mp3", "INVALID_AUDIO")
    assert isinstance(error, DomainError)


def test_renamed_text_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    path.write_text("Verse 1:\nThese are lyrics, not audio.\n" * 50)
    error = _raises(path, "INVALID_AUDIO")
    assert "lyrics" not in error.message


def test_header_only_wav_is_invalid(encoded: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "header.wav"
    path.write_bytes(encoded["wav"][:44])
    _raises(path, "INVALID_AUDIO")


def test_an_m4a_without_audio_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "song.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42" + bytes(4096))
    error = _raises(path, "INVALID_AUDIO")
    assert error.details["format"] == "m4a"


def test_a_codec_without_a_decoder_is_an_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    path.write_bytes(audio_fixtures.wav_with_codec_tag(0xABCD))  # a tag FFmpeg does not know
    error = _raises(path, "UNSUPPORTED_FORMAT")
    assert error.details["format"] == "wav"


def test_silence_is_silent_audio(tmp_path: Path) -> None:
    silence = np.zeros(5 * SR, dtype=np.float32)
    _raises(audio_fixtures.write(tmp_path / "silence.flac", silence, SR), "SILENT_AUDIO")
    hiss = (1e-5 * np.random.default_rng(1).standard_normal(5 * SR)).astype(np.float32)
    _raises(audio_fixtures.write(tmp_path / "hiss.wav", hiss, SR), "SILENT_AUDIO")


@pytest.mark.parametrize("scale", [1e5, 1e20])
def test_float_samples_far_past_full_scale_are_invalid(tmp_path: Path, scale: float) -> None:
    # A 32-bit float WAV keeps any value: at 1e20 the analysis overflowed float32 and
    # failed deep in numpy (a job retried as transient, then INTERNAL).
    import soundfile as sf  # type: ignore[import-untyped]

    noise = (scale * np.random.default_rng(2).standard_normal(3 * SR)).astype(np.float32)
    path = tmp_path / "loud.wav"
    sf.write(str(path), noise, SR, format="WAV", subtype="FLOAT")
    error = _raises(path, "INVALID_AUDIO")
    assert error.details["peak_db"] > 60
    # A float file a few dB past full scale is audio.
    hot = (2.0 * np.random.default_rng(3).standard_normal(3 * SR)).astype(np.float32)
    sf.write(str(path), hot, SR, format="WAV", subtype="FLOAT")
    assert analyze_file(path).peak_db > 0


def test_too_short_and_non_finite_signals_are_invalid() -> None:
    with pytest.raises(AnalysisError) as caught:
        analyze_signal(np.ones(1000, dtype=np.float32), SR)
    assert caught.value.code == "INVALID_AUDIO"
    nan = audio_fixtures.click_track(120.0, 3.0)
    nan[100] = np.nan
    with pytest.raises(AnalysisError) as caught:
        analyze_signal(nan, 22050)
    assert caught.value.code == "INVALID_AUDIO"


def test_a_missing_file_is_not_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        analyze_file(tmp_path / "nowhere.wav")


def test_a_transposed_array_is_a_caller_bug() -> None:
    stereo = np.zeros((SR, 2), dtype=np.float32)  # (samples, channels): the wrong way round
    with pytest.raises(ValueError):
        analyze_signal(stereo, SR)
