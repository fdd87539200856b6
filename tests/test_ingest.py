"""Getting one file into the media store: real encoded audio, real tags written by mutagen,
real files on disk, and every refusal with its stable code."""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import mutagen
import numpy as np
import pytest
from mutagen.flac import FLAC
from mutagen.id3 import TALB, TCON, TDRC, TIT2, TPE1, TRCK
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from music.errors import DomainError
from tests import audio_fixtures
from workers.ingest import (
    INCOMING,
    IngestError,
    StagedFile,
    Tags,
    check_audio,
    commit,
    discard,
    read_tags,
    receive,
)

SR = 44100
SECONDS = 3.0
OUR_MESSAGES = {
    "The file is not readable audio.",
    "The file is empty.",
    "The file is truncated.",
    "The file holds no audio.",
    "The samples are not finite.",
}


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Three seconds of chords in every format libsndfile writes here, untagged."""
    folder = tmp_path_factory.mktemp("encoded")
    signal = audio_fixtures.chord_progression("A", "minor", SECONDS, SR)
    return {
        fmt: audio_fixtures.write(folder / f"x.{fmt}", signal, SR, stereo=True).read_bytes()
        for fmt in ("wav", "flac", "ogg", "mp3")
    }


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _refused(path: Path, code: str) -> IngestError:
    with pytest.raises(IngestError) as caught:
        check_audio(path)
    assert caught.value.code == code
    assert isinstance(caught.value, DomainError)
    return caught.value


async def _stream(data: bytes, chunk: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        await asyncio.sleep(0)
        yield data[start : start + chunk]


def _stored_files(media_dir: Path) -> list[Path]:
    return [p for p in media_dir.rglob("*") if p.is_file() and INCOMING not in p.parts]


# --- check_audio ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_whole_audio_is_accepted_whatever_its_name(
    fmt: str, encoded: dict[str, bytes], tmp_path: Path
) -> None:
    assert check_audio(_file(tmp_path, "upload.m4a.part", encoded[fmt])) == fmt


def test_zero_length_file_is_invalid(tmp_path: Path) -> None:
    error = _refused(_file(tmp_path, "empty.mp3", b""), "INVALID_AUDIO")
    assert error.message == "The file is empty."


def test_text_renamed_mp3_is_invalid(tmp_path: Path) -> None:
    lyrics = b"Verse 1:\nThese are lyrics, not audio.\n" * 50
    error = _refused(_file(tmp_path, "song.mp3", lyrics), "INVALID_AUDIO")
    assert error.message in OUR_MESSAGES


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "ogg"])
def test_truncated_file_is_invalid(fmt: str, encoded: dict[str, bytes], tmp_path: Path) -> None:
    whole = encoded[fmt]
    error = _refused(_file(tmp_path, f"half.{fmt}", whole[: len(whole) // 2]), "INVALID_AUDIO")
    assert error.message in OUR_MESSAGES


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "ogg"])
def test_a_quick_check_reads_the_start_only(fmt: str, tmp_path: Path) -> None:
    """Scans check the first block; the analysis job decodes the rest (and refuses it)."""
    from tests import audio_fixtures as af

    # 20 s, so that the first block (65,536 frames, 3 s) lies well before the cut.
    long = af.write(tmp_path / f"long.{fmt}", af.click_track(120, seconds=20), 22050)
    whole = long.read_bytes()
    half = _file(tmp_path, f"half.{fmt}", whole[: len(whole) // 2])
    assert check_audio(half, full=False) == fmt
    _refused(half, "INVALID_AUDIO")
    text = _file(tmp_path, "notes.mp3", b"not audio at all\n" * 100)
    with pytest.raises(IngestError):
        check_audio(text, full=False)


def test_corrupt_file_is_invalid_and_decoder_text_stays_in_details(
    encoded: dict[str, bytes], tmp_path: Path
) -> None:
    noise = np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    error = _refused(
        _file(tmp_path, "corrupt.flac", encoded["flac"][:4096] + noise), "INVALID_AUDIO"
    )
    assert error.message in OUR_MESSAGES
    assert error.details["format"] == "flac"


def test_an_m4a_of_junk_is_invalid_and_an_unknown_codec_unsupported(tmp_path: Path) -> None:
    ftyp = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42"
    junk = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    error = _refused(_file(tmp_path, "song.mp3", ftyp + junk), "INVALID_AUDIO")
    assert error.details["format"] == "m4a"
    odd = _file(tmp_path, "odd.wav", audio_fixtures.wav_with_codec_tag(0xABCD))
    assert _refused(odd, "UNSUPPORTED_FORMAT").details["format"] == "wav"


def test_m4a_tags_are_read(tmp_path: Path) -> None:
    path = audio_fixtures.encode(
        tmp_path / "tagged.m4a", audio_fixtures.click_track(120.0, 3.0, 44100), 44100
    )
    audio = mutagen.File(path, easy=True)
    audio.update({"title": "Harbour Lights", "artist": "The Quays", "album": "Tide"})
    audio.save()
    assert check_audio(path) == "m4a"
    tags = read_tags(path, "m4a")
    assert (tags.title, tags.artists, tags.album) == ("Harbour Lights", ("The Quays",), "Tide")
    assert tags.duration_seconds == pytest.approx(3.0, abs=0.1)


# --- read_tags -----------------------------------------------------------------------------


def _tag_mp3(path: Path) -> None:
    audio = mutagen.File(path, easy=True)
    audio.add_tags()
    audio.update(
        {
            "title": "Night Drive",
            "artist": ["Alice feat. Bob", "Carol"],
            "album": "Roads",
            "albumartist": "Various Artists",
            "genre": "Synthwave",
            "date": "2019-05-01",
            "tracknumber": "3/12",
            "discnumber": "1/2",
        }
    )
    audio.save()


def _tag_vorbis(audio: FLAC | OggVorbis) -> None:
    audio.update(
        {
            "TITLE": "Night Drive",
            "ARTIST": ["Alice; Bob", "Carol (feat. Dan)"],
            "ALBUM": "Roads",
            "ALBUMARTIST": "Various Artists",
            "GENRE": "Synthwave",
            "DATE": "2019-05-01",
            "TRACKNUMBER": "03",
            "DISCNUMBER": "1",
        }
    )
    audio.save()


def _tag_wav(path: Path) -> None:
    audio = WAVE(path)
    audio.add_tags()
    for frame in (
        TIT2(encoding=3, text="Night Drive"),
        TPE1(encoding=3, text=["Alice", "Bob"]),
        TALB(encoding=3, text="Roads"),
        TCON(encoding=3, text="(18)"),  # an ID3v1 genre number: Techno
        TDRC(encoding=3, text="2019"),
        TRCK(encoding=3, text="3/12"),
    ):
        audio.tags.add(frame)
    audio.save()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "mp3",
            Tags("Night Drive", ("Alice", "Bob", "Carol"), "Roads", "Various Artists",
                 "Synthwave", 2019, 3, 1),
        ),
        (
            "flac",
            Tags("Night Drive", ("Alice", "Bob", "Carol", "Dan"), "Roads", "Various Artists",
                 "Synthwave", 2019, 3, 1),
        ),
        (
            "ogg",
            Tags("Night Drive", ("Alice", "Bob", "Carol", "Dan"), "Roads", "Various Artists",
                 "Synthwave", 2019, 3, 1),
        ),
        ("wav", Tags("Night Drive", ("Alice", "Bob"), "Roads", None, "Techno", 2019, 3, None)),
    ],
)  # fmt: skip
def test_tags_are_read(fmt: str, expected: Tags, encoded: dict[str, bytes], tmp_path: Path) -> None:
    path = _file(tmp_path, f"tagged.{fmt}", encoded[fmt])
    if fmt == "mp3":
        _tag_mp3(path)
    elif fmt == "flac":
        _tag_vorbis(FLAC(path))
    elif fmt == "ogg":
        _tag_vorbis(OggVorbis(path))
    else:
        _tag_wav(path)
    assert check_audio(path) == fmt  # tags do not make the audio unreadable
    tags = read_tags(path, fmt)
    assert tags.duration_seconds == pytest.approx(SECONDS, abs=0.1)
    assert tags == Tags(**{**expected.__dict__, "duration_seconds": tags.duration_seconds})


def test_untagged_wav_gives_only_a_duration(encoded: dict[str, bytes], tmp_path: Path) -> None:
    tags = read_tags(_file(tmp_path, "plain.wav", encoded["wav"]), "wav")
    assert tags.duration_seconds == pytest.approx(SECONDS, abs=0.01)
    assert tags == Tags(duration_seconds=tags.duration_seconds)


def test_garbage_tag_values_are_left_out(encoded: dict[str, bytes], tmp_path: Path) -> None:
    path = _file(tmp_path, "garbage.flac", encoded["flac"])
    audio = FLAC(path)
    audio.update(
        {
            "TITLE": "  \x00 ",
            "ARTIST": ["", " ; "],
            "DATE": "someday",
            "TRACKNUMBER": "A1",
            "DISCNUMBER": "0",
            "GENRE": "x" * 10,
        }
    )
    audio.save()
    tags = read_tags(path, "flac")
    assert (tags.title, tags.artists, tags.year, tags.track_number, tags.disc_number) == (
        None,
        (),
        None,
        None,
        None,
    )
    assert tags.genre == "x" * 10


def test_an_unreadable_tag_block_gives_empty_tags(
    encoded: dict[str, bytes], tmp_path: Path
) -> None:
    v25 = b"ID3\x05\x00\x00\x00\x00\x00\x10" + bytes(16)  # a version mutagen refuses
    path = _file(tmp_path, "id3v25.mp3", v25 + encoded["mp3"])
    with pytest.raises(mutagen.MutagenError):
        mutagen.File(path, easy=True)
    tags = read_tags(path, "mp3")
    assert tags == Tags(duration_seconds=tags.duration_seconds)
    assert tags.duration_seconds == pytest.approx(SECONDS, abs=0.1)  # libsndfile's
    junk = np.random.default_rng(5).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    size = len(junk)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    path = _file(tmp_path, "junk-id3.mp3", b"ID3\x04\x00\x00" + syncsafe + junk + encoded["mp3"])
    assert read_tags(path, "mp3").artists == ()
    text = _file(tmp_path, "text.mp3", b"not audio at all\n" * 100)
    assert read_tags(text, "mp3") == Tags()


# --- receive, commit, discard --------------------------------------------------------------


async def test_receive_streams_hashes_and_stages(encoded: dict[str, bytes], tmp_path: Path) -> None:
    data = encoded["flac"]
    staged = await receive(_stream(data, 1000), tmp_path, max_bytes=len(data))
    assert staged.path.parent == tmp_path / INCOMING
    assert staged.size == len(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.path.read_bytes() == data
    discard(staged)
    assert list((tmp_path / INCOMING).iterdir()) == []


async def test_receive_stops_past_max_bytes_and_leaves_nothing(tmp_path: Path) -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield bytes(65536)

    with pytest.raises(IngestError) as caught:
        await receive(endless(), tmp_path, max_bytes=1_000_000)
    assert caught.value.code == "FILE_TOO_LARGE"
    assert pulled == 1_000_000 // 65536 + 1  # stopped at the first chunk over the limit
    assert list((tmp_path / INCOMING).iterdir()) == []


async def test_receive_cleans_up_when_the_client_goes_away(tmp_path: Path) -> None:
    async def disconnecting() -> AsyncIterator[bytes]:
        yield b"RIFF" + bytes(100_000)
        raise ConnectionResetError("client disconnected")

    with pytest.raises(ConnectionResetError):
        await receive(disconnecting(), tmp_path, max_bytes=10_000_000)
    assert list((tmp_path / INCOMING).iterdir()) == []


async def test_same_content_committed_twice_is_one_file(
    encoded: dict[str, bytes], tmp_path: Path
) -> None:
    data = encoded["ogg"]
    stored = []
    for _ in range(2):
        staged = await receive(_stream(data), tmp_path, max_bytes=len(data))
        fmt = await asyncio.to_thread(check_audio, staged.path)
        stored.append(commit(staged, tmp_path, fmt))
        assert not staged.path.exists()
    first, second = stored
    sha = hashlib.sha256(data).hexdigest()
    assert first == second
    assert first.path == tmp_path / sha[:2] / sha[2:4] / f"{sha}.ogg"
    assert (first.sha256, first.size, first.format) == (sha, len(data), "ogg")
    assert first.path.read_bytes() == data
    assert _stored_files(tmp_path) == [first.path]
    assert list((tmp_path / INCOMING).iterdir()) == []


async def test_a_refused_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    staged = await receive(_stream(b"Dear diary\n" * 1000), tmp_path, max_bytes=1 << 20)
    with pytest.raises(IngestError):
        try:
            await asyncio.to_thread(check_audio, staged.path)
        except BaseException:
            discard(staged)
            raise
    assert _stored_files(tmp_path) == []
    assert list((tmp_path / INCOMING).iterdir()) == []
    discard(staged)  # a second discard is harmless


def test_discard_of_a_missing_file_is_harmless(tmp_path: Path) -> None:
    discard(StagedFile(tmp_path / "gone.part", "0" * 64, 0))
