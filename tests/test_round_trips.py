"""A request costs a fixed number of graph round trips, whatever the page size."""

import pytest

from graph import catalog_writes
from graph.engine import GraphEngine
from tests.support import GraphQLClient, graph_queries

NESTED_PAGE = """
query Page($first: Int!) {
  tracks(first: $first, sort: {field: TITLE}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id title duration year tags createdAt
        artists { name }
        album { title artist { name } }
        genres { name }
      }
    }
  }
}
"""

# The page carries its artists, album, album.artist and genres in its own query
# (look-ahead); then its count.
NESTED_PAGE_ROUND_TRIPS = 2

ARTIST_TREE = """
query Artists($first: Int!) {
  artists(first: $first) {
    edges { node { name
      albums(first: 3) { totalCount edges { node { title
        tracks(first: 5) { edges { node { title genres { name } } } } } } }
      tracks(first: 2) { edges { node { title album { title } } } }
    } }
  }
}
"""

# artists page; albums page + album count; album tracks page + their genres;
# artist tracks page + their albums.
ARTIST_TREE_ROUND_TRIPS = 7


# Loads what a process reads once: the revocation cache, and the sort keys' range that
# page windows start from (graph/pages.py).
WARM = """{ genres { name } tracks(first: 1) { totalCount }
  byTitle: tracks(first: 1, sort: {field: TITLE}) { totalCount }
  artists(first: 1) { totalCount } }"""


async def _catalogue(engine: GraphEngine, tracks: int) -> None:
    await catalog_writes.create_tracks(
        engine,
        [
            {
                "title": f"Track {i:04d}",
                "artist_names": [f"Artist {i % 7}", f"Guest {i % 3}"],
                "album_title": f"Album {i % 11}",
                "genres": [f"Genre {i % 5}", f"Genre {i % 4}"],
                "year": 1990 + i % 30,
                "duration": 100.0 + i,
                "tags": ["x"],
            }
            for i in range(tracks)
        ],
    )


@pytest.mark.parametrize("page_size", [1, 10, 100])
async def test_nested_page_costs_a_fixed_number_of_queries(
    engine: GraphEngine, gql: GraphQLClient, page_size: int
) -> None:
    await _catalogue(engine, 120)
    await gql.query(WARM)
    before = graph_queries(engine.name)
    data = await gql.query(NESTED_PAGE, {"first": page_size})
    spent = graph_queries(engine.name) - before
    edges = data["tracks"]["edges"]
    assert len(edges) == page_size
    assert all(e["node"]["artists"] and e["node"]["album"]["artist"] for e in edges)
    assert all(len(e["node"]["genres"]) >= 1 for e in edges)
    assert spent == NESTED_PAGE_ROUND_TRIPS


@pytest.mark.parametrize("page_size", [1, 10, 100])
async def test_nested_connections_batch_across_parents(
    engine: GraphEngine, gql: GraphQLClient, page_size: int
) -> None:
    await _catalogue(engine, 120)
    await gql.query(WARM)
    before = graph_queries(engine.name)
    data = await gql.query(ARTIST_TREE, {"first": page_size})
    spent = graph_queries(engine.name) - before
    artists = data["artists"]["edges"]
    assert len(artists) == min(page_size, 10)  # 7 primary + 3 guest artists
    assert any(a["node"]["albums"]["edges"] for a in artists)
    assert spent == ARTIST_TREE_ROUND_TRIPS


async def test_repeated_fields_under_fragments_share_batches(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    await _catalogue(engine, 30)
    await gql.query(WARM)
    document = """
    fragment T on Track { artists { name } album { title } }
    query { tracks(first: 20) { edges { node { ...T  genres { name } alias: artists { id } } } } }
    """
    before = graph_queries(engine.name)
    data = await gql.query(document)
    assert len(data["tracks"]["edges"]) == 20
    assert graph_queries(engine.name) - before == 1  # the page and every relation
