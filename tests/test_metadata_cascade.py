"""Deleting a track, or an artist or album with cascade, deletes the tracks' Metadata
nodes too, and no other track's."""

from graph.engine import GraphEngine
from tests.support import GraphQLClient

IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) {
  importTracks(input: $input) { tracks { id artists { id } album { id } } }
}
"""
SET_METADATA = """
mutation Set($id: ID!, $entries: [MetadataEntryInput!]!) {
  setMetadata(trackId: $id, entries: $entries) { key }
}
"""
DELETE_TRACK = "mutation D($id: ID!) { deleteTrack(id: $id) { deletedId } }"
DELETE_ARTIST = "mutation D($id: ID!) { deleteArtist(id: $id, cascade: true) { tracksDeleted } }"
DELETE_ALBUM = "mutation D($id: ID!) { deleteAlbum(id: $id, cascade: true) { tracksDeleted } }"
METADATA_OWNERS = (
    "MATCH (m:Metadata) OPTIONAL MATCH (t:Track)-[:HAS_METADATA]->(m) "
    "RETURN t.id AS track, count(m) AS n"
)
ENTRIES = [
    {"key": "isrc", "value": "USSM15900113"},
    {"key": "mood", "value": "calm", "source": "tagger"},
]


async def _tracks(gql: GraphQLClient) -> dict[str, dict[str, str]]:
    """Two tracks by Alpha on Alpha's album, one loose Alpha track, one Beta track; each
    with two metadata entries."""
    inputs = [
        {"title": "On 1", "artistNames": ["Alpha"], "albumTitle": "Alpha Album"},
        {"title": "On 2", "artistNames": ["Alpha"], "albumTitle": "Alpha Album"},
        {"title": "Loose", "artistNames": ["Alpha"]},
        {"title": "Other", "artistNames": ["Beta"]},
    ]
    made = (await gql.query(IMPORT_TRACKS, {"input": inputs}))["importTracks"]["tracks"]
    for track in made:
        await gql.query(SET_METADATA, {"id": track["id"], "entries": ENTRIES})
    return {
        name: {
            "id": t["id"],
            "artist": t["artists"][0]["id"],
            "album": (t["album"] or {}).get("id", ""),
        }
        for name, t in zip(("on1", "on2", "loose", "other"), made, strict=True)
    }


async def _metadata(engine: GraphEngine) -> dict[str | None, int]:
    """Metadata nodes by the track holding them (None: held by no track)."""
    rows = await engine.read("metadata_owners", METADATA_OWNERS)
    return {row["track"]: int(row["n"]) for row in rows}


async def test_deleting_a_track_deletes_its_metadata(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    t = await _tracks(gql)
    await gql.query(DELETE_TRACK, {"id": t["loose"]["id"]})
    assert await _metadata(engine) == {t[n]["id"]: 2 for n in ("on1", "on2", "other")}


async def test_an_album_cascade_deletes_its_tracks_metadata(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    t = await _tracks(gql)
    data = await gql.query(DELETE_ALBUM, {"id": t["on1"]["album"]})
    assert data["deleteAlbum"]["tracksDeleted"] == 2
    assert await _metadata(engine) == {t[n]["id"]: 2 for n in ("loose", "other")}


async def test_an_artist_cascade_deletes_its_tracks_metadata(
    gql: GraphQLClient, engine: GraphEngine
) -> None:
    t = await _tracks(gql)
    data = await gql.query(DELETE_ARTIST, {"id": t["on1"]["artist"]})
    assert data["deleteArtist"]["tracksDeleted"] == 3
    assert await _metadata(engine) == {t["other"]["id"]: 2}
    data = await gql.query(DELETE_ARTIST, {"id": t["other"]["artist"]})
    assert data["deleteArtist"]["tracksDeleted"] == 1
    assert await _metadata(engine) == {}
