"""Cover art against a live server: the picture embedded in a FLAC, a folder.jpg beside a
scanned file, resized with Pillow, content-addressed, ETag/304; Album.coverUrl and
Track.coverUrl; the Subsonic getCoverArt."""

import dataclasses
import io
import json
from pathlib import Path

import httpx
import pytest
from mutagen.flac import FLAC, Picture
from PIL import Image

from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import GraphQLClient

UPLOAD = """mutation($file: Upload!, $metadata: TrackMetadataInput) {
  uploadTrack(file: $file, metadata: $metadata) { track { id album { id } } } }"""
COVERS = """query($id: ID!, $size: Int) {
  track(id: $id) { coverUrl(size: $size) album { coverUrl(size: $size) } } }"""
SET_FILE = "MATCH (t:Track {id: $id}) SET t.file_path = $path RETURN t.id AS id"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        settings,
        media_dir=str(tmp_path / "media"),
        data_dir=str(tmp_path / "data"),
        scan_roots=(str(tmp_path / "library"),),
    )


def image_bytes(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, fmt)
    return out.getvalue()


def flac_with_picture(path: Path, picture: bytes | None) -> bytes:
    af.write(path, af.click_track(100, seconds=1.0), 22050)
    if picture is not None:
        audio = FLAC(path)
        embedded = Picture()
        embedded.type = 3
        embedded.mime = "image/png"
        embedded.data = picture
        audio.add_picture(embedded)
        audio.save()
    return path.read_bytes()


async def upload(gql: GraphQLClient, content: bytes, name: str) -> dict[str, str]:
    metadata = {"title": name, "albumTitle": f"{name} album", "artistNames": ["Painter"]}
    operations = {"query": UPLOAD, "variables": {"file": None, "metadata": metadata}}
    response = await gql.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (f"{name}.flac", content, "application/octet-stream")},
        headers=gql.headers,
    )
    body = response.json()
    assert "errors" not in body, body
    track = body["data"]["uploadTrack"]["track"]
    return {"track": track["id"], "album": track["album"]["id"]}


def pixels(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as picture:
        return picture.size


async def test_embedded_cover_is_resized_cached_and_shared(
    gql: GraphQLClient, client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    ids = await upload(gql, flac_with_picture(tmp_path / "a.flac", image_bytes(400, 300)), "A")
    urls = (await gql.query(COVERS, {"id": ids["track"], "size": 100}))["track"]
    for url in (urls["coverUrl"], urls["album"]["coverUrl"]):
        response = await client.get(url)  # signed: no other credential needed
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        assert pixels(response.content) == (100, 75)
        assert "max-age" in response.headers["cache-control"]
        again = await client.get(url, headers={"if-none-match": response.headers["etag"]})
        assert again.status_code == 304

    original = (await gql.query(COVERS, {"id": ids["track"], "size": None}))["track"]["coverUrl"]
    assert pixels((await client.get(original)).content) == (400, 300)
    # One stored original, by content, whatever asked for it.
    stored = [p for p in (Path(settings.data_dir) / "artwork").rglob("*") if p.is_file()]
    assert len([p for p in stored if "_" not in p.name]) == 1

    key = (await gql.query('mutation { createApiKey(name: "art") { key } }'))["createApiKey"]["key"]
    sonic = await client.get(
        "/rest/getCoverArt.view", params={"apiKey": key, "id": ids["album"], "size": "64"}
    )
    assert sonic.status_code == 200 and pixels(sonic.content) == (64, 48)


async def test_folder_image_beside_a_scanned_file(
    gql: GraphQLClient, client: httpx.AsyncClient, engine: GraphEngine, tmp_path: Path
) -> None:
    ids = await upload(gql, flac_with_picture(tmp_path / "b.flac", None), "B")
    # An image in the uploads' shared folders belongs to no track.
    [stored] = (tmp_path / "media").rglob("*.flac")
    (stored.parent / "cover.jpg").write_bytes(image_bytes(50, 50, "JPEG"))
    url = f"/api/v1/artwork/{ids['track']}"
    missing = await client.get(url, headers=gql.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"

    album_folder = tmp_path / "library" / "Painter" / "B album"
    album_folder.mkdir(parents=True)
    scanned = album_folder / "01.flac"
    scanned.write_bytes(flac_with_picture(tmp_path / "c.flac", None))
    (album_folder / "folder.jpg").write_bytes(image_bytes(120, 120, "JPEG"))
    await engine.write("test_set_file", SET_FILE, {"id": ids["track"], "path": str(scanned)})
    found = await client.get(url, params={"size": "60"}, headers=gql.headers)
    assert found.status_code == 200 and pixels(found.content) == (60, 60)

    bad = await client.get(url, params={"size": "5000"}, headers=gql.headers)
    assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
    forged = await client.get(url, params={"expires": "9999999999", "sig": "0" * 32})
    assert forged.status_code == 403
