"""Deleting an artist or album that still has tracks: CONFLICT, unless cascade is true."""

from typing import Any

from tests.support import GraphQLClient

IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) {
  importTracks(input: $input) { tracks { id title artists { id name } album { id title } } }
}
"""

CREATE_ALBUM = """
mutation CreateAlbum($input: CreateAlbumInput!) { createAlbum(input: $input) { id } }
"""

DELETE_ARTIST = """
mutation DeleteArtist($id: ID!, $cascade: Boolean) {
  deleteArtist(id: $id, cascade: $cascade) { deletedId tracksDeleted }
}
"""

DELETE_ALBUM = """
mutation DeleteAlbum($id: ID!, $cascade: Boolean) {
  deleteAlbum(id: $id, cascade: $cascade) { deletedId tracksDeleted }
}
"""

CATALOGUE = """
{
  tracks(first: 100) { totalCount edges { node { id } } }
  artists(first: 100) { totalCount edges { node { id } } }
  albums(first: 100) { totalCount edges { node { id } } }
}
"""

LOOKUP = """
query Lookup($artist: ID!, $album: ID!) { artist(id: $artist) { id } album(id: $album) { id } }
"""


async def _ids(gql: GraphQLClient) -> dict[str, set[str]]:
    data = await gql.query(CATALOGUE)
    ids = {}
    for name in ("tracks", "artists", "albums"):
        ids[name] = {e["node"]["id"] for e in data[name]["edges"]}
        assert data[name]["totalCount"] == len(ids[name])
    return ids


async def _catalogue(gql: GraphQLClient) -> dict[str, Any]:
    """Alpha: an album of three tracks and two loose tracks. Beta: an album of two, one
    loose track, and one track on Alpha's album."""
    inputs: list[dict[str, Any]] = [
        *(
            {"title": f"Alpha On {i}", "artistNames": ["Alpha"], "albumTitle": "Alpha Album"}
            for i in range(3)
        ),
        *({"title": f"Alpha Loose {i}", "artistNames": ["Alpha"]} for i in range(2)),
        *(
            {"title": f"Beta On {i}", "artistNames": ["Beta"], "albumTitle": "Beta Album"}
            for i in range(2)
        ),
        {"title": "Beta Loose", "artistNames": ["Beta"]},
    ]
    tracks = (await gql.query(IMPORT_TRACKS, {"input": inputs}))["importTracks"]["tracks"]
    alpha, alpha_album = tracks[0]["artists"][0]["id"], tracks[0]["album"]["id"]
    beta, beta_album = tracks[5]["artists"][0]["id"], tracks[5]["album"]["id"]
    guest = (
        await gql.query(
            IMPORT_TRACKS,
            {
                "input": [
                    {"title": "Beta Guest Spot", "artistNames": ["Beta"], "albumId": alpha_album},
                ]
            },
        )
    )["importTracks"]["tracks"][0]
    empty_album = (
        await gql.query(CREATE_ALBUM, {"input": {"title": "Alpha Demos", "artistId": alpha}})
    )["createAlbum"]["id"]
    by_title = {t["title"]: t["id"] for t in [*tracks, guest]}
    return {
        "alpha": alpha,
        "alpha_album": alpha_album,
        "alpha_empty_album": empty_album,
        "beta": beta,
        "beta_album": beta_album,
        "tracks": by_title,
    }


async def test_delete_artist_with_tracks_is_a_conflict(gql: GraphQLClient) -> None:
    c = await _catalogue(gql)
    before = await _ids(gql)
    for cascade in (None, False):
        error = await gql.error(DELETE_ARTIST, {"id": c["alpha"], "cascade": cascade})
        assert error["extensions"]["code"] == "CONFLICT"
    assert await _ids(gql) == before


async def test_delete_artist_with_cascade_removes_its_tracks_and_albums(
    gql: GraphQLClient,
) -> None:
    c = await _catalogue(gql)
    before = await _ids(gql)
    gone = {i for title, i in c["tracks"].items() if title.startswith("Alpha")}
    gone.add(c["tracks"]["Beta Guest Spot"])  # on Alpha's album
    assert len(gone) == 6

    data = await gql.query(DELETE_ARTIST, {"id": c["alpha"], "cascade": True})
    assert data["deleteArtist"] == {"deletedId": c["alpha"], "tracksDeleted": len(gone)}

    after = await _ids(gql)
    assert after["tracks"] == before["tracks"] - gone
    assert after["artists"] == {c["beta"]}
    assert after["albums"] == {c["beta_album"]}
    lookup = await gql.query(LOOKUP, {"artist": c["alpha"], "album": c["alpha_album"]})
    assert lookup == {"artist": None, "album": None}


async def test_delete_album_with_tracks_is_a_conflict(gql: GraphQLClient) -> None:
    c = await _catalogue(gql)
    before = await _ids(gql)
    for cascade in (None, False):
        error = await gql.error(DELETE_ALBUM, {"id": c["alpha_album"], "cascade": cascade})
        assert error["extensions"]["code"] == "CONFLICT"
    assert await _ids(gql) == before


async def test_delete_album_with_cascade_removes_only_its_tracks(gql: GraphQLClient) -> None:
    c = await _catalogue(gql)
    before = await _ids(gql)
    gone = {i for title, i in c["tracks"].items() if title.startswith("Alpha On")}
    gone.add(c["tracks"]["Beta Guest Spot"])

    data = await gql.query(DELETE_ALBUM, {"id": c["alpha_album"], "cascade": True})
    assert data["deleteAlbum"] == {"deletedId": c["alpha_album"], "tracksDeleted": len(gone)}

    after = await _ids(gql)
    assert after["tracks"] == before["tracks"] - gone
    assert after["artists"] == before["artists"]
    assert after["albums"] == before["albums"] - {c["alpha_album"]}
    lookup = await gql.query(LOOKUP, {"artist": c["alpha"], "album": c["alpha_album"]})
    assert lookup == {"artist": {"id": c["alpha"]}, "album": None}

    # With its tracks gone, the artist is left with loose tracks only: still a conflict.
    error = await gql.error(DELETE_ARTIST, {"id": c["alpha"]})
    assert error["extensions"]["code"] == "CONFLICT"


async def test_cascade_on_an_empty_album_removes_no_tracks(gql: GraphQLClient) -> None:
    c = await _catalogue(gql)
    before = await _ids(gql)
    data = await gql.query(DELETE_ALBUM, {"id": c["alpha_empty_album"], "cascade": True})
    assert data["deleteAlbum"] == {"deletedId": c["alpha_empty_album"], "tracksDeleted": 0}
    after = await _ids(gql)
    assert after == {**before, "albums": before["albums"] - {c["alpha_empty_album"]}}
