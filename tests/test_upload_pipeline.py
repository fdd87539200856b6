"""Audio in, knowledge out, end to end: multipart upload -> job -> worker -> features,
embedding and SIMILAR_TO edges, with processing events, against a live server and a real
worker on the embedded FalkorDB."""

import asyncio
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import GraphQLClient, LiveServer

UPLOAD = """
mutation($file: Upload!, $metadata: TrackMetadataInput) {
  uploadTrack(file: $file, metadata: $metadata) {
    duplicate
    track { id title analysisStatus artists { name } album { title } genres { name } }
    job { id kind status }
  }
}"""
JOB = """query($id: ID!) { job(id: $id) { id status progress errorCode attempts result
  track { id analysisStatus analysisError { code } } } }"""
TRACK = """query($id: ID!) { track(id: $id) { id analysisStatus
  audioFeatures { tempo key mode camelot } embedding
  similar(first: 5) { score track { id } reasons { feature } } } }"""


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    return worker_settings


async def upload(
    gql: GraphQLClient,
    content: bytes,
    filename: str,
    metadata: dict[str, Any] | None = None,
    field: str = "uploadTrack",
) -> Any:
    operations = {"query": UPLOAD, "variables": {"file": None, "metadata": metadata}}
    response = await gql.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "application/octet-stream")},
        headers=gql.headers,
    )
    return response.json()


async def wait_for_job(gql: GraphQLClient, job_id: str, seconds: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        job = (await gql.query(JOB, {"id": job_id}))["job"]
        if job["status"] in ("completed", "failed"):
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.1)


def stored_files(settings: Settings) -> list[Path]:
    """Every file in the media folder, temp files included."""
    return [p for p in Path(settings.resolved_media_dir).rglob("*") if p.is_file()]


def wav_bytes(tmp_path: Path, signal: Any, name: str, sr: int = 22050) -> bytes:
    return af.write(tmp_path / name, signal, sr).read_bytes()


async def test_upload_is_analysed_and_linked(
    live: LiveServer, gql: GraphQLClient, worker: Any, tmp_path: Path, settings: Settings
) -> None:
    first = wav_bytes(tmp_path, af.mixture(120, "A", "minor", seconds=12), "a.wav")
    body = await upload(gql, first, "01_first_song.wav", {"artistNames": ["Tester"]})
    payload = body["data"]["uploadTrack"]
    assert payload["duplicate"] is False
    assert payload["track"]["title"] == "01 first song"
    assert payload["track"]["analysisStatus"] == "QUEUED"
    assert payload["job"]["status"] == "queued"
    assert payload["job"]["kind"] == "analyze"
    job = await wait_for_job(gql, payload["job"]["id"])
    assert job["status"] == "completed", job
    assert job["attempts"] == 1
    assert job["track"]["analysisStatus"] == "ANALYZED"
    track = (await gql.query(TRACK, {"id": payload["track"]["id"]}))["track"]
    assert track["audioFeatures"]["tempo"] == pytest.approx(120, rel=0.02)
    assert track["audioFeatures"]["camelot"] == "8A"
    assert len(track["embedding"]) == 64

    # The same bytes again: the same track, no new job, no second file.
    again = (await upload(gql, first, "copy.wav"))["data"]["uploadTrack"]
    assert again["duplicate"] is True and again["job"] is None
    assert again["track"]["id"] == payload["track"]["id"]
    assert len(stored_files(settings)) == 1

    # A second, similar track gets edges both ways through the vector index.
    second = wav_bytes(tmp_path, af.mixture(121, "A", "minor", seconds=12), "b.wav")
    payload2 = (await upload(gql, second, "b.wav"))["data"]["uploadTrack"]
    assert (await wait_for_job(gql, payload2["job"]["id"]))["status"] == "completed"
    track2 = (await gql.query(TRACK, {"id": payload2["track"]["id"]}))["track"]
    assert [s["track"]["id"] for s in track2["similar"]] == [payload["track"]["id"]]
    assert {r["feature"] for r in track2["similar"][0]["reasons"]} >= {"tempo", "key"}
    track1 = (await gql.query(TRACK, {"id": payload["track"]["id"]}))["track"]
    assert [s["track"]["id"] for s in track1["similar"]] == [payload2["track"]["id"]]

    # searchByVector finds a track by its own embedding first.
    found = await gql.query(
        "query($v: [Float!]!) { searchByVector(vector: $v, first: 2) { score track { id } } }",
        {"v": track2["embedding"]},
    )
    assert found["searchByVector"][0]["track"]["id"] == payload2["track"]["id"]
    assert found["searchByVector"][0]["score"] == pytest.approx(1.0, abs=1e-3)


BAD_FILES = {
    "zero-length.mp3": b"",
    "notes.mp3": b"This is a text file, renamed.\n" * 40,
    "corrupt.wav": b"RIFF\x24\x00\x10\x00WAVEfmt " + os.urandom(4000),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
async def test_bad_upload_is_refused_and_leaves_nothing(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings, name: str
) -> None:
    body = await upload(gql, BAD_FILES[name], name)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_AUDIO"
    assert "Traceback" not in json.dumps(body)
    assert await engine.read("count", "MATCH (t:Track) RETURN count(t) AS n") == [{"n": 0}]
    assert await engine.read("count", "MATCH (j:Job) RETURN count(j) AS n") == [{"n": 0}]
    assert stored_files(settings) == []


async def test_truncated_mp3_hollow_m4a_and_unknown_codec_are_refused(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, tmp_path: Path
) -> None:
    mp3 = af.write(tmp_path / "t.mp3", af.click_track(120, seconds=8), 22050).read_bytes()
    body = await upload(gql, mp3[: len(mp3) // 2], "t.mp3")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_AUDIO"
    m4a = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + os.urandom(2000)
    body = await upload(gql, m4a, "song.m4a")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_AUDIO"
    body = await upload(gql, af.wav_with_codec_tag(0xABCD), "odd.wav")
    assert body["errors"][0]["extensions"]["code"] == "UNSUPPORTED_FORMAT"
    assert "Traceback" not in json.dumps(body)
    assert await engine.read("count", "MATCH (t:Track) RETURN count(t) AS n") == [{"n": 0}]


@pytest.mark.parametrize("suffix", [".m4a", ".ogg", ".opus", ".aiff"])
async def test_every_common_format_is_uploaded_and_analysed(
    live: LiveServer, gql: GraphQLClient, worker: Any, tmp_path: Path, suffix: str
) -> None:
    """Files encoded by FFmpeg (PyAV), under a name that hides the format: the upload, the
    stored file and the analysis all go by the content."""
    path = af.encode(tmp_path / f"x{suffix}", af.mixture(120, "A", "minor", 12, 44100), 44100)
    payload = (await upload(gql, path.read_bytes(), "song.bin"))["data"]["uploadTrack"]
    job = await wait_for_job(gql, payload["job"]["id"])
    assert job["status"] == "completed", job
    features = (await gql.query(TRACK, {"id": payload["track"]["id"]}))["track"]["audioFeatures"]
    assert features["tempo"] == pytest.approx(120, rel=0.02)
    assert (features["key"], features["mode"], features["camelot"]) == ("A", "minor", "8A")


async def test_too_large_upload_is_refused(
    gql: GraphQLClient, engine: GraphEngine, settings: Settings, tmp_path: Path
) -> None:
    big = wav_bytes(tmp_path, af.click_track(120, seconds=30), "big.wav")
    assert len(big) > 1_000_000
    capped = LiveServer(engine, dataclasses.replace(settings, max_upload_bytes=500_000))
    await capped.start()
    try:
        async with httpx.AsyncClient(base_url=capped.url, timeout=30) as http:
            client = GraphQLClient(http)
            client.headers = gql.headers
            body = await upload(client, big, "big.wav")
    finally:
        await capped.stop()
    assert body["errors"][0]["extensions"]["code"] == "FILE_TOO_LARGE"
    assert await engine.read("count", "MATCH (t:Track) RETURN count(t) AS n") == [{"n": 0}]
    assert stored_files(settings) == []


async def test_the_same_bytes_uploaded_at_once_are_one_track(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings, tmp_path: Path
) -> None:
    content = wav_bytes(tmp_path, af.click_track(110, seconds=5), "same.wav")
    bodies = await asyncio.gather(*(upload(gql, content, f"copy{i}.wav") for i in range(6)))
    payloads = [b["data"]["uploadTrack"] for b in bodies]
    assert len({p["track"]["id"] for p in payloads}) == 1
    assert sorted(p["duplicate"] for p in payloads) == [False] + [True] * 5
    assert await engine.read("count", "MATCH (t:Track) RETURN count(t) AS n") == [{"n": 1}]
    assert await engine.read("count", "MATCH (j:Job) RETURN count(j) AS n") == [{"n": 1}]
    assert len([p for p in stored_files(settings) if ".incoming" not in str(p)]) == 1


async def test_tags_are_read_and_a_compilation_belongs_to_its_album_artist(
    live: LiveServer, gql: GraphQLClient, tmp_path: Path
) -> None:
    from mutagen.easyid3 import EasyID3

    path = af.write(tmp_path / "c.mp3", af.click_track(100, seconds=5), 22050)
    tags = EasyID3()
    tags.update(
        {
            "title": "Opening",
            "artist": "Band X",
            "album": "Now 1",
            "albumartist": "Various Artists",
            "genre": "Pop",
            "date": "1999-04-01",
            "tracknumber": "3/12",
        }
    )
    tags.save(str(path))
    document = UPLOAD.replace("album { title }", "album { title artist { name } } year trackNumber")
    operations = {"query": document, "variables": {"file": None, "metadata": None}}
    response = await gql.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("c.mp3", path.read_bytes(), "audio/mpeg")},
        headers=gql.headers,
    )
    track = response.json()["data"]["uploadTrack"]["track"]
    assert track["title"] == "Opening"
    assert track["artists"] == [{"name": "Band X"}]
    assert track["album"] == {"title": "Now 1", "artist": {"name": "Various Artists"}}
    assert track["genres"] == [{"name": "Pop"}]
    assert (track["year"], track["trackNumber"]) == (1999, 3)
