"""`suggest`: autocomplete on titles, artists and albums, the most played first."""

from datetime import UTC, datetime
from typing import Any

from graph import catalog_writes, listening, users
from graph.engine import GraphEngine
from tests.support import GraphQLClient

SUGGEST = """
query Suggest($prefix: String!, $field: SuggestField, $first: Int) {
  suggest(prefix: $prefix, field: $field, first: $first) {
    text
    node { __typename ... on Track { id } ... on Artist { id } ... on Album { id } }
  }
}
"""

CATALOGUE = [
    {"title": "Midnight Groove", "artist_names": ["Miles Ahead"], "album_title": "Midnight"},
    {"title": "midnight city", "artist_names": ["M83"], "album_title": "Hurry Up"},
    {"title": "MIDNIGHT", "artist_names": ["Midge Ure"], "album_title": "Mid Air"},
    {"title": "Midas Touch", "artist_names": ["Midnight Star"], "album_title": "Midas"},
    {"title": "Nocturne", "artist_names": ["miles davis"], "album_title": "Kind of Blue"},
]


async def _catalogue(engine: GraphEngine, plays: dict[str, int]) -> dict[str, str]:
    rows = await catalog_writes.create_tracks(engine, CATALOGUE)
    ids = {r["title"]: r["id"] for r in rows}
    user = await users.create_user(engine, "p@example.com", "player", "not-a-hash")
    for title, count in plays.items():
        for n in range(count):
            at = datetime.fromtimestamp(1_700_000_000 + n, UTC)
            await listening.record_play(engine, user["id"], ids[title], at)
    return ids


async def _suggest(gql: GraphQLClient, prefix: str, **variables: Any) -> list[str]:
    data = await gql.query(SUGGEST, {"prefix": prefix, **variables})
    return [s["text"] for s in data["suggest"]]


async def test_titles_by_prefix_whatever_the_case_most_played_first(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    await _catalogue(engine, {"midnight city": 3, "Midnight Groove": 1})
    expected = ["midnight city", "Midnight Groove", "MIDNIGHT"]
    for prefix in ("midn", "Midn", "MIDN", "midnight"):
        assert await _suggest(gql, prefix) == expected, prefix
    # Ties (no plays) by name.
    assert await _suggest(gql, "mida") == ["Midas Touch"]
    assert await _suggest(gql, "mid", first=2) == ["midnight city", "Midnight Groove"]
    assert await _suggest(gql, "noc") == ["Nocturne"]
    assert await _suggest(gql, "night") == []  # a prefix of the title, not of a word


async def test_artists_and_albums_by_the_plays_of_their_tracks(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    await _catalogue(engine, {"MIDNIGHT": 2, "Midas Touch": 1, "Nocturne": 5})
    assert await _suggest(gql, "mi", field="ARTIST") == [
        "miles davis",
        "Midge Ure",
        "Midnight Star",
        "Miles Ahead",
    ]
    assert await _suggest(gql, "MIDNIGHT S", field="ARTIST") == ["Midnight Star"]
    assert await _suggest(gql, "mid", field="ALBUM") == ["Mid Air", "Midas", "Midnight"]
    data = await gql.query(SUGGEST, {"prefix": "kind", "field": "ALBUM"})
    assert data["suggest"][0]["node"]["__typename"] == "Album"


async def test_bad_arguments_are_validation_errors(gql: GraphQLClient) -> None:
    for variables in ({"prefix": "  "}, {"prefix": "a", "first": 51}, {"prefix": "x" * 101}):
        error = await gql.error(SUGGEST, variables)
        assert error["extensions"]["code"] == "VALIDATION_ERROR", variables
