"""A track page reads only the properties its document selects (look-ahead), and
returns exactly what the whole rows would give."""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from graph import catalog_writes
from graph.engine import GraphEngine
from graph.queries import catalog as q
from resolvers.server_key import valid_stream_signature
from server.settings import Settings
from tests.support import GraphQLClient, record_reads

PAGE = "tracks(first: 20, sort: {field: TITLE, direction: ASC}) { edges { node { %s } } }"
EVERYTHING = """
id title duration year trackNumber discNumber tags format fileSize createdAt updatedAt
missing streamUrl
artists { id name createdAt } album { id title year createdAt artist { id name createdAt } }
genres { id name }
"""
# Narrow selections, and the track map each reads (in TRACK_MAP's order).
NARROW = [
    ("title artists { id } genres { id }", ".id, .title"),
    ("year album { artist { createdAt } }", ".id, .year"),
    ("fileSize streamUrl missing album { title }", ".id, .file_size, .missing"),
    ("__typename tags artists { createdAt }", ".id, .tags"),
]


async def _catalogue(engine: GraphEngine) -> None:
    inputs: list[dict[str, Any]] = []
    for i in range(12):
        inputs.append(
            {
                "title": f"Song {i:02d}",
                "year": 1990 + i,
                "duration": 120.0 + i,
                "track_number": i + 1,
                "tags": [f"tag{i}"],
                # Credit order differs from name order: the page sorts by position.
                "artist_names": [f"Zed {i % 3}", f"Abe {i % 2}"],
                "album_title": f"Album {i % 4}",
                "genres": ["Rock", "Jazz"] if i % 2 else ["Folk"],
                "file_props": {"file_size": 1000 + i, "format": "flac"},
            }
        )
    await catalog_writes.create_tracks(engine, inputs)


def _signed(node: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """A node whose streamUrl is replaced by its path, once its signature is checked: the
    URL's expiry counts from the second it was signed, so two reads a second apart
    sign different URLs of the same track."""
    if "streamUrl" not in node:
        return node
    url = urlsplit(node["streamUrl"])
    query = dict(parse_qsl(url.query))
    assert valid_stream_signature(settings, node["id"], query["expires"], query["sig"]), url
    return node | {"streamUrl": url.path}


def _pick(value: Any, shape: Any) -> Any:
    """The part of a full answer that a narrower answer (its shape) holds."""
    if isinstance(shape, dict) and value is not None:
        return {
            key: "Track" if key == "__typename" else _pick(value[key], inner)
            for key, inner in shape.items()
        }
    if isinstance(shape, list) and value is not None:
        return [_pick(v, inner) for v, inner in zip(value, shape, strict=True)]
    return value


@pytest.fixture
def sent(engine: GraphEngine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every graph read of the page query, as sent."""
    return record_reads(engine, "tracks_page", monkeypatch)


async def test_narrow_selections_read_less_and_answer_the_same(
    gql: GraphQLClient, engine: GraphEngine, settings: Settings, sent: list[str]
) -> None:
    await _catalogue(engine)
    full = (await gql.query("{ %s }" % (PAGE % EVERYTHING)))["tracks"]["edges"]
    assert [e["node"]["artists"][0]["name"] for e in full[:3]] == ["Zed 0", "Zed 1", "Zed 2"]
    assert "file_size" in sent[-1]
    for selection, track_map in NARROW:
        sent.clear()
        narrow = (await gql.query("{ %s }" % (PAGE % selection)))["tracks"]["edges"]
        assert len(narrow) == len(full) == 12
        for got, whole in zip(narrow, full, strict=True):
            picked = _pick(whole["node"], got["node"])
            if "streamUrl" in got["node"]:
                picked["id"] = got["node"]["id"] = whole["node"]["id"]  # to check the URL
            assert _signed(got["node"], settings) == _signed(picked, settings), selection
        [query] = sent
        row_map = query.rsplit("RETURN", 1)[1]
        # The track's own map holds `id` and what the selection reads, nothing else.
        assert f"t {{{track_map}, rel_" in row_map or f"t {{{track_map}}}" in row_map, row_map
        assert ".updated_at" not in row_map


async def test_fragments_on_other_types_and_unknown_fields_read_whole_rows(
    gql: GraphQLClient, engine: GraphEngine, sent: list[str]
) -> None:
    await _catalogue(engine)
    document = """
    { %s }
    fragment Year on Track { year }
    """ % (PAGE % "...Year ... on Node { id } analysisStatus")
    edges = (await gql.query(document))["tracks"]["edges"]
    assert [e["node"]["year"] for e in edges] == list(range(1990, 2002))
    # `... on Node` may need anything: the whole map.
    assert ".updated_at" in sent[-1].rsplit("RETURN", 1)[1]
    sent.clear()
    edges = (await gql.query("{ %s } fragment Year on Track { year }" % (PAGE % "...Year")))[
        "tracks"
    ]["edges"]
    assert [e["node"]["year"] for e in edges] == list(range(1990, 2002))
    assert ".updated_at" not in sent[-1].rsplit("RETURN", 1)[1]


def test_a_projection_keeps_id_and_the_sort_fields_of_relations() -> None:
    relations = frozenset({"artists", "album", "album_artist", "genres"})
    projection = {
        "track": frozenset({"title"}),
        "artists": frozenset(),
        "genres": frozenset(),
        "album_artist": frozenset({"created_at"}),
    }
    query, _ = q.tracks_window(
        q.TrackFilter(), "TITLE", "ASC", None, False, False, relations, projection
    )
    assert "t {.id, .title, rel_artists" in query
    # Artists and genres are sorted by name in Python: their name always comes.
    assert "ra {.id, .name, position:" in query
    assert "rg {.id, .name}" in query
    assert "rx {.id, .created_at}" in query
    # No entry for the album: its whole map.
    assert "ral {.id, .title, .year, .created_at, .updated_at, rel_artist" in query
    whole, _ = q.tracks_window(q.TrackFilter(), "TITLE", "ASC", None, False, False, relations)
    assert f"t {{{q.TRACK_MAP.strip()[1:-1]}, rel_artists" in whole
