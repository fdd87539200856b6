"""Control characters never reach the graph (issue 11, finding 1).

U+0001 in a property under a uniqueness constraint kills FalkorDB 4.22
(tests/test_falkordb_control_char_crash.py). Every name, e-mail, tag and free-text
field refuses C0/C1 control characters with VALIDATION_ERROR, on GraphQL and REST; tags
read from files are cleaned instead; and the engines refuse them in any write as the
last line of defence. Each test also checks that the session's database process is
still the one it started with.
"""

from pathlib import Path

import httpx
import mutagen
import pytest

from graph import catalog
from graph.embedded import EmbeddedServer, process_alive
from graph.engine import GraphEngine
from graph.engine.falkordb import FalkorDBEngine
from graph.queries.catalog import TrackFilter
from music.errors import ValidationError
from music.text import check_text, clean_text
from tests import audio_fixtures
from tests.support import GraphQLClient
from workers.ingest import read_tags
from workers.library import scan_folder
from workers.uploads import title_from_name

REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { accessToken } }
"""
CREATE_TRACK = """
mutation Create($input: CreateTrackInput!) { createTrack(input: $input) { id } }
"""
IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) { importTracks(input: $input) { count } }
"""
CREATE_ARTIST = "mutation A($name: String!) { createArtist(input: {name: $name}) { id } }"
CREATE_COLLECTION = """
mutation C($input: CreateCollectionInput!) { createCollection(input: $input) { id description } }
"""
CREATE_API_KEY = "mutation K($name: String!) { createApiKey(name: $name) { key } }"
MAINTENANCE = """
mutation On($message: String) { maintenance(enabled: true, message: $message) { enabled } }
"""
MAINTENANCE_STATE = "{ maintenance { enabled } }"
SET_METADATA = """
mutation M($trackId: ID!, $entries: [MetadataEntryInput!]!) {
  setMetadata(trackId: $trackId, entries: $entries) { key value }
}
"""

# Every C0 control but the three, DEL and two C1 controls: each alone is refused.
REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x85, 0x9F)]


def _assert_same_server(server: EmbeddedServer) -> None:
    assert process_alive(server.pid), "the embedded FalkorDB died"


async def _validation_error(
    gql: GraphQLClient, document: str, variables: dict[str, object]
) -> None:
    error = await gql.error(document, variables)
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert "\x01" not in error["message"]


async def test_anonymous_register_with_u0001_is_refused(
    gql: GraphQLClient, falkordb_server: EmbeddedServer
) -> None:
    anonymous = gql.as_(None)
    for email, username in (("a\x01b@example.com", "someone1"), ("ok@example.com", "x\x01yz")):
        variables = {"input": {"email": email, "username": username, "password": "p" * 12}}
        await _validation_error(anonymous, REGISTER, variables)
    _assert_same_server(falkordb_server)


async def test_catalogue_names_titles_and_tags_refuse_control_characters(
    gql: GraphQLClient, falkordb_server: EmbeddedServer, engine: GraphEngine
) -> None:
    for field, value in (
        ("artistNames", ["Miles\x01Davis"]),
        ("genres", ["Jazz\x01"]),
        ("title", "So\x01What"),
        ("albumTitle", "Kind\x7fof Blue"),
        ("tags", ["mod\x85al"]),
    ):
        track = {"title": "ok", field: value}
        await _validation_error(gql, CREATE_TRACK, {"input": track})
        await _validation_error(gql, IMPORT_TRACKS, {"input": [{"title": "ok"}, track]})
    for bad in REFUSED:
        await _validation_error(gql, CREATE_ARTIST, {"name": f"A{bad}B"})
    assert await catalog.tracks_count(engine, TrackFilter()) == 0
    _assert_same_server(falkordb_server)


async def test_free_text_keeps_line_breaks_but_not_other_controls(
    gql: GraphQLClient, falkordb_server: EmbeddedServer
) -> None:
    made = await gql.query(
        CREATE_COLLECTION, {"input": {"name": "Mix", "description": "one\ttwo\r\nthree"}}
    )
    assert made["createCollection"]["description"] == "one\ttwo\r\nthree"
    await _validation_error(
        gql, CREATE_COLLECTION, {"input": {"name": "Mix", "description": "a\x01b"}}
    )
    await _validation_error(gql, CREATE_COLLECTION, {"input": {"name": "Mi\nx"}})
    await _validation_error(gql, CREATE_API_KEY, {"name": "key\x01"})
    await _validation_error(gql, MAINTENANCE, {"message": "back\x1b[2J soon"})
    assert (await gql.query(MAINTENANCE_STATE))["maintenance"]["enabled"] is False
    track = await gql.query(CREATE_TRACK, {"input": {"title": "t"}})
    entries = [{"key": "comment", "value": "line 1\nline\x012"}]
    await _validation_error(
        gql, SET_METADATA, {"trackId": track["createTrack"]["id"], "entries": entries}
    )
    _assert_same_server(falkordb_server)


async def test_rest_create_track_and_register_answer_422(
    gql: GraphQLClient, client: httpx.AsyncClient, falkordb_server: EmbeddedServer
) -> None:
    response = await client.post(
        "/api/v1/tracks",
        json={"title": "t", "artist": "Bad\x01Artist"},
        headers=gql.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "r\x01@example.com", "username": "rest1", "password": "p" * 12},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    _assert_same_server(falkordb_server)


async def test_the_engine_refuses_a_write_that_would_crash_the_server(
    falkordb_server: EmbeddedServer,
) -> None:
    """The last line of defence: a write that forgot its field check."""
    engine = FalkorDBEngine.from_socket(falkordb_server.socket_path, "control_chars")
    try:
        with pytest.raises(ValidationError):
            await engine.write("raw", "CREATE (:Artist {name_key: $k})", {"k": "\x01"})
        with pytest.raises(ValidationError):
            await engine.write(
                "raw", "UNWIND $rows AS r CREATE (:X {v: r.v})", {"rows": [{"v": "a\x9b"}]}
            )
        # Our own key separator (U+001F) and multi-line text stay writable.
        written = await engine.write(
            "raw", "CREATE (x:X {k: $k}) RETURN x.k AS k", {"k": "a\x1fb\n"}
        )
        assert written == [{"k": "a\x1fb\n"}]
    finally:
        await engine.delete_graph()
        await engine.close()
    _assert_same_server(falkordb_server)


def test_check_and_clean() -> None:
    for bad in REFUSED:
        with pytest.raises(ValidationError):
            check_text(f"x{bad}", "name")
        with pytest.raises(ValidationError):
            check_text(f"x{bad}", "description", multiline=True)
    assert check_text("a\tb\nc\r", "description", multiline=True) == "a\tb\nc\r"
    with pytest.raises(ValidationError):
        check_text("a\tb", "name")
    assert clean_text("Alice\x01 Cooper\x00") == "Alice Cooper"
    assert clean_text("Rock\tPop\x1fJazz\x85Blues") == "Rock Pop Jazz Blues"


def _tagged_mp3(path: Path) -> Path:
    audio_fixtures.write(path, audio_fixtures.click_track(120, 2.0), 22050)
    audio = mutagen.File(path, easy=True)
    audio.add_tags()
    audio.update({"title": "Bad\x01 Title", "artist": "Evil\x01Artist", "genre": "Noise\x02"})
    audio.save()
    return path


def test_tags_read_from_files_are_cleaned(tmp_path: Path) -> None:
    tags = read_tags(_tagged_mp3(tmp_path / "x.mp3"), "mp3")
    assert (tags.title, tags.artists, tags.genre) == ("Bad Title", ("EvilArtist",), "Noise")
    assert title_from_name("01_Evil\x01Song\x1b.mp3") == "01 EvilSong"


async def test_a_scanned_file_with_u0001_tags_is_catalogued_clean(
    engine: GraphEngine, falkordb_server: EmbeddedServer, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    _tagged_mp3(library / "x.mp3")

    async def progress(done: int, total: int) -> None:
        return None

    queued: list[str] = []

    async def enqueue(track_id: str) -> None:
        queued.append(track_id)

    summary = await scan_folder(engine, library, progress, enqueue)
    assert summary["added"] == 1, summary
    page, _ = await catalog.artists_page(engine, None, None, 10)
    assert [a["name"] for a in page] == ["EvilArtist"]
    _assert_same_server(falkordb_server)
