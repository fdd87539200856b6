"""A new track is created in one piece: every property it can have named in the one
creation query, its relations created with their properties, nothing written twice."""

from typing import Any

import pytest

from graph import catalog_writes
from graph.engine import GraphEngine
from graph.queries.catalog_writes import NEW_TRACK_PROPS

FILE_PROPS = {
    "file_path": "/music/a/b.flac",
    "content_hash": "ab" * 32,
    "file_size": 123_456,
    "file_mtime_ns": 1_700_000_000_123_456_789,
    "format": "flac",
    "analysis_status": "QUEUED",
    "missing": False,
}
FULL = {
    "title": "So What",
    "year": 1959,
    "duration": 562.3,
    "track_number": 1,
    "disc_number": 1,
    "tags": ["modal", "live"],
    "artist_names": ["Miles Davis"],
    "album_title": "Kind of Blue",
    "genres": ["Jazz"],
    "file_props": FILE_PROPS,
}


async def _properties(engine: GraphEngine, track_id: str) -> dict[str, Any]:
    rows = await engine.read(
        "t", "MATCH (t:Track {id: $id}) RETURN properties(t) AS p", {"id": track_id}
    )
    return rows[0]["p"]  # type: ignore[no-any-return]


async def test_every_property_a_new_track_can_have_is_stored(engine: GraphEngine) -> None:
    [track] = await catalog_writes.create_tracks(engine, [FULL])
    stored = await _properties(engine, track["id"])

    assert set(stored) == {"id", "created_at", "updated_at", *NEW_TRACK_PROPS}
    assert {k: stored[k] for k in FILE_PROPS} == FILE_PROPS
    assert stored["tags"] == ["modal", "live"]
    assert stored["genre_keys"] == ["jazz"]
    assert stored["created_at"] == stored["updated_at"]
    # The sort keys are what an update computes for the same values.
    again = await catalog_writes.update_track(engine, track["id"], {"title": "So What"})
    assert again["title"] == "So What"
    after = await _properties(engine, track["id"])
    assert {k: after[k] for k in ("title_sort", "sk_title")} == {
        k: stored[k] for k in ("title_sort", "sk_title")
    }


async def test_absent_fields_are_not_stored(engine: GraphEngine) -> None:
    [track] = await catalog_writes.create_tracks(engine, [{"title": "Bare"}])
    stored = await _properties(engine, track["id"])
    assert "year" not in stored and "file_path" not in stored and "tags" not in stored
    assert stored["genre_keys"] == []
    assert {"title", "title_sort", "sk_title", "sk_year", "sk_duration", "sk_created"} <= set(
        stored
    )


async def test_repeated_names_link_once_each(engine: GraphEngine) -> None:
    [track] = await catalog_writes.create_tracks(
        engine,
        [
            {
                "title": "Duet",
                "artist_names": ["Miles Davis", "MILES DAVIS", "Gil Evans"],
                "album_title": "Miles Ahead",
                "genres": ["Jazz", " jazz ", "JAZZ", "Cool"],
            }
        ],
    )
    rows = await engine.read(
        "t",
        "MATCH (t:Track {id: $id})-[r]->(n) "
        "RETURN type(r) AS type, n.name AS name, r.position AS position, r.source AS source "
        "ORDER BY type, position, name",
        {"id": track["id"]},
    )
    assert [(r["type"], r["name"], r["position"], r["source"]) for r in rows] == [
        ("BY", "Miles Davis", 0, None),
        ("BY", "Gil Evans", 1, None),
        ("IN_GENRE", "Cool", None, "user"),
        ("IN_GENRE", "Jazz", None, "user"),
        ("ON", None, None, None),
    ]
    by = await engine.read(
        "t", "MATCH (:Track {id: $id})-[r:BY]->() RETURN r.role AS role", {"id": track["id"]}
    )
    assert [r["role"] for r in by] == ["primary", "primary"]
    stored = await _properties(engine, track["id"])
    assert stored["genre_keys"] == ["jazz", "cool"]


async def test_a_property_the_query_cannot_store_is_refused_before_writing(
    engine: GraphEngine,
) -> None:
    odd = {"title": "Odd", "file_props": {**FILE_PROPS, "lyrics": "la la"}}
    with pytest.raises(ValueError, match="lyrics"):
        await catalog_writes.create_tracks(engine, [{"title": "Fine"}, odd])
    rows = await engine.read("t", "MATCH (t:Track) RETURN count(t) AS n")
    assert rows[0]["n"] == 0


async def _node(engine: GraphEngine, label: str, node_id: str) -> dict[str, Any]:
    rows = await engine.read(
        "t", f"MATCH (n:{label} {{id: $id}}) RETURN properties(n) AS p", {"id": node_id}
    )
    return rows[0]["p"]  # type: ignore[no-any-return]


async def test_new_names_are_made_once_and_existing_ones_reused(engine: GraphEngine) -> None:
    [first] = await catalog_writes.create_tracks(engine, [FULL])
    batch = await catalog_writes.create_tracks(
        engine,
        [
            {
                "title": "Blue",
                "artist_names": ["MILES DAVIS"],
                "album_title": "kind of blue",
                "genres": ["jazz"],
            },
            {
                "title": "Springsville",
                "artist_names": ["Gil Evans", "Miles Davis"],
                "album_title": "Miles Ahead",
                "genres": ["Cool Jazz"],
                "year": 1957,
            },
            {
                "title": "Maids",
                "artist_names": ["gil evans"],
                "album_title": "MILES AHEAD",
                "genres": ["cool jazz", "Jazz"],
            },
        ],
    )
    rows = await engine.read(
        "t",
        "MATCH (n) WHERE n:Artist OR n:Album OR n:Genre "
        "RETURN labels(n)[0] AS label, n.id AS id, coalesce(n.name, n.title) AS name "
        "ORDER BY label, name",
    )
    assert [(r["label"], r["name"]) for r in rows] == [
        ("Album", "Kind of Blue"),
        ("Album", "Miles Ahead"),
        ("Artist", "Gil Evans"),  # the batch's first spelling
        ("Artist", "Miles Davis"),
        ("Genre", "Cool Jazz"),
        ("Genre", "Jazz"),
    ]
    ids = {(r["label"], r["name"]): r["id"] for r in rows}
    owners = await engine.read(
        "t",
        "MATCH (al:Album)-[:BY]->(a:Artist) RETURN al.title AS album, a.name AS artist "
        "ORDER BY album",
    )
    assert [(r["album"], r["artist"]) for r in owners] == [
        ("Kind of Blue", "Miles Davis"),
        ("Miles Ahead", "Gil Evans"),
    ]
    on = await engine.read(
        "t",
        "MATCH (t:Track)-[:ON]->(al:Album) RETURN t.title AS track, al.id AS album ORDER BY track",
    )
    assert {r["track"]: r["album"] for r in on} == {
        "So What": ids[("Album", "Kind of Blue")],
        "Blue": ids[("Album", "Kind of Blue")],
        "Springsville": ids[("Album", "Miles Ahead")],
        "Maids": ids[("Album", "Miles Ahead")],
    }
    assert [t["title"] for t in batch] == ["Blue", "Springsville", "Maids"]
    assert first["id"] not in {t["id"] for t in batch}

    # Made in the batch, in one piece, they hold what the single-node writes store.
    artist = await _node(engine, "Artist", ids[("Artist", "Gil Evans")])
    alone = await catalog_writes.create_artist(engine, "Bill Evans")
    assert set(artist) == set(await _node(engine, "Artist", alone["id"]))
    assert artist["name_key"] == "gil evans" and artist["created_at"] == artist["updated_at"]
    album = await _node(engine, "Album", ids[("Album", "Miles Ahead")])
    other = await catalog_writes.create_album(
        engine, {"title": "Portrait", "artist_name": "Bill Evans", "year": 1959}
    )
    assert set(album) == set(await _node(engine, "Album", other["id"]))
    assert album["year"] == 1957
    genre = await _node(engine, "Genre", ids[("Genre", "Cool Jazz")])
    assert set(genre) == {"id", "name", "name_key"}
