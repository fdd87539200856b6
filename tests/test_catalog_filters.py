"""Track, artist and album filters select exactly what they describe."""

from collections.abc import Callable
from typing import Any

from tests.support import GraphQLClient

IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) {
  importTracks(input: $input) {
    tracks { id title year duration artists { id name } album { id title } genres { name } }
  }
}
"""

TRACKS = """
query Tracks($filter: TrackFilter) {
  tracks(first: 100, filter: $filter) { totalCount edges { node { id } } }
}
"""

ARTISTS = """
query Artists($filter: ArtistFilter) {
  artists(first: 100, filter: $filter) { totalCount edges { node { id name } } }
}
"""

ALBUMS = """
query Albums($filter: AlbumFilter) {
  albums(first: 100, filter: $filter) { totalCount edges { node { id title year } } }
}
"""

CREATE_ALBUM = """
mutation CreateAlbum($input: CreateAlbumInput!) { createAlbum(input: $input) { id } }
"""

# (title, artist, album, genres, year, duration)
CATALOGUE: list[tuple[str, str, str | None, list[str], int | None, float | None]] = [
    ("So What", "Miles Davis", "Kind of Blue", ["Jazz", "Modal"], 1959, 562.0),
    ("Blue in Green", "Miles Davis", "Kind of Blue", ["Jazz"], 1959, 337.5),
    ("Freddie Freeloader", "Miles Davis", "Kind of Blue", ["Jazz", "Blues"], 1959, 589.0),
    ("Bitches Brew", "Miles Davis", "Bitches Brew", ["Fusion"], 1970, 1620.0),
    ("Blue Monday", "New Order", "Power, Corruption & Lies", ["Synth-pop"], 1983, 448.0),
    ("Age of Consent", "New Order", "Power, Corruption & Lies", ["Synth-pop", "Rock"], 1983, 315.0),
    ("Paranoid Android", "Radiohead", "OK Computer", ["Rock", "Alternative"], 1997, 383.0),
    ("Karma Police", "Radiohead", "OK Computer", ["Rock"], 1997, None),
    ("Blues Run the Game", "Jackson C. Frank", None, ["Folk", "blues"], None, 170.0),
    ("Untitled", "Radiohead", None, [], None, None),
]

Track = dict[str, Any]


def _input(row: tuple[Any, ...]) -> dict[str, Any]:
    title, artist, album, genres, year, duration = row
    data: dict[str, Any] = {"title": title, "artistNames": [artist], "genres": genres}
    if album is not None:
        data["albumTitle"] = album
    if year is not None:
        data["year"] = year
    if duration is not None:
        data["duration"] = duration
    return data


async def _catalogue(gql: GraphQLClient) -> list[Track]:
    data = await gql.query(IMPORT_TRACKS, {"input": [_input(row) for row in CATALOGUE]})
    return data["importTracks"]["tracks"]  # type: ignore[no-any-return]


async def _selected(gql: GraphQLClient, document: str, name: str, flt: Any) -> set[str]:
    """The ids a filter selects; totalCount must agree with the edges."""
    data = (await gql.query(document, {"filter": flt}))[name]
    ids = [e["node"]["id"] for e in data["edges"]]
    assert len(ids) == len(set(ids))
    assert data["totalCount"] == len(ids)
    return set(ids)


def _genres(track: Track) -> set[str]:
    return {g["name"].lower() for g in track["genres"]}


def _between(value: Any, low: Any, high: Any) -> bool:
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


# Filters and the tracks they should select. Artist and album filters name a track
# whose artist or album to use, as their ids are only known at run time.
TRACK_FILTERS: list[tuple[str, dict[str, Any], Callable[[Track], bool]]] = [
    ("genre", {"genre": "jazz"}, lambda t: "jazz" in _genres(t)),
    ("genre-folded", {"genre": " BLUES "}, lambda t: "blues" in _genres(t)),
    (
        "genres-any",
        {"genres": ["Fusion", "synth-pop"]},
        lambda t: bool(_genres(t) & {"fusion", "synth-pop"}),
    ),
    (
        "genres-overlap",
        {"genres": ["Rock", "Alternative"]},
        lambda t: bool(_genres(t) & {"rock", "alternative"}),
    ),
    ("year-range", {"year": {"min": 1960, "max": 1990}}, lambda t: _between(t["year"], 1960, 1990)),
    ("year-min", {"year": {"min": 1983}}, lambda t: _between(t["year"], 1983, None)),
    ("year-max", {"year": {"max": 1959}}, lambda t: _between(t["year"], None, 1959)),
    ("year-exact", {"year": {"min": 1997, "max": 1997}}, lambda t: t["year"] == 1997),
    (
        "duration-range",
        {"duration": {"min": 300, "max": 450.5}},
        lambda t: _between(t["duration"], 300, 450.5),
    ),
    ("duration-max", {"duration": {"max": 337.5}}, lambda t: _between(t["duration"], None, 337.5)),
    ("text", {"text": "BLUE"}, lambda t: "blue" in t["title"].lower()),
    ("text-inner", {"text": "oo"}, lambda t: "oo" in t["title"].lower()),
    ("text-none", {"text": "zzz"}, lambda t: False),
    (
        "genre-and-year",
        {"genre": "rock", "year": {"max": 1990}},
        lambda t: "rock" in _genres(t) and _between(t["year"], None, 1990),
    ),
    (
        "text-and-duration",
        {"text": "blue", "duration": {"min": 400}},
        lambda t: "blue" in t["title"].lower() and _between(t["duration"], 400, None),
    ),
    (
        "genres-and-text",
        {"genres": ["jazz", "rock"], "text": "a"},
        lambda t: bool(_genres(t) & {"jazz", "rock"}) and "a" in t["title"].lower(),
    ),
]


async def test_track_filters(gql: GraphQLClient) -> None:
    tracks = await _catalogue(gql)
    for name, track_filter, wanted in TRACK_FILTERS:
        expected = {t["id"] for t in tracks if wanted(t)}
        assert await _selected(gql, TRACKS, "tracks", track_filter) == expected, name


async def test_track_filters_by_artist_and_album(gql: GraphQLClient) -> None:
    tracks = await _catalogue(gql)
    miles = tracks[0]["artists"][0]["id"]
    kind_of_blue = tracks[0]["album"]["id"]
    radiohead = tracks[6]["artists"][0]["id"]

    def by(artist: str) -> set[str]:
        return {t["id"] for t in tracks if t["artists"][0]["id"] == artist}

    on_kind_of_blue = {t["id"] for t in tracks if (t["album"] or {}).get("id") == kind_of_blue}
    assert len(on_kind_of_blue) == 3
    assert await _selected(gql, TRACKS, "tracks", {"artistId": miles}) == by(miles)
    assert await _selected(gql, TRACKS, "tracks", {"albumId": kind_of_blue}) == on_kind_of_blue
    assert (
        await _selected(gql, TRACKS, "tracks", {"artistId": miles, "albumId": kind_of_blue})
        == on_kind_of_blue
    )
    assert (
        await _selected(gql, TRACKS, "tracks", {"artistId": radiohead, "albumId": kind_of_blue})
        == set()
    )
    assert await _selected(
        gql, TRACKS, "tracks", {"artistId": miles, "genre": "blues", "text": "free"}
    ) == {tracks[2]["id"]}
    assert await _selected(
        gql, TRACKS, "tracks", {"artistId": radiohead, "duration": {"min": 1}}
    ) == {tracks[6]["id"]}
    assert len(await _selected(gql, TRACKS, "tracks", None)) == len(CATALOGUE)
    assert len(await _selected(gql, TRACKS, "tracks", {})) == len(CATALOGUE)


async def test_range_with_min_above_max_is_invalid(gql: GraphQLClient) -> None:
    for document, flt in [
        (TRACKS, {"year": {"min": 2000, "max": 1999}}),
        (TRACKS, {"duration": {"min": 10.5, "max": 10.0}}),
        (ALBUMS, {"year": {"min": 2000, "max": 1999}}),
    ]:
        error = await gql.error(document, {"filter": flt})
        assert error["extensions"]["code"] == "VALIDATION_ERROR", flt


async def test_artists_filter_by_text(gql: GraphQLClient) -> None:
    tracks = await _catalogue(gql)
    artists = {a["id"]: a["name"] for t in tracks for a in t["artists"]}
    assert len(artists) == 4

    def matching(text: str) -> set[str]:
        return {i for i, name in artists.items() if text in name.lower()}

    for text in ("MILES", "ad", "c. f", "nobody"):
        assert await _selected(gql, ARTISTS, "artists", {"text": text}) == matching(text.lower())
    assert await _selected(gql, ARTISTS, "artists", {}) == set(artists)


async def test_albums_filter_by_artist_text_and_year(gql: GraphQLClient) -> None:
    tracks = await _catalogue(gql)
    albums = {t["album"]["id"]: t for t in tracks if t["album"]}
    assert len(albums) == 4
    # An album's year is its first track's.
    years = {i: t["year"] for i, t in albums.items()}
    miles = tracks[0]["artists"][0]["id"]
    undated = await gql.query(CREATE_ALBUM, {"input": {"title": "Sketches", "artistId": miles}})
    undated_id = undated["createAlbum"]["id"]

    by_miles = {i for i, t in albums.items() if t["artists"][0]["id"] == miles} | {undated_id}
    assert len(by_miles) == 3
    assert await _selected(gql, ALBUMS, "albums", {"artistId": miles}) == by_miles
    assert await _selected(gql, ALBUMS, "albums", {"text": "BLUE"}) == {tracks[0]["album"]["id"]}
    assert await _selected(gql, ALBUMS, "albums", {"text": "c"}) == {
        i for i, t in albums.items() if "c" in t["album"]["title"].lower()
    } | {undated_id}
    assert await _selected(gql, ALBUMS, "albums", {"year": {"min": 1960, "max": 1990}}) == {
        i for i, y in years.items() if 1960 <= y <= 1990
    }
    assert await _selected(gql, ALBUMS, "albums", {"artistId": miles, "year": {"max": 1960}}) == {
        tracks[0]["album"]["id"]
    }
    assert await _selected(gql, ALBUMS, "albums", {"artistId": miles, "text": "brew"}) == {
        tracks[3]["album"]["id"]
    }
