"""Create, read, update and delete tracks, artists and albums through GraphQL."""

import asyncio
from datetime import datetime
from typing import Any

from tests.support import GraphQLClient

# Well-formed ids that name nothing.
MISSING_ARTIST_ID = "art_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
MISSING_ALBUM_ID = "alb_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"

TRACK_FIELDS = """
fragment TrackFields on Track {
  id title duration year trackNumber discNumber tags format fileSize createdAt updatedAt
  artists { id name }
  album { id title year artist { id name } }
  genres { id name }
}
"""

CREATE_TRACK = (
    TRACK_FIELDS
    + """
mutation Create($input: CreateTrackInput!) { createTrack(input: $input) { ...TrackFields } }
"""
)

UPDATE_TRACK = (
    TRACK_FIELDS
    + """
mutation Update($id: ID!, $input: UpdateTrackInput!) {
  updateTrack(id: $id, input: $input) { ...TrackFields }
}
"""
)

DELETE_TRACK = """
mutation Delete($id: ID!) { deleteTrack(id: $id) { deletedId tracksDeleted } }
"""

READ_TRACK = (
    TRACK_FIELDS
    + """
query Read($id: ID!) {
  track(id: $id) { ...TrackFields }
  node(id: $id) { __typename ... on Track { ...TrackFields } }
}
"""
)

CREATE_ARTIST = """
mutation CreateArtist($name: String!) { createArtist(input: {name: $name}) { id name createdAt } }
"""

UPDATE_ARTIST = """
mutation UpdateArtist($id: ID!, $name: String!) {
  updateArtist(id: $id, input: {name: $name}) { id name createdAt }
}
"""

DELETE_ARTIST = """
mutation DeleteArtist($id: ID!) { deleteArtist(id: $id) { deletedId tracksDeleted } }
"""

READ_ARTIST = """
query ReadArtist($id: ID!) {
  artist(id: $id) { id name createdAt }
  node(id: $id) { __typename ... on Artist { id name } }
}
"""

ALBUM_FIELDS = "id title year createdAt artist { id name }"

CREATE_ALBUM = f"""
mutation CreateAlbum($input: CreateAlbumInput!) {{
  createAlbum(input: $input) {{ {ALBUM_FIELDS} }}
}}
"""

UPDATE_ALBUM = f"""
mutation UpdateAlbum($id: ID!, $input: UpdateAlbumInput!) {{
  updateAlbum(id: $id, input: $input) {{ {ALBUM_FIELDS} }}
}}
"""

DELETE_ALBUM = """
mutation DeleteAlbum($id: ID!) { deleteAlbum(id: $id) { deletedId tracksDeleted } }
"""

READ_ALBUM = f"""
query ReadAlbum($id: ID!) {{
  album(id: $id) {{ {ALBUM_FIELDS} }}
  node(id: $id) {{ __typename ... on Album {{ id title }} }}
}}
"""

GENRES = "{ genres { id name } }"

TOTALS = "{ tracks { totalCount } artists { totalCount } albums { totalCount } }"

FULL_INPUT: dict[str, Any] = {
    "title": "Paranoid Android",
    "artistNames": ["Radiohead", "Guest Player"],
    "albumTitle": "OK Computer",
    "genres": ["Rock", "Alternative"],
    "year": 1997,
    "duration": 383.5,
    "trackNumber": 2,
    "discNumber": 1,
    "tags": ["90s", "classic"],
}


def _instant(value: str) -> datetime:
    assert value.endswith("Z"), value
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None
    return moment


async def _totals(gql: GraphQLClient) -> dict[str, int]:
    data = await gql.query(TOTALS)
    return {name: data[name]["totalCount"] for name in ("tracks", "artists", "albums")}


async def _create(gql: GraphQLClient, **input: Any) -> dict[str, Any]:
    data = await gql.query(CREATE_TRACK, {"input": input})
    return data["createTrack"]  # type: ignore[no-any-return]


async def _later() -> None:
    # updatedAt has millisecond resolution; make sure the clock has moved.
    await asyncio.sleep(0.005)


async def test_create_track_reads_back_through_track_and_node(gql: GraphQLClient) -> None:
    created = await _create(gql, **FULL_INPUT)

    assert created["id"].startswith("trk_")
    assert created["title"] == "Paranoid Android"
    assert created["duration"] == 383.5
    assert created["year"] == 1997
    assert (created["trackNumber"], created["discNumber"]) == (2, 1)
    assert created["tags"] == ["90s", "classic"]
    assert created["format"] is None and created["fileSize"] is None
    assert [a["name"] for a in created["artists"]] == ["Radiohead", "Guest Player"]
    assert all(a["id"].startswith("art_") for a in created["artists"])
    assert created["album"]["title"] == "OK Computer"
    assert created["album"]["id"].startswith("alb_")
    assert created["album"]["artist"] == created["artists"][0]
    assert sorted(g["name"] for g in created["genres"]) == ["Alternative", "Rock"]
    assert all(g["id"].startswith("gen_") for g in created["genres"])
    assert _instant(created["createdAt"]) == _instant(created["updatedAt"])

    data = await gql.query(READ_TRACK, {"id": created["id"]})
    assert data["track"] == created
    assert data["node"] == {"__typename": "Track", **created}


async def test_create_track_with_only_a_title_has_empty_relations(gql: GraphQLClient) -> None:
    created = await _create(gql, title="  Untitled  ")
    assert created["title"] == "Untitled"
    assert created["artists"] == [] and created["genres"] == [] and created["tags"] == []
    assert created["album"] is None
    assert created["year"] is None and created["duration"] is None
    assert (await gql.query(READ_TRACK, {"id": created["id"]}))["track"] == created


async def test_update_track_changes_only_what_is_given(gql: GraphQLClient) -> None:
    created = await _create(gql, **FULL_INPUT)
    track_id = created["id"]
    await _later()

    renamed = (await gql.query(UPDATE_TRACK, {"id": track_id, "input": {"title": "Airbag"}}))[
        "updateTrack"
    ]
    assert renamed["title"] == "Airbag"
    assert renamed["createdAt"] == created["createdAt"]
    assert _instant(renamed["updatedAt"]) > _instant(created["updatedAt"])
    unchanged = (
        "year",
        "duration",
        "trackNumber",
        "discNumber",
        "tags",
        "artists",
        "album",
        "genres",
    )
    assert {k: renamed[k] for k in unchanged} == {k: created[k] for k in unchanged}

    cleared = (await gql.query(UPDATE_TRACK, {"id": track_id, "input": {"year": None}}))[
        "updateTrack"
    ]
    assert cleared["year"] is None
    assert cleared["duration"] == 383.5
    assert cleared["title"] == "Airbag"

    data = await gql.query(READ_TRACK, {"id": track_id})
    assert data["track"]["year"] is None
    assert data["track"]["title"] == "Airbag"


async def test_update_track_replaces_relations(gql: GraphQLClient) -> None:
    created = await _create(gql, **FULL_INPUT)
    track_id = created["id"]

    moved = (
        await gql.query(UPDATE_TRACK, {"id": track_id, "input": {"artistNames": ["Thom Yorke"]}})
    )["updateTrack"]
    assert [a["name"] for a in moved["artists"]] == ["Thom Yorke"]
    assert moved["album"] == created["album"]  # not given, so kept
    assert moved["genres"] == created["genres"]

    rehomed = (
        await gql.query(UPDATE_TRACK, {"id": track_id, "input": {"albumTitle": "The Eraser"}})
    )["updateTrack"]
    assert rehomed["album"]["title"] == "The Eraser"
    assert rehomed["album"]["id"] != created["album"]["id"]
    # An album by title is merged within the track's (current) first artist.
    assert rehomed["album"]["artist"]["name"] == "Thom Yorke"

    regenred = (
        await gql.query(UPDATE_TRACK, {"id": track_id, "input": {"genres": ["Electronic"]}})
    )["updateTrack"]
    assert [g["name"] for g in regenred["genres"]] == ["Electronic"]

    back = (
        await gql.query(
            UPDATE_TRACK, {"id": track_id, "input": {"albumId": created["album"]["id"]}}
        )
    )["updateTrack"]
    assert back["album"]["id"] == created["album"]["id"]

    orphaned = (
        await gql.query(UPDATE_TRACK, {"id": track_id, "input": {"albumId": None, "genres": []}})
    )["updateTrack"]
    assert orphaned["album"] is None
    assert orphaned["genres"] == []

    data = await gql.query(READ_TRACK, {"id": track_id})
    assert data["track"] == orphaned
    assert [a["name"] for a in data["track"]["artists"]] == ["Thom Yorke"]


async def test_update_with_missing_references_is_not_found(gql: GraphQLClient) -> None:
    error = await gql.error(
        UPDATE_TRACK, {"id": "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B", "input": {"title": "X"}}
    )
    assert error["extensions"]["code"] == "NOT_FOUND"

    created = await _create(gql, **FULL_INPUT)
    before = await _totals(gql)
    for input in (
        {"title": "X", "artistIds": [MISSING_ARTIST_ID]},
        {"title": "X", "albumId": MISSING_ALBUM_ID},
    ):
        error = await gql.error(UPDATE_TRACK, {"id": created["id"], "input": input})
        assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await gql.query(READ_TRACK, {"id": created["id"]}))["track"] == created
    assert await _totals(gql) == before


async def test_delete_track(gql: GraphQLClient) -> None:
    created = await _create(gql, **FULL_INPUT)
    track_id = created["id"]

    data = await gql.query(DELETE_TRACK, {"id": track_id})
    assert data["deleteTrack"] == {"deletedId": track_id, "tracksDeleted": 1}

    read = await gql.query(READ_TRACK, {"id": track_id})
    assert read == {"track": None, "node": None}
    assert (await _totals(gql))["tracks"] == 0

    error = await gql.error(DELETE_TRACK, {"id": track_id})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_artist_create_update_delete(gql: GraphQLClient) -> None:
    created = (await gql.query(CREATE_ARTIST, {"name": "  Nina Simone "}))["createArtist"]
    artist_id = created["id"]
    assert artist_id.startswith("art_")
    assert created["name"] == "Nina Simone"
    _instant(created["createdAt"])

    read = await gql.query(READ_ARTIST, {"id": artist_id})
    assert read["artist"] == created
    assert read["node"] == {"__typename": "Artist", "id": artist_id, "name": "Nina Simone"}

    updated = (await gql.query(UPDATE_ARTIST, {"id": artist_id, "name": "Eunice Waymon"}))[
        "updateArtist"
    ]
    assert updated == {**created, "name": "Eunice Waymon"}
    assert (await gql.query(READ_ARTIST, {"id": artist_id}))["artist"]["name"] == "Eunice Waymon"

    deleted = await gql.query(DELETE_ARTIST, {"id": artist_id})
    assert deleted["deleteArtist"] == {"deletedId": artist_id, "tracksDeleted": 0}
    assert await gql.query(READ_ARTIST, {"id": artist_id}) == {"artist": None, "node": None}

    again = await gql.error(DELETE_ARTIST, {"id": artist_id})
    assert again["extensions"]["code"] == "NOT_FOUND"
    rename = await gql.error(UPDATE_ARTIST, {"id": artist_id, "name": "Anyone"})
    assert rename["extensions"]["code"] == "NOT_FOUND"
    assert (await _totals(gql))["artists"] == 0


async def test_album_create_update_delete(gql: GraphQLClient) -> None:
    created = (
        await gql.query(
            CREATE_ALBUM, {"input": {"title": "Kid A", "artistName": "Radiohead", "year": 2000}}
        )
    )["createAlbum"]
    album_id = created["id"]
    assert album_id.startswith("alb_")
    assert (created["title"], created["year"]) == ("Kid A", 2000)
    assert created["artist"]["name"] == "Radiohead"
    _instant(created["createdAt"])

    read = await gql.query(READ_ALBUM, {"id": album_id})
    assert read["album"] == created
    assert read["node"] == {"__typename": "Album", "id": album_id, "title": "Kid A"}

    other = (await gql.query(CREATE_ARTIST, {"name": "Thom Yorke"}))["createArtist"]
    updated = (
        await gql.query(
            UPDATE_ALBUM,
            {
                "id": album_id,
                "input": {"title": "Kid B", "year": None, "artistId": other["id"]},
            },
        )
    )["updateAlbum"]
    assert updated["id"] == album_id
    assert (updated["title"], updated["year"]) == ("Kid B", None)
    assert updated["artist"] == {"id": other["id"], "name": "Thom Yorke"}
    assert (await gql.query(READ_ALBUM, {"id": album_id}))["album"] == updated

    deleted = await gql.query(DELETE_ALBUM, {"id": album_id})
    assert deleted["deleteAlbum"] == {"deletedId": album_id, "tracksDeleted": 0}
    assert await gql.query(READ_ALBUM, {"id": album_id}) == {"album": None, "node": None}
    again = await gql.error(DELETE_ALBUM, {"id": album_id})
    assert again["extensions"]["code"] == "NOT_FOUND"
    change = await gql.error(UPDATE_ALBUM, {"id": album_id, "input": {"title": "X"}})
    assert change["extensions"]["code"] == "NOT_FOUND"
    assert (await _totals(gql))["albums"] == 0


async def test_genres_lists_merged_genres_by_name(gql: GraphQLClient) -> None:
    await _create(gql, title="One", genres=["Rock", "jazz"])
    await _create(gql, title="Two", genres=[" rock", "JAZZ ", "Blues"])
    data = await gql.query(GENRES)
    assert [g["name"] for g in data["genres"]] == ["Blues", "jazz", "Rock"]
    assert len({g["id"] for g in data["genres"]}) == 3


async def test_create_track_with_existing_artist_and_album_ids(gql: GraphQLClient) -> None:
    artist = (await gql.query(CREATE_ARTIST, {"name": "Björk"}))["createArtist"]
    album = (
        await gql.query(
            CREATE_ALBUM, {"input": {"title": "Homogenic", "artistId": artist["id"], "year": 1997}}
        )
    )["createAlbum"]

    track = await _create(gql, title="Jóga", artistIds=[artist["id"]], albumId=album["id"])
    assert track["artists"] == [{"id": artist["id"], "name": "Björk"}]
    assert track["album"]["id"] == album["id"]
    assert track["album"]["artist"]["id"] == artist["id"]
    assert await _totals(gql) == {"tracks": 1, "artists": 1, "albums": 1}


async def test_unknown_artist_or_album_id_is_not_found_and_writes_nothing(
    gql: GraphQLClient,
) -> None:
    before = await _totals(gql)
    error = await gql.error(
        CREATE_TRACK,
        {
            "input": {
                "title": "Ghost",
                "artistIds": [MISSING_ARTIST_ID],
                "artistNames": ["Somebody"],
                "albumTitle": "Nowhere",
                "genres": ["Ambient"],
            }
        },
    )
    assert error["extensions"]["code"] == "NOT_FOUND"

    error = await gql.error(
        CREATE_TRACK,
        {
            "input": {
                "title": "Ghost",
                "albumId": MISSING_ALBUM_ID,
                "artistNames": ["Somebody"],
            }
        },
    )
    assert error["extensions"]["code"] == "NOT_FOUND"

    assert await _totals(gql) == before == {"tracks": 0, "artists": 0, "albums": 0}
    assert (await gql.query(GENRES))["genres"] == []
