"""GET /api/v1/tracks/{id}/stream against a live server: Range, ETag/If-Range, access
control (token, signed URL, anonymous reads), the media-folder fence, and transcodes
with PyAV (streamed, cached, seeked with timeOffset)."""

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from graph.engine import GraphEngine
from server.settings import Settings
from server.transcode import TranscodeBusy, Transcoder
from tests import audio_fixtures as af
from tests.support import GraphQLClient, LiveServer, user_token

UPLOAD = """mutation($file: Upload!, $metadata: TrackMetadataInput) {
  uploadTrack(file: $file, metadata: $metadata) { track { id } } }"""
STREAM_URL = """query($id: ID!, $format: StreamFormat) {
  track(id: $id) { streamUrl(format: $format) } }"""
SET_FILE = "MATCH (t:Track {id: $id}) SET t.file_path = $path RETURN t.id AS id"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        settings, media_dir=str(tmp_path / "media"), data_dir=str(tmp_path / "data")
    )


async def upload_wav(gql: GraphQLClient, tmp_path: Path, seconds: float = 4.0) -> str:
    signal = af.mixture(120, "A", "minor", seconds=seconds)
    content = af.write(tmp_path / "song.wav", signal, 22050, stereo=True).read_bytes()
    operations = {"query": UPLOAD, "variables": {"file": None, "metadata": {"title": "Song"}}}
    response = await gql.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("song.wav", content, "application/octet-stream")},
        headers=gql.headers,
    )
    body = response.json()
    assert "errors" not in body, body
    return str(body["data"]["uploadTrack"]["track"]["id"])


def decoded_seconds(content: bytes) -> float:
    with av.open(io.BytesIO(content)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / float(stream.rate or 1)


async def test_range_etag_and_if_range(
    gql: GraphQLClient, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    track_id = await upload_wav(gql, tmp_path)
    url = f"/api/v1/tracks/{track_id}/stream"
    whole = await client.get(url, headers=gql.headers)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content[:4] == b"RIFF"
    etag = whole.headers["etag"]
    size = len(whole.content)

    part = await client.get(url, headers={**gql.headers, "range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == whole.content[100:200]

    tail = await client.get(url, headers={**gql.headers, "range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]

    # If-Range: the range only while the ETag still matches, else the whole file.
    same = await client.get(url, headers={**gql.headers, "range": "bytes=0-9", "if-range": etag})
    assert same.status_code == 206 and len(same.content) == 10
    stale = await client.get(
        url, headers={**gql.headers, "range": "bytes=0-9", "if-range": '"other"'}
    )
    assert stale.status_code == 200 and len(stale.content) == size

    unsatisfiable = await client.get(url, headers={**gql.headers, "range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416


async def test_streams_arrive_whole_over_real_connections(
    live: LiveServer, gql: GraphQLClient, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Over TCP (server/http_protocol.py gathers each loop turn's writes): a file of
    megabytes, a range of it, and a transcode streamed in chunks as it is produced,
    each whole and in order, one after the other on one kept-alive connection."""
    assert str(client.base_url).startswith(live.url)
    track_id = await upload_wav(gql, tmp_path, seconds=30.0)
    url = f"/api/v1/tracks/{track_id}/stream"
    whole = await client.get(url, headers=gql.headers)
    assert whole.status_code == 200 and len(whole.content) > 2_000_000
    assert whole.content[:4] == b"RIFF"
    assert decoded_seconds(whole.content) == pytest.approx(30.0, abs=0.05)
    middle = await client.get(url, headers={**gql.headers, "range": "bytes=1000000-1999999"})
    assert middle.status_code == 206 and middle.content == whole.content[1_000_000:2_000_000]
    streamed = await client.get(url, params={"format": "opus"}, headers=gql.headers)
    assert streamed.status_code == 200 and "content-length" not in streamed.headers
    assert abs(decoded_seconds(streamed.content) - 30.0) < 0.2
    again = await client.get(url, headers=gql.headers)
    assert again.content == whole.content


async def test_access_needs_a_credential_or_a_signed_url(
    gql: GraphQLClient,
    engine: GraphEngine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    closed = LiveServer(engine, dataclasses.replace(settings, allow_anonymous_read=False))
    await closed.start()
    try:
        async with httpx.AsyncClient(base_url=closed.url, timeout=30) as http:
            admin = GraphQLClient(http, gql.headers["authorization"].split()[1])
            track_id = await upload_wav(admin, tmp_path)
            url = f"/api/v1/tracks/{track_id}/stream"
            anonymous = await http.get(url)
            assert anonymous.status_code == 401
            assert anonymous.json()["error"]["code"] == "UNAUTHENTICATED"

            signed = (await admin.query(STREAM_URL, {"id": track_id}))["track"]["streamUrl"]
            assert "sig=" in signed and "expires=" in signed
            played = await http.get(signed, headers={"range": "bytes=0-3"})
            assert played.status_code == 206 and played.content == b"RIFF"

            forged = signed.replace("sig=", "sig=0")
            assert (await http.get(forged)).status_code == 403
            # Another track's id (its last character changed: one id in 32 ends in Z).
            other_id = track_id[:-1] + ("Y" if track_id.endswith("Z") else "Z")
            other_track = signed.replace(track_id, other_id)
            assert other_track != signed
            assert (await http.get(other_track)).status_code == 403
            expired = url + "?expires=1000&sig=" + signed.split("sig=")[1]
            assert (await http.get(expired)).status_code == 403

            _, guest_token = await user_token(engine, settings, "guest")
            guest = await http.get(url, headers={"authorization": f"Bearer {guest_token}"})
            assert guest.status_code == 200
    finally:
        await closed.stop()


async def test_nothing_outside_the_media_folder_is_served(
    gql: GraphQLClient, client: httpx.AsyncClient, engine: GraphEngine, tmp_path: Path
) -> None:
    track_id = await upload_wav(gql, tmp_path)
    secret = tmp_path / "secret.wav"
    link = Path(tmp_path / "media" / "link.wav")

    def plant() -> None:
        secret.write_bytes(b"RIFF not yours")
        link.symlink_to(secret)

    plant()
    for path in (str(secret), str(link), str(tmp_path / "media" / ".." / "secret.wav")):
        await engine.write("test_set_file", SET_FILE, {"id": track_id, "path": path})
        response = await client.get(f"/api/v1/tracks/{track_id}/stream", headers=gql.headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "NOT_FOUND"
        assert b"not yours" not in response.content


async def test_transcodes_stream_seek_and_cache(
    gql: GraphQLClient, client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    track_id = await upload_wav(gql, tmp_path, seconds=6.0)
    url = f"/api/v1/tracks/{track_id}/stream"
    expected = {"opus": "audio/ogg", "mp3": "audio/mpeg", "aac": "audio/aac"}
    for fmt, media_type in expected.items():
        first = await client.get(url, params={"format": fmt}, headers=gql.headers)
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == media_type
        assert abs(decoded_seconds(first.content) - 6.0) < 0.2, fmt
        assert "content-length" not in first.headers  # streamed as produced
        # The finished transcode was cached: now a file, with Range support.
        again = await client.get(
            url, params={"format": fmt}, headers={**gql.headers, "range": "bytes=0-99"}
        )
        assert again.status_code == 206 and again.content == first.content[:100]

    seeked = await client.get(
        url, params={"format": "opus", "timeOffset": "4"}, headers=gql.headers
    )
    assert seeked.status_code == 200
    assert abs(decoded_seconds(seeked.content) - 2.0) < 0.2

    low = await client.get(url, params={"format": "mp3", "maxBitRate": "64"}, headers=gql.headers)
    high = await client.get(url, params={"format": "mp3", "maxBitRate": "256"}, headers=gql.headers)
    assert len(low.content) < len(high.content) / 2

    cached = list((Path(settings.data_dir) / "transcodes").rglob("*"))
    assert sum(p.is_file() and not p.name.endswith(".part") for p in cached) == 5


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"format": "flv"}, "UNSUPPORTED_FORMAT"),
        ({"format": "opus", "timeOffset": "-1"}, "VALIDATION_ERROR"),
        ({"format": "opus", "maxBitRate": "lots"}, "VALIDATION_ERROR"),
    ],
)
async def test_bad_parameters_get_a_stable_code(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    tmp_path: Path,
    params: dict[str, Any],
    code: str,
) -> None:
    track_id = await upload_wav(gql, tmp_path, seconds=1.0)
    response = await client.get(
        f"/api/v1/tracks/{track_id}/stream", params=params, headers=gql.headers
    )
    assert response.json()["error"]["code"] == code
    missing = await client.get("/api/v1/tracks/trk_nope/stream", headers=gql.headers)
    assert missing.status_code == 404


async def test_transcodes_are_bounded_per_process(tmp_path: Path) -> None:
    source = af.write(tmp_path / "long.wav", af.click_track(100, seconds=20.0), 22050)
    transcoder = Transcoder(tmp_path / "cache", concurrency=1, wait_seconds=0.2)
    first = await transcoder.stream(str(source), "k", "opus", 96, 0.0)
    assert (await anext(first))[:4] == b"OggS"
    with pytest.raises(TranscodeBusy):
        await transcoder.stream(str(source), "k", "mp3", 96, 0.0)
    await first.aclose()  # a client that goes away frees its slot and stops the encoder
    second = await transcoder.stream(str(source), "k", "mp3", 96, 0.0)
    assert len(b"".join([chunk async for chunk in second])) > 10_000
    # Only the transcode that ran to its end was cached.
    assert transcoder.cached("k", "mp3", 96) is not None
    assert transcoder.cached("k", "opus", 96) is None
