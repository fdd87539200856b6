"""Full-text search over track titles, artist names and album titles.

Nothing here waits for the index: FalkorDB updates its full-text indexes as part of
each write (only building an index over existing nodes happens in the background,
and migrations wait for that), so a search right after a write sees it.
"""

from typing import Any

from tests.support import GraphQLClient

IMPORT_TRACKS = """
mutation Import($input: [CreateTrackInput!]!) { importTracks(input: $input) { count } }
"""

UPDATE_TRACK = """
mutation Update($id: ID!, $title: String!) { updateTrack(id: $id, input: {title: $title}) { id } }
"""

DELETE_TRACK = "mutation Delete($id: ID!) { deleteTrack(id: $id) { deletedId } }"

SEARCH = """
query Search($query: String!, $first: Int, $types: [SearchType!]) {
  search(query: $query, first: $first, types: $types) {
    score
    node {
      __typename
      ... on Track { id title }
      ... on Artist { id name }
      ... on Album { id title }
    }
  }
}
"""

CATALOGUE = [
    {"title": "Paranoid Android", "artistNames": ["Radiohead"], "albumTitle": "OK Computer"},
    {"title": "Karma Police", "artistNames": ["Radiohead"], "albumTitle": "OK Computer"},
    {"title": "Android Dreams", "artistNames": ["Electric Sheep"], "albumTitle": "Replicants"},
    {"title": "So What", "artistNames": ["Miles Davis"], "albumTitle": "Kind of Blue"},
    {"title": "Blue in Green", "artistNames": ["Miles Davis"], "albumTitle": "Kind of Blue"},
]

Hit = tuple[str, str]  # (type, title or name)


async def _catalogue(gql: GraphQLClient, extra: list[dict[str, Any]] | None = None) -> None:
    await gql.query(IMPORT_TRACKS, {"input": CATALOGUE + (extra or [])})


async def _search(
    gql: GraphQLClient, query: str, first: int | None = None, types: list[str] | None = None
) -> list[dict[str, Any]]:
    variables: dict[str, Any] = {"query": query, "types": types}
    if first is not None:
        variables["first"] = first
    hits: list[dict[str, Any]] = (await gql.query(SEARCH, variables))["search"]
    scores = [hit["score"] for hit in hits]
    assert all(isinstance(s, float) for s in scores)
    assert scores == sorted(scores, reverse=True), "hits not by descending score"
    return hits


def _found(hits: list[dict[str, Any]]) -> list[Hit]:
    return [(h["node"]["__typename"], h["node"].get("title") or h["node"]["name"]) for h in hits]


async def test_finds_tracks_by_a_title_word(gql: GraphQLClient) -> None:
    await _catalogue(gql)
    found = _found(await _search(gql, "android"))
    assert set(found) == {("Track", "Paranoid Android"), ("Track", "Android Dreams")}
    assert ("Track", "Karma Police") in _found(await _search(gql, "POLICE"))


async def test_finds_artists_by_name(gql: GraphQLClient) -> None:
    await _catalogue(gql)
    assert _found(await _search(gql, "radiohead")) == [("Artist", "Radiohead")]
    assert ("Artist", "Miles Davis") in _found(await _search(gql, "miles davis"))


async def test_finds_albums_by_title(gql: GraphQLClient) -> None:
    await _catalogue(gql)
    assert _found(await _search(gql, "computer")) == [("Album", "OK Computer")]
    assert _found(await _search(gql, "kind of blue"))[0] == ("Album", "Kind of Blue")


async def test_the_last_word_is_a_prefix(gql: GraphQLClient) -> None:
    await _catalogue(gql)
    assert _found(await _search(gql, "Paran")) == [("Track", "Paranoid Android")]
    assert _found(await _search(gql, "paranoid andr")) == [("Track", "Paranoid Android")]
    assert _found(await _search(gql, "ok comp")) == [("Album", "OK Computer")]
    assert ("Artist", "Radiohead") in _found(await _search(gql, "radio"))


async def test_hits_carry_scores_in_descending_order(gql: GraphQLClient) -> None:
    await _catalogue(gql, [{"title": f"Blue Note {i}"} for i in range(8)])
    hits = await _search(gql, "blue")
    found = _found(hits)
    assert ("Album", "Kind of Blue") in found
    assert ("Track", "Blue in Green") in found
    assert len(found) == 10  # the album, Blue in Green and eight Blue Notes
    assert all(hit["score"] > 0 for hit in hits)


async def test_first_limits_the_hits(gql: GraphQLClient) -> None:
    await _catalogue(gql, [{"title": f"Blue Note {i}"} for i in range(8)])
    everything = await _search(gql, "blue")
    assert len(await _search(gql, "blue", first=3)) == 3
    assert len(everything) > 3


async def test_types_restrict_the_kinds_of_hit(gql: GraphQLClient) -> None:
    await _catalogue(gql, [{"title": "Radiohead Tribute"}])
    assert {t for t, _ in _found(await _search(gql, "radiohead"))} == {"Track", "Artist"}
    only_artists = _found(await _search(gql, "radiohead", types=["ARTIST"]))
    assert only_artists == [("Artist", "Radiohead")]
    assert _found(await _search(gql, "radiohead", types=["ALBUM"])) == []
    two_kinds = _found(await _search(gql, "blue", types=["ALBUM", "TRACK"]))
    assert set(two_kinds) == {("Album", "Kind of Blue"), ("Track", "Blue in Green")}


async def test_types_find_a_kind_that_other_kinds_outscore(gql: GraphQLClient) -> None:
    # A repeated word lowers the artist's term frequencies, so ten tracks outscore it;
    # asking for artists only must still find it.
    await _catalogue(
        gql,
        [
            *({"title": f"Moon River {i}"} for i in range(10)),
            {"title": "Theme", "artistNames": ["Moon River Band Band Band"]},
        ],
    )
    hits = await _search(gql, "moon river", first=100)
    artist = ("Artist", "Moon River Band Band Band")
    assert _found(hits)[-1] == artist
    assert hits[-1]["score"] < hits[0]["score"]
    assert _found(await _search(gql, "moon river", first=2, types=["ARTIST"])) == [artist]


async def test_search_follows_updates_and_deletes(gql: GraphQLClient) -> None:
    await _catalogue(gql)
    [hit] = await _search(gql, "karma")
    track_id = hit["node"]["id"]
    await gql.query(UPDATE_TRACK, {"id": track_id, "title": "Lucky"})
    assert await _search(gql, "karma") == []
    assert _found(await _search(gql, "lucky")) == [("Track", "Lucky")]
    await gql.query(DELETE_TRACK, {"id": track_id})
    assert await _search(gql, "lucky") == []


async def test_query_syntax_is_taken_as_plain_words(gql: GraphQLClient) -> None:
    await _catalogue(gql)
    for query in ('"Paranoid" (Android)', "paranoid* | -android", "paranoid~ @android%"):
        assert _found(await _search(gql, query)) == [("Track", "Paranoid Android")], query


async def test_punctuation_only_query_finds_nothing(gql: GraphQLClient) -> None:
    await _catalogue(gql)
    for query in ("!!!", "*", "-|@()~\"'"):
        assert await _search(gql, query) == [], query


async def test_empty_query_is_invalid(gql: GraphQLClient) -> None:
    for query in ("", "   "):
        error = await gql.error(SEARCH, {"query": query})
        assert error["extensions"]["code"] == "VALIDATION_ERROR", repr(query)
