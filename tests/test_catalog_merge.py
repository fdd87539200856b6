"""Artists, albums and genres merge by folded name; imports do not duplicate them."""

from typing import Any

from tests.support import GraphQLClient

CREATE_TRACK = """
mutation Create($input: CreateTrackInput!) {
  createTrack(input: $input) {
    id artists { id name } album { id title artist { id name } } genres { id name }
  }
}
"""

CREATE_ARTIST = """
mutation CreateArtist($name: String!) { createArtist(input: {name: $name}) { id name } }
"""

UPDATE_ARTIST = """
mutation UpdateArtist($id: ID!, $name: String!) {
  updateArtist(id: $id, input: {name: $name}) { id name }
}
"""

IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) {
  importTracks(input: $input) { count tracks { id } }
}
"""

CATALOGUE = """
{
  tracks { totalCount }
  artists(first: 100) { totalCount edges { node { id name } } }
  albums(first: 100) { totalCount edges { node { id title artist { id name } } } }
  genres { id name }
}
"""

ARTIST_TRACKS = """
query ArtistTracks($id: ID!) { artist(id: $id) { name tracks { totalCount } } }
"""


async def _create(gql: GraphQLClient, **input: Any) -> dict[str, Any]:
    return (await gql.query(CREATE_TRACK, {"input": input}))["createTrack"]  # type: ignore[no-any-return]


async def test_spellings_of_one_artist_name_are_one_artist(gql: GraphQLClient) -> None:
    spellings = ["Miles Davis", "miles davis ", "MILES  DAVIS"]
    tracks = [
        await _create(gql, title=f"Take {i}", artistNames=[name])
        for i, name in enumerate(spellings)
    ]

    artist_ids = {t["artists"][0]["id"] for t in tracks}
    assert len(artist_ids) == 1
    assert {t["artists"][0]["name"] for t in tracks} == {"Miles Davis"}  # first spelling wins
    catalogue = await gql.query(CATALOGUE)
    assert catalogue["artists"]["totalCount"] == 1
    assert catalogue["artists"]["edges"][0]["node"]["id"] in artist_ids

    data = await gql.query(ARTIST_TRACKS, {"id": artist_ids.pop()})
    assert data["artist"]["tracks"]["totalCount"] == 3


async def test_one_track_credits_a_name_once(gql: GraphQLClient) -> None:
    track = await _create(gql, title="Duet", artistNames=["Miles Davis", "MILES DAVIS", "Gil"])
    assert [a["name"] for a in track["artists"]] == ["Miles Davis", "Gil"]


async def test_albums_merge_by_title_within_their_artist(gql: GraphQLClient) -> None:
    first = await _create(gql, title="A1", artistNames=["Abba"], albumTitle="Greatest Hits")
    second = await _create(gql, title="A2", artistNames=["ABBA"], albumTitle="greatest  hits")
    other = await _create(gql, title="Q1", artistNames=["Queen"], albumTitle="Greatest Hits")

    assert first["album"]["id"] == second["album"]["id"]
    assert other["album"]["id"] != first["album"]["id"]
    assert first["album"]["artist"]["name"] == "Abba"
    assert other["album"]["artist"]["name"] == "Queen"

    albums = (await gql.query(CATALOGUE))["albums"]
    assert albums["totalCount"] == 2
    assert sorted(e["node"]["artist"]["name"] for e in albums["edges"]) == ["Abba", "Queen"]
    assert {e["node"]["title"] for e in albums["edges"]} == {"Greatest Hits"}


async def test_genres_merge_case_insensitively(gql: GraphQLClient) -> None:
    one = await _create(gql, title="One", genres=["Jazz"])
    two = await _create(gql, title="Two", genres=["JAZZ", " jazz "])
    assert one["genres"] == two["genres"]
    assert len(two["genres"]) == 1
    assert (await gql.query(CATALOGUE))["genres"] == one["genres"]


async def test_create_artist_on_an_existing_name_returns_it(gql: GraphQLClient) -> None:
    first = (await gql.query(CREATE_ARTIST, {"name": "Björk"}))["createArtist"]
    again = (await gql.query(CREATE_ARTIST, {"name": " BJÖRK"}))["createArtist"]
    assert again == first
    via_track = await _create(gql, title="Jóga", artistNames=["björk"])
    assert via_track["artists"] == [first]
    assert (await gql.query(CATALOGUE))["artists"]["totalCount"] == 1


async def test_renaming_onto_another_artists_name_is_a_conflict(gql: GraphQLClient) -> None:
    alpha = await _create(gql, title="A", artistNames=["Alpha"], albumTitle="Record")
    beta = await _create(gql, title="B", artistNames=["Beta"])
    alpha_id = alpha["artists"][0]["id"]
    before = await gql.query(CATALOGUE)

    error = await gql.error(UPDATE_ARTIST, {"id": alpha_id, "name": " beta"})
    assert error["extensions"]["code"] == "CONFLICT"

    assert await gql.query(CATALOGUE) == before
    # The album still merges under Alpha: its key was not half-rewritten.
    again = await _create(gql, title="A2", artistNames=["alpha"], albumTitle="record")
    assert again["artists"][0]["id"] == alpha_id
    assert again["album"]["id"] == alpha["album"]["id"]
    assert beta["artists"][0]["id"] != alpha_id


async def test_a_renamed_artist_keeps_merging_its_albums(gql: GraphQLClient) -> None:
    alpha = await _create(gql, title="A", artistNames=["Alpha"], albumTitle="Record")
    alpha_id = alpha["artists"][0]["id"]
    renamed = await gql.query(UPDATE_ARTIST, {"id": alpha_id, "name": "Gamma"})
    assert renamed["updateArtist"] == {"id": alpha_id, "name": "Gamma"}

    later = await _create(gql, title="G", artistNames=["GAMMA"], albumTitle="RECORD")
    assert later["artists"][0]["id"] == alpha_id
    assert later["album"]["id"] == alpha["album"]["id"]
    fresh = await _create(gql, title="N", artistNames=["Alpha"])
    assert fresh["artists"][0]["id"] != alpha_id


async def test_import_spanning_batches_creates_each_track_once(gql: GraphQLClient) -> None:
    total = 1200  # three batches of at most 500

    def spell(name: str, i: int) -> str:
        # Each batch spells the shared names differently.
        return (name, name.upper(), f" {name.lower()} ")[i // 500]

    inputs = [
        {
            "title": f"Track {i:04d}",
            "artistNames": [spell(f"Artist {i % 7}", i)],
            "albumTitle": spell(f"Album {i % 5}", i),
            "genres": [spell(f"Genre {i % 3}", i)],
            "year": 1960 + i % 60,
        }
        for i in range(total)
    ]
    data = await gql.query(IMPORT_TRACKS, {"input": inputs})
    assert data["importTracks"]["count"] == total
    track_ids = [t["id"] for t in data["importTracks"]["tracks"]]
    assert len(set(track_ids)) == total

    catalogue = await gql.query(CATALOGUE)
    assert catalogue["tracks"]["totalCount"] == total
    assert catalogue["artists"]["totalCount"] == 7
    assert sorted(e["node"]["name"] for e in catalogue["artists"]["edges"]) == [
        f"Artist {i}" for i in range(7)
    ]
    assert catalogue["albums"]["totalCount"] == 7 * 5
    assert len(catalogue["genres"]) == 3
    for edge in catalogue["artists"]["edges"]:
        tracks = await gql.query(ARTIST_TRACKS, {"id": edge["node"]["id"]})
        n = int(edge["node"]["name"].split()[-1])
        assert tracks["artist"]["tracks"]["totalCount"] == len(range(n, total, 7))


async def test_a_repeated_credit_keeps_the_first_spelling_and_order(gql: GraphQLClient) -> None:
    data = await gql.query(
        'mutation { createTrack(input: {title: "Duet", artistNames: '
        '["Miles Davis", "John Coltrane", "miles davis "]}) { artists { name } } }'
    )
    assert data["createTrack"]["artists"] == [{"name": "Miles Davis"}, {"name": "John Coltrane"}]
