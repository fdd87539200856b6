"""The OpenSubsonic API driven by a real Subsonic client library (py-sonic, `libsonic`)
against a live server: token auth with an opted-in Subsonic password, browse, search,
stream a range, transcode to opus, scrobble, save a play queue, playlists, similarity;
the apiKey extension, XML, and Subsonic's error codes."""

import asyncio
import dataclasses
import hashlib
import io
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import libsonic
import pytest
from prometheus_client import REGISTRY

from graph import analysis
from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import GraphQLClient, LiveServer, user_token

PASSWORD = "subsonic-pass-1"
UPLOAD = """mutation($file: Upload!, $metadata: TrackMetadataInput) {
  uploadTrack(file: $file, metadata: $metadata) { track { id album { id } } } }"""
SET_PASSWORD = "mutation($p: String) { setSubsonicPassword(password: $p) }"
ME = "query { me { username } }"
PLAYS = "query { history(first: 10) { totalCount edges { node { track { id } } } } }"
QUEUE = "query { playQueue { currentIndex positionMs tracks { id } } }"
EDGE = (
    "MATCH (a:Track {id: $a}), (b:Track {id: $b}) "
    "CREATE (a)-[:SIMILAR_TO {score: 0.9, method: 'test', computed_at: 0}]->(b), "
    "(b)-[:SIMILAR_TO {score: 0.9, method: 'test', computed_at: 0}]->(a)"
)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        settings, media_dir=str(tmp_path / "media"), data_dir=str(tmp_path / "data")
    )


async def sync[T](function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """py-sonic is synchronous (urllib): run it off the loop that serves the app."""
    return await asyncio.to_thread(function, *args, **kwargs)


async def upload(gql: GraphQLClient, tmp_path: Path, title: str, bpm: float) -> dict[str, Any]:
    signal = af.mixture(bpm, "C", "major", seconds=4.0)
    content = af.write(tmp_path / f"{title}.wav", signal, 22050).read_bytes()
    metadata = {
        "title": title,
        "artistNames": ["The Testers"],
        "albumTitle": "Demo",
        "genres": ["Jazz"],
    }
    operations = {"query": UPLOAD, "variables": {"file": None, "metadata": metadata}}
    response = await gql.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (f"{title}.wav", content, "application/octet-stream")},
        headers=gql.headers,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["uploadTrack"]["track"]  # type: ignore[no-any-return]


def connection(live: LiveServer, username: str, **extra: Any) -> libsonic.Connection:
    return libsonic.Connection(
        "http://127.0.0.1", username, PASSWORD, port=live.port, appName="test", **extra
    )


async def test_a_subsonic_client_browses_streams_scrobbles_and_queues(
    gql: GraphQLClient,
    live: LiveServer,
    engine: GraphEngine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    first = await upload(gql, tmp_path, "Blue Monday Drive", 110)
    second = await upload(gql, tmp_path, "Green Tuesday", 120)
    await engine.write("test_edge", EDGE, {"a": first["id"], "b": second["id"]})
    assert await gql.query(SET_PASSWORD, {"p": PASSWORD}) == {"setSubsonicPassword": True}
    username = (await gql.query(ME))["me"]["username"]
    sonic = connection(live, username)  # token auth: t = md5(password + s)

    assert (await sync(sonic.ping)) is True
    extensions = await sync(sonic._doInfoReq, sonic._getRequest("getOpenSubsonicExtensions"))
    names = {e["name"] for e in extensions["openSubsonicExtensions"]}
    assert {"apiKeyAuthentication", "indexBasedQueue", "sonicSimilarity"} <= names

    # Browse: artists -> artist -> album -> song, and the folder view.
    artists = await sync(sonic.getArtists)
    [entry] = [
        a for i in artists["artists"]["index"] for a in i["artist"] if a["name"] == "The Testers"
    ]
    assert entry["albumCount"] == 1
    artist = (await sync(sonic.getArtist, entry["id"]))["artist"]
    [album] = artist["album"]
    assert album["name"] == "Demo"
    songs = (await sync(sonic.getAlbum, album["id"]))["album"]["song"]
    assert {s["title"] for s in songs} == {"Blue Monday Drive", "Green Tuesday"}
    assert all(s["suffix"] == "wav" and s["contentType"] == "audio/wav" for s in songs)
    song = (await sync(sonic.getSong, first["id"]))["song"]
    assert song["albumId"] == album["id"] and song["genre"] == "Jazz"
    folder = (await sync(sonic.getMusicDirectory, album["id"]))["directory"]
    assert len(folder["child"]) == 2
    genres = (await sync(sonic.getGenres))["genres"]["genre"]
    assert "Jazz" in {g["value"] for g in genres}
    listed = (await sync(sonic.getAlbumList2, "alphabeticalByName", 10))["albumList2"]["album"]
    assert [a["id"] for a in listed] == [album["id"]]
    by_genre = await sync(sonic.getSongsByGenre, "Jazz", 10)
    assert len(by_genre["songsByGenre"]["song"]) == 2

    # Search.
    found = (await sync(sonic.search3, "monday"))["searchResult3"]
    assert [s["id"] for s in found["song"]] == [first["id"]]
    everything = (await sync(sonic.search3, '""'))["searchResult3"]
    assert len(everything["song"]) == 2

    # Stream a range of the original file, then a transcode to opus.
    ranged = connection(live, username, customHeaders={"Range": "bytes=0-99"})
    response = await sync(ranged.stream, first["id"])
    assert response.status == 206
    assert response.headers["Content-Range"].startswith("bytes 0-99/")
    assert (await sync(response.read))[:4] == b"RIFF"
    opus = await sync(sonic.stream, first["id"], 96, "opus")
    assert opus.headers["Content-Type"] == "audio/ogg"
    content = await sync(opus.read)
    with av.open(io.BytesIO(content)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
        seconds = sum(f.samples for f in container.decode(audio=0)) / 48_000
    assert abs(seconds - 4.0) < 0.2

    # Scrobble: a play in the graph.
    await sync(sonic.scrobble, first["id"])
    plays = (await gql.query(PLAYS))["history"]
    assert [e["node"]["track"]["id"] for e in plays["edges"]] == [first["id"]]

    # Save the play queue, read it back through GraphQL and Subsonic.
    await sync(sonic.savePlayQueue, [first["id"], second["id"]], second["id"], 1500)
    queue = (await gql.query(QUEUE))["playQueue"]
    assert [t["id"] for t in queue["tracks"]] == [first["id"], second["id"]]
    assert queue["currentIndex"] == 1 and queue["positionMs"] == 1500
    back = (await sync(sonic.getPlayQueue))["playQueue"]
    assert back["current"] == second["id"] and back["position"] == 1500

    # Playlists are collections.
    created = (await sync(sonic.createPlaylist, name="Road", songIds=[second["id"]]))["playlist"]
    assert created["songCount"] == 1
    await sync(sonic.updatePlaylist, created["id"], songIdsToAdd=[first["id"]])
    playlist = (await sync(sonic.getPlaylist, created["id"]))["playlist"]
    assert [e["id"] for e in playlist["entry"]] == [second["id"], first["id"]]
    assert [p["name"] for p in (await sync(sonic.getPlaylists))["playlists"]["playlist"]] == [
        "Road"
    ]
    await sync(sonic.deletePlaylist, created["id"])
    assert not (await sync(sonic.getPlaylists))["playlists"].get("playlist")

    # Similarity, from the SIMILAR_TO edges.
    similar = (await sync(sonic.getSimilarSongs2, first["id"]))["similarSongs2"]["song"]
    assert [s["id"] for s in similar] == [second["id"]]
    sonic_similar = await sync(
        sonic._doInfoReq, sonic._getRequest("getSonicSimilarTracks", {"id": first["id"]})
    )
    [match] = sonic_similar["sonicSimilarTracks"]["sonicMatch"]
    assert match["id"] == second["id"] and match["similarity"] == pytest.approx(0.9)
    for track_id, key in ((first["id"], "C"), (second["id"], "G")):
        features = {"tempo": 120.0, "key": key, "mode": "major", "energy": 0.5}
        await analysis.set_features(engine, track_id, features)
    request = {"startSongId": first["id"], "endSongId": second["id"], "count": 3}
    found_path = await sync(sonic._doInfoReq, sonic._getRequest("findSonicPath", request))
    matches = found_path["sonicPath"]["sonicMatch"]
    assert [m["id"] for m in matches] == [first["id"], second["id"]], found_path
    assert matches[0]["similarity"] == 1.0 and matches[1]["similarity"] == pytest.approx(0.9)
    top = (await sync(sonic.getTopSongs, "The Testers"))["topSongs"]["song"]
    assert top[0]["id"] == first["id"]  # played once

    # Stars and ratings.
    await sync(sonic.star, [second["id"]], [album["id"]])
    await sync(sonic.star, [second["id"]])  # twice: still one star
    starred = (await sync(sonic.getStarred2))["starred2"]
    assert [s["id"] for s in starred["song"]] == [second["id"]]
    assert [a["id"] for a in starred["album"]] == [album["id"]]
    await sync(sonic.unstar, [second["id"]])
    assert not (await sync(sonic.getStarred2))["starred2"].get("song")
    await sync(sonic.setRating, first["id"], 4)
    rated = await engine.read(
        "test_rating",
        "MATCH (:User)-[r:RATED]->(t:Track {id: $id}) RETURN r.rating AS r",
        {"id": first["id"]},
    )
    assert [row["r"] for row in rated] == [4]
    await sync(sonic.setRating, first["id"], 0)
    assert not await engine.read(
        "test_rating",
        "MATCH (:User)-[r:RATED]->(t:Track {id: $id}) RETURN r.rating AS r",
        {"id": first["id"]},
    )


async def test_api_keys_xml_and_error_codes(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    engine: GraphEngine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    track = await upload(gql, tmp_path, "Keyed", 100)
    key = (await gql.query('mutation { createApiKey(name: "sonic") { key } }'))["createApiKey"][
        "key"
    ]
    username = (await gql.query(ME))["me"]["username"]

    async def call(method: str, **params: Any) -> Any:
        response = await client.get(f"/rest/{method}", params={"f": "json", **params})
        assert response.status_code == 200
        return response.json()["subsonic-response"]

    ok = await call("getSong.view", apiKey=key, id=track["id"])
    assert ok["status"] == "ok" and ok["openSubsonic"] is True
    assert ok["song"]["title"] == "Keyed"

    # XML is the default format.
    xml = await client.get("/rest/getSong", params={"apiKey": key, "id": track["id"]})
    root = ET.fromstring(xml.content)
    assert root.tag == "{http://subsonic.org/restapi}subsonic-response"
    assert root.attrib["status"] == "ok"
    assert root.find("{http://subsonic.org/restapi}song").attrib["title"] == "Keyed"  # type: ignore[union-attr]

    errors = {
        10: await call("getSong", apiKey=key),
        40: await call("ping", u=username, t="0" * 32, s="abc"),
        41: await call("ping", u=username, t="0" * 32, s="abc"),
        43: await call("ping", apiKey=key, u=username),
        44: await call("ping", apiKey="apk_bogus"),
        70: await call("getSong", apiKey=key, id="trk_01ARZ3NDEKTSV4RRFFQ69G5FAV"),
    }
    # 40 needs a Subsonic password set; before that, token auth is off (41).
    assert errors[41]["error"]["code"] == 41
    await gql.query(SET_PASSWORD, {"p": PASSWORD})
    errors[40] = await call("ping", u=username, t="0" * 32, s="abc")
    for code, body in errors.items():
        assert body["status"] == "failed", code
        assert body["error"]["code"] == code, (code, body)
    salt = "c19b2d"
    token = hashlib.md5((PASSWORD + salt).encode()).hexdigest()
    assert (await call("ping", u=username, t=token, s=salt))["status"] == "ok"
    hex_password = "enc:" + PASSWORD.encode().hex()
    assert (await call("ping", u=username, p=hex_password))["status"] == "ok"
    assert (await call("nosuchMethod", apiKey=key))["error"]["code"] == 70

    # A guest (here by its bearer token, as a web player sends it) may browse, not write.
    _, guest = await user_token(engine, settings, "guest")
    as_guest = {"authorization": f"Bearer {guest}"}
    browsed = await client.get(
        "/rest/getSong", params={"f": "json", "id": track["id"]}, headers=as_guest
    )
    assert browsed.json()["subsonic-response"]["status"] == "ok"
    refused = await client.get(
        "/rest/createPlaylist", params={"f": "json", "name": "nope"}, headers=as_guest
    )
    assert refused.json()["subsonic-response"]["error"]["code"] == 50, refused.json()[
        "subsonic-response"
    ]["error"]
    # The Subsonic password is stored encrypted, never in clear.
    rows = await engine.read(
        "test_secret",
        "MATCH (u:User {username: $u}) RETURN u.subsonic_password AS s",
        {"u": username},
    )
    assert rows[0]["s"] and PASSWORD not in rows[0]["s"]


async def test_failed_sign_ins_are_limited(gql: GraphQLClient, client: httpx.AsyncClient) -> None:
    await gql.query(SET_PASSWORD, {"p": PASSWORD})
    username = (await gql.query(ME))["me"]["username"]
    salt = "5a1t"
    right = hashlib.md5((PASSWORD + salt).encode()).hexdigest()

    async def ping(token: str) -> Any:
        response = await client.get(
            "/rest/ping", params={"f": "json", "u": username, "t": token, "s": salt}
        )
        return response.json()["subsonic-response"]

    assert (await ping(right))["status"] == "ok"  # a success is not charged
    codes = [(await ping("0" * 32))["error"]["code"] for _ in range(11)]
    assert codes == [40] * 10 + [0]  # the login budget: 10 a minute
    refused = await ping(right)
    assert refused["error"]["code"] == 0 and "Too many" in refused["error"]["message"]


def _password_checks(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "apollonia_subsonic_password_checks_total", {"outcome": outcome}
    )
    return value or 0.0


async def test_a_right_account_password_is_remembered_not_rehashed(
    client: httpx.AsyncClient,
) -> None:
    """`p=` with the account password: argon2 once, then remembered; a wrong password is
    never remembered, and a changed password ends the old one at once."""
    name = f"remember{uuid.uuid4().hex[:8]}"
    first, second = "account-pass-one", "account-pass-two"
    registered = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            "variables": {
                "i": {"email": f"{name}@example.com", "username": name, "password": first}
            },
        },
    )
    token = registered.json()["data"]["register"]["accessToken"]

    async def ping(password: str) -> Any:
        params = {"f": "json", "u": name, "p": password}
        return (await client.get("/rest/ping", params=params)).json()["subsonic-response"]

    hashed, remembered = _password_checks("hashed"), _password_checks("remembered")
    for _ in range(3):
        assert (await ping(first))["status"] == "ok"
    assert _password_checks("hashed") - hashed == 1
    assert _password_checks("remembered") - remembered == 2
    for _ in range(2):
        assert (await ping("wrong-password-x"))["error"]["code"] == 40
    assert _password_checks("hashed") - hashed == 3  # each wrong one is hashed
    changed = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }",
            "variables": {"i": {"currentPassword": first, "newPassword": second}},
        },
        headers={"authorization": f"Bearer {token}"},
    )
    assert changed.json() == {"data": {"changePassword": True}}
    assert (await ping(first))["error"]["code"] == 40  # no longer remembered
    assert (await ping(second))["status"] == "ok"
