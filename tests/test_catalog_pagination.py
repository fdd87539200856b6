"""Keyset pagination: every page walk sees each node once, in the documented order."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import GraphQLClient

PAGE = 10

IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) {
  importTracks(input: $input) {
    tracks { id title year duration trackNumber discNumber createdAt
             artists { id name } album { id } }
  }
}
"""

CREATE_TRACK = """
mutation Create($input: CreateTrackInput!) { createTrack(input: $input) { id } }
"""

CREATE_ALBUM = """
mutation CreateAlbum($input: CreateAlbumInput!) {
  createAlbum(input: $input) { id title year }
}
"""

TRACKS_PAGE = """
query Tracks($first: Int!, $after: String, $sort: TrackSort) {
  tracks(first: $first, after: $after, sort: $sort) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id } }
  }
}
"""

ARTISTS_PAGE = """
query Artists($first: Int!, $after: String) {
  artists(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  }
}
"""

ALBUMS_PAGE = """
query Albums($first: Int!, $after: String) {
  albums(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  }
}
"""

ARTIST_TRACKS_PAGE = """
query ArtistTracks($id: ID!, $first: Int!, $after: String) {
  artist(id: $id) { tracks(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  } }
}
"""

ARTIST_ALBUMS_PAGE = """
query ArtistAlbums($id: ID!, $first: Int!, $after: String) {
  artist(id: $id) { albums(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  } }
}
"""

ALBUM_TRACKS_PAGE = """
query AlbumTracks($id: ID!, $first: Int!, $after: String) {
  album(id: $id) { tracks(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  } }
}
"""


def _track_inputs(n: int) -> list[dict[str, Any]]:
    """Titles, years and durations with ties and gaps, so ties and nulls get paged over."""
    inputs: list[dict[str, Any]] = []
    for i in range(n):
        data: dict[str, Any] = {"title": f"Song {i % 17:02d}", "artistNames": ["Solo"]}
        if i % 6:
            data["year"] = 1970 + i % 9
        if i % 7:
            data["duration"] = 120.0 + (i % 5) * 30.5
        inputs.append(data)
    return inputs


def _lowest(value: Any) -> tuple[int, Any]:
    """A sort key under which null sorts below every value."""
    return (0, 0) if value is None else (1, value)


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "TITLE": lambda t: t["title"],
    "CREATED_AT": lambda t: t["createdAt"],
    "YEAR": lambda t: _lowest(t["year"]),
    "DURATION": lambda t: _lowest(t["duration"]),
}


async def _assert_walk(
    gql: GraphQLClient,
    document: str,
    path: list[str],
    variables: dict[str, Any],
    expected: list[str],
) -> None:
    """Follow endCursor to the last page: each of `expected` once, in order, and
    totalCount right on every page.

    Stops once more nodes than expected came back, as a cursor that does not advance
    would otherwise page forever.
    """
    ids: list[str] = []
    totals: list[int] = []
    after = None
    while len(ids) <= len(expected):
        data = await gql.query(document, {**variables, "first": PAGE, "after": after})
        for key in path:
            data = data[key]
        edges = data["edges"]
        assert len(edges) <= PAGE
        ids += [e["node"]["id"] for e in edges]
        totals.append(data["totalCount"])
        info = data["pageInfo"]
        if not info["hasNextPage"]:
            break
        assert len(edges) == PAGE
        assert info["endCursor"] == edges[-1]["cursor"]
        after = info["endCursor"]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} nodes seen twice"
    assert set(ids) == set(expected), "a node was missed"
    assert ids == expected, "out of order"
    assert set(totals) == {len(expected)}


async def _import(gql: GraphQLClient, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return (await gql.query(IMPORT_TRACKS, {"input": inputs}))["importTracks"]["tracks"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", list(SORT_KEYS))
async def test_tracks_walk_every_sort_both_ways(
    gql: GraphQLClient, field: str, direction: str
) -> None:
    # Two imports, so that creation times differ as well as tie.
    tracks = await _import(gql, _track_inputs(30)) + await _import(gql, _track_inputs(25))
    key = SORT_KEYS[field]
    expected = sorted(tracks, key=lambda t: (key(t), t["id"]), reverse=direction == "DESC")
    await _assert_walk(
        gql,
        TRACKS_PAGE,
        ["tracks"],
        {"sort": {"field": field, "direction": direction}},
        [t["id"] for t in expected],
    )


async def test_default_track_order_is_creation_ascending(gql: GraphQLClient) -> None:
    tracks = await _import(gql, _track_inputs(25))
    expected = sorted(tracks, key=lambda t: (t["createdAt"], t["id"]))
    await _assert_walk(gql, TRACKS_PAGE, ["tracks"], {}, [t["id"] for t in expected])


async def test_artists_and_albums_walk_by_folded_name(gql: GraphQLClient) -> None:
    names = [f"{'ab'[i % 2]}Rtist {i % 27:02d}" for i in range(27)]
    inputs = [
        {"title": f"T{i}", "artistNames": [name], "albumTitle": f"{'xY'[i % 2]}ecord {i % 13}"}
        for i, name in enumerate(names)
    ]
    tracks = await _import(gql, inputs)
    artists = {a["id"]: a["name"] for t in tracks for a in t["artists"]}
    assert len(artists) == 27

    expected = sorted(artists, key=lambda i: (artists[i].casefold(), i))
    await _assert_walk(gql, ARTISTS_PAGE, ["artists"], {}, expected)

    titles = {t["album"]["id"]: inputs[n]["albumTitle"] for n, t in enumerate(tracks)}
    assert len(titles) == 27  # one album per artist
    expected = sorted(titles, key=lambda i: (titles[i].casefold(), i))
    await _assert_walk(gql, ALBUMS_PAGE, ["albums"], {}, expected)


async def test_nested_artist_tracks_walk_by_title(gql: GraphQLClient) -> None:
    tracks = await _import(gql, [*_track_inputs(33), {"title": "Other", "artistNames": ["X"]}])
    solo = tracks[0]["artists"][0]["id"]
    mine = [t for t in tracks if t["artists"][0]["id"] == solo]
    expected = sorted(mine, key=lambda t: (t["title"], t["id"]))
    await _assert_walk(
        gql, ARTIST_TRACKS_PAGE, ["artist", "tracks"], {"id": solo}, [t["id"] for t in expected]
    )


async def test_nested_artist_albums_walk_by_year_then_title(gql: GraphQLClient) -> None:
    albums = []
    for i in range(24):
        input: dict[str, Any] = {"title": f"Record {i % 9}", "artistName": "Solo"}
        if i % 5:
            input["year"] = 1990 + i % 4
        # Same title in another year would merge; make the titles unique per album.
        input["title"] += f" {'abc'[i % 3]}{i}"
        albums.append((await gql.query(CREATE_ALBUM, {"input": input}))["createAlbum"])
    await gql.query(CREATE_ALBUM, {"input": {"title": "Elsewhere", "artistName": "Other"}})
    data = await gql.query('{ artists(filter: {text: "solo"}) { edges { node { id } } } }')
    solo = data["artists"]["edges"][0]["node"]["id"]

    expected = sorted(albums, key=lambda a: (a["year"] or 0, a["title"].casefold(), a["id"]))
    await _assert_walk(
        gql, ARTIST_ALBUMS_PAGE, ["artist", "albums"], {"id": solo}, [a["id"] for a in expected]
    )


async def test_nested_album_tracks_walk_by_disc_then_number(gql: GraphQLClient) -> None:
    inputs: list[dict[str, Any]] = []
    for i in range(27):
        data: dict[str, Any] = {
            "title": f"Part {i % 4}",
            "artistNames": ["Solo"],
            "albumTitle": "Box Set",
        }
        if i % 8:
            data["discNumber"] = 1 + i % 3
        if i % 5:
            data["trackNumber"] = 1 + i % 6
        inputs.append(data)
    inputs.append({"title": "Elsewhere", "artistNames": ["Solo"], "albumTitle": "Other"})
    tracks = await _import(gql, inputs)
    album_id = tracks[0]["album"]["id"]
    mine = [t for t in tracks if t["album"]["id"] == album_id]
    assert len(mine) == 27

    expected = sorted(
        mine, key=lambda t: (t["discNumber"] or 1, t["trackNumber"] or 0, t["title"], t["id"])
    )
    await _assert_walk(
        gql, ALBUM_TRACKS_PAGE, ["album", "tracks"], {"id": album_id}, [t["id"] for t in expected]
    )


async def test_cursor_of_one_sort_is_rejected_by_another(gql: GraphQLClient) -> None:
    await _import(gql, _track_inputs(15))
    data = await gql.query(TRACKS_PAGE, {"first": 5, "sort": {"field": "TITLE"}})
    cursor = data["tracks"]["pageInfo"]["endCursor"]
    for sort in ({"field": "YEAR"}, {"field": "TITLE", "direction": "DESC"}, None):
        error = await gql.error(TRACKS_PAGE, {"first": 5, "after": cursor, "sort": sort})
        assert error["extensions"]["code"] == "VALIDATION_ERROR", sort


@pytest.mark.parametrize("field", ["CREATED_AT", "TITLE"])
async def test_inserting_between_pages_causes_no_duplicates(gql: GraphQLClient, field: str) -> None:
    original = {t["id"] for t in await _import(gql, _track_inputs(35))}
    variables = {"first": PAGE, "sort": {"field": field}}
    seen: list[str] = []
    after = None
    for page in range(100):
        data = (await gql.query(TRACKS_PAGE, {**variables, "after": after}))["tracks"]
        seen += [e["node"]["id"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        # One new track sorts before the cursor, one after it.
        for title in ("Aaa early", "Zzz late"):
            await gql.query(CREATE_TRACK, {"input": {"title": f"{title} {page}"}})
    assert len(seen) == len(set(seen))
    assert original <= set(seen)
