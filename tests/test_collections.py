"""Collections through GraphQL: create, read, update, delete; adding, inserting,
removing and moving tracks keeps the order and dense positions; paging; round trips."""

from typing import Any

import pytest

from graph import catalog_writes, pages, users
from graph import collection_store as graph_collections
from graph.engine import GraphEngine
from graph.migrations import pending
from server.settings import Settings
from tests.support import GraphQLClient, graph_queries, user_token

# Well-formed ids that name nothing.
MISSING_COLLECTION_ID = "col_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
MISSING_TRACK_ID = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"

COLLECTION_FIELDS = """
fragment CollectionFields on Collection {
  id name description public createdAt updatedAt trackCount
  owner { id username }
}
"""

CREATE = (
    COLLECTION_FIELDS
    + """
mutation Create($input: CreateCollectionInput!) {
  createCollection(input: $input) { ...CollectionFields }
}
"""
)

UPDATE = (
    COLLECTION_FIELDS
    + """
mutation Update($id: ID!, $input: UpdateCollectionInput!) {
  updateCollection(id: $id, input: $input) { ...CollectionFields }
}
"""
)

DELETE = "mutation Delete($id: ID!) { deleteCollection(id: $id) { deletedId } }"

READ = (
    COLLECTION_FIELDS
    + """
query Read($id: ID!) { collection(id: $id) { ...CollectionFields } }
"""
)

TRACKS = """
query Tracks($id: ID!, $first: Int, $after: String) {
  collection(id: $id) {
    trackCount updatedAt
    tracks(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor position addedAt node { id title } }
    }
  }
}
"""

ADD = """
mutation Add($id: ID!, $trackIds: [ID!]!, $position: Int) {
  addToCollection(id: $id, trackIds: $trackIds, position: $position) {
    id trackCount tracks(first: 100) { edges { position node { id } } }
  }
}
"""

REMOVE = """
mutation Remove($id: ID!, $trackIds: [ID!]!) {
  removeFromCollection(id: $id, trackIds: $trackIds) {
    id trackCount tracks(first: 100) { edges { position node { id } } }
  }
}
"""

MOVE = """
mutation Move($id: ID!, $trackId: ID!, $position: Int!) {
  moveInCollection(id: $id, trackId: $trackId, position: $position) {
    id trackCount tracks(first: 100) { edges { position node { id } } }
  }
}
"""

TRACK_COLLECTIONS = """
query TrackCollections($a: ID!, $b: ID!) {
  a: track(id: $a) { collections { name trackCount } }
  b: track(id: $b) { collections { name trackCount } }
}
"""

LIST = """
query List($first: Int, $after: String) {
  collections(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name public owner { id } } }
  }
}
"""


async def make_tracks(engine: GraphEngine, n: int, prefix: str = "Song") -> list[str]:
    """`n` tracks, returned in creation order."""
    rows = await catalog_writes.create_tracks(
        engine, [{"title": f"{prefix} {i:03d}", "artist_names": ["Band"]} for i in range(n)]
    )
    return [row["id"] for row in rows]


async def create(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    data = await gql.query(CREATE, {"input": {"name": "Mix"} | fields})
    return data["createCollection"]  # type: ignore[no-any-return]


def order(result: dict[str, Any]) -> list[str]:
    """The track ids of a collection result, asserting that positions are 0..n-1."""
    edges = result["tracks"]["edges"]
    assert [e["position"] for e in edges] == list(range(len(edges)))
    assert result["trackCount"] == len(edges)
    return [e["node"]["id"] for e in edges]


async def read_order(gql: GraphQLClient, collection_id: str) -> list[str]:
    data = await gql.query(TRACKS, {"id": collection_id, "first": 100})
    return order(data["collection"])


async def test_create_read_update_delete(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    user_id, token = await user_token(engine, settings, "user")
    me = gql.as_(token)
    created = await create(me, name="  Road trip ", description="Loud songs")
    assert created["name"] == "Road trip"
    assert created["description"] == "Loud songs"
    assert created["public"] is False
    assert created["trackCount"] == 0
    assert created["owner"]["id"] == user_id
    assert created["id"].startswith("col_")
    assert created["createdAt"] == created["updatedAt"]

    read = await me.query(READ, {"id": created["id"]})
    assert read["collection"] == created

    updated = (
        await me.query(UPDATE, {"id": created["id"], "input": {"name": "Trip", "public": True}})
    )["updateCollection"]
    assert updated["name"] == "Trip"
    assert updated["public"] is True
    assert updated["description"] == "Loud songs"
    assert updated["updatedAt"] >= created["updatedAt"]
    cleared = await me.query(UPDATE, {"id": created["id"], "input": {"description": None}})
    assert cleared["updateCollection"]["description"] is None
    assert cleared["updateCollection"]["name"] == "Trip"

    [track_id] = await make_tracks(engine, 1)
    await me.query(ADD, {"id": created["id"], "trackIds": [track_id]})
    deleted = await me.query(DELETE, {"id": created["id"]})
    assert deleted["deleteCollection"]["deletedId"] == created["id"]
    error = await me.error(READ, {"id": created["id"]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    # The tracks stay in the catalogue.
    track = await me.query("query($id: ID!) { track(id: $id) { id } }", {"id": track_id})
    assert track["track"]["id"] == track_id


@pytest.mark.parametrize(
    ("document", "variables", "field"),
    [
        (CREATE, {"input": {"name": "  "}}, "name"),
        (CREATE, {"input": {"name": "x" * 201}}, "name"),
        (CREATE, {"input": {"name": "ok", "description": "x" * 2001}}, "description"),
        (UPDATE, {"id": MISSING_COLLECTION_ID, "input": {"name": None}}, "name"),
        (UPDATE, {"id": MISSING_COLLECTION_ID, "input": {"public": None}}, "public"),
        (READ, {"id": MISSING_TRACK_ID}, "id"),
        (ADD, {"id": MISSING_COLLECTION_ID, "trackIds": []}, "trackIds"),
        (ADD, {"id": MISSING_COLLECTION_ID, "trackIds": [MISSING_TRACK_ID] * 501}, "trackIds"),
        (ADD, {"id": MISSING_COLLECTION_ID, "trackIds": ["nope"]}, "trackIds"),
        (
            ADD,
            {"id": MISSING_COLLECTION_ID, "trackIds": [MISSING_TRACK_ID], "position": -1},
            "position",
        ),
        (MOVE, {"id": MISSING_COLLECTION_ID, "trackId": "x", "position": 0}, "trackId"),
    ],
)
async def test_bad_input_is_a_validation_error(
    gql: GraphQLClient, document: str, variables: dict[str, Any], field: str
) -> None:
    error = await gql.error(document, variables)
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": field}


async def test_name_and_description_at_their_limits(gql: GraphQLClient) -> None:
    created = await create(gql, name="n" * 200, description="d" * 2000)
    assert len(created["name"]) == 200
    assert len(created["description"]) == 2000


async def test_missing_collection_is_not_found(gql: GraphQLClient) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        (READ, {"id": MISSING_COLLECTION_ID}),
        (UPDATE, {"id": MISSING_COLLECTION_ID, "input": {"name": "x"}}),
        (DELETE, {"id": MISSING_COLLECTION_ID}),
        (ADD, {"id": MISSING_COLLECTION_ID, "trackIds": [MISSING_TRACK_ID]}),
        (REMOVE, {"id": MISSING_COLLECTION_ID, "trackIds": [MISSING_TRACK_ID]}),
        (MOVE, {"id": MISSING_COLLECTION_ID, "trackId": MISSING_TRACK_ID, "position": 0}),
    ]
    for document, variables in cases:
        error = await gql.error(document, variables)
        assert error["extensions"]["code"] == "NOT_FOUND", document


async def test_add_appends_inserts_and_ignores_tracks_already_there(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, b, c, d, e, f = await make_tracks(engine, 6)
    cid = (await create(gql))["id"]
    added = await gql.query(ADD, {"id": cid, "trackIds": [a, b, c]})
    assert order(added["addToCollection"]) == [a, b, c]
    inserted = await gql.query(ADD, {"id": cid, "trackIds": [d, e], "position": 1})
    assert order(inserted["addToCollection"]) == [a, d, e, b, c]
    # b is there already: it stays where it is; duplicates in the request count once.
    again = await gql.query(ADD, {"id": cid, "trackIds": [b, f, f], "position": 0})
    assert order(again["addToCollection"]) == [f, a, d, e, b, c]
    unchanged = await gql.query(ADD, {"id": cid, "trackIds": [a, c], "position": 3})
    assert order(unchanged["addToCollection"]) == [f, a, d, e, b, c]
    assert await read_order(gql, cid) == [f, a, d, e, b, c]


async def test_position_past_the_end_appends(engine: GraphEngine, gql: GraphQLClient) -> None:
    a, b, c = await make_tracks(engine, 3)
    cid = (await create(gql))["id"]
    await gql.query(ADD, {"id": cid, "trackIds": [a]})
    result = await gql.query(ADD, {"id": cid, "trackIds": [b, c], "position": 99})
    assert order(result["addToCollection"]) == [a, b, c]


async def test_remove_and_move_keep_positions_dense(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, b, c, d, e = await make_tracks(engine, 5)
    cid = (await create(gql))["id"]
    await gql.query(ADD, {"id": cid, "trackIds": [a, b, c, d, e]})
    removed = await gql.query(REMOVE, {"id": cid, "trackIds": [b, d, MISSING_TRACK_ID]})
    assert order(removed["removeFromCollection"]) == [a, c, e]
    moved = await gql.query(MOVE, {"id": cid, "trackId": e, "position": 0})
    assert order(moved["moveInCollection"]) == [e, a, c]
    moved = await gql.query(MOVE, {"id": cid, "trackId": e, "position": 1})
    assert order(moved["moveInCollection"]) == [a, e, c]
    moved = await gql.query(MOVE, {"id": cid, "trackId": a, "position": 50})
    assert order(moved["moveInCollection"]) == [e, c, a]
    same = await gql.query(MOVE, {"id": cid, "trackId": c, "position": 1})
    assert order(same["moveInCollection"]) == [e, c, a]
    emptied = await gql.query(REMOVE, {"id": cid, "trackIds": [a, c, e]})
    assert order(emptied["removeFromCollection"]) == []


async def test_move_of_a_track_not_in_the_collection_is_not_found(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, b = await make_tracks(engine, 2)
    cid = (await create(gql))["id"]
    await gql.query(ADD, {"id": cid, "trackIds": [a]})
    error = await gql.error(MOVE, {"id": cid, "trackId": b, "position": 0})
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "trackId"}
    assert await read_order(gql, cid) == [a]


async def test_adding_an_unknown_track_changes_nothing(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, b, c = await make_tracks(engine, 3)
    cid = (await create(gql))["id"]
    await gql.query(ADD, {"id": cid, "trackIds": [a, b]})
    before = await gql.query(TRACKS, {"id": cid, "first": 100})
    error = await gql.error(ADD, {"id": cid, "trackIds": [c, MISSING_TRACK_ID], "position": 0})
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "trackIds"}
    assert MISSING_TRACK_ID in error["message"]
    after = await gql.query(TRACKS, {"id": cid, "first": 100})
    assert after == before  # order, positions, added times and updatedAt


async def test_tracks_page_in_position_order_across_pages(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    tracks = await make_tracks(engine, 25)
    cid = (await create(gql))["id"]
    # Inserted in an order that differs from creation and title order.
    await gql.query(ADD, {"id": cid, "trackIds": tracks[10:]})
    await gql.query(ADD, {"id": cid, "trackIds": tracks[:10], "position": 5})
    expected = tracks[10:15] + tracks[:10] + tracks[15:]
    seen: list[str] = []
    positions: list[int] = []
    after = None
    sizes = []
    while True:
        data = await gql.query(TRACKS, {"id": cid, "first": 10, "after": after})
        page = data["collection"]["tracks"]
        assert page["totalCount"] == 25
        sizes.append(len(page["edges"]))
        seen += [e["node"]["id"] for e in page["edges"]]
        positions += [e["position"] for e in page["edges"]]
        assert all(e["addedAt"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert sizes == [10, 10, 5]
    assert seen == expected
    assert positions == list(range(25))


async def test_tracks_cursor_of_another_list_is_rejected(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    cid = (await create(gql))["id"]
    await gql.query(ADD, {"id": cid, "trackIds": await make_tracks(engine, 3)})
    listed = await gql.query(LIST, {"first": 1})
    cursor = listed["collections"]["edges"][0]["cursor"]
    error = await gql.error(TRACKS, {"id": cid, "first": 1, "after": cursor})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"


async def test_deleted_track_leaves_no_gap_after_the_next_write(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, b, c, d = await make_tracks(engine, 4)
    cid = (await create(gql))["id"]
    await gql.query(ADD, {"id": cid, "trackIds": [a, b, c]})
    await catalog_writes.delete_track(engine, b)
    data = await gql.query(TRACKS, {"id": cid, "first": 100})
    edges = data["collection"]["tracks"]["edges"]
    assert [e["node"]["id"] for e in edges] == [a, c]
    assert data["collection"]["trackCount"] == 2
    result = await gql.query(ADD, {"id": cid, "trackIds": [d], "position": 1})
    assert order(result["addToCollection"]) == [a, d, c]


async def test_collections_list_by_name_across_pages(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    names = ["beta", "Alpha", "gamma", "alpha", "Delta", "epsilon", "Zeta"]
    for name in names:
        await create(gql, name=name, public=name[0].isupper())
    seen: list[str] = []
    after = None
    while True:
        data = await gql.query(LIST, {"first": 3, "after": after})
        page = data["collections"]
        assert page["totalCount"] == len(names)
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen, key=str.casefold) == seen
    assert sorted(seen) == sorted(names)


async def test_collections_list_in_tiny_windows(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list is read in windows of the name's sort key (graph/pages.py), here of at
    most 6 collections: each viewer still gets their own and the public ones, all of
    them, in name order, private ones of others never."""
    monkeypatch.setattr(pages, "BUDGET", 6)
    pages.forget()
    _, bob_token = await user_token(engine, settings, "user")
    bob = gql.as_(bob_token)
    names = [f"{word} {n}" for n in range(8) for word in ("alpha", "Beta", "émile", "Zed")]
    mine: set[str] = set()
    bobs: set[str] = set()
    for i, name in enumerate(names):
        public = i % 3 == 0
        owner, owned = (gql, mine) if i % 2 else (bob, bobs)
        await create(owner, name=name, public=public)
        owned.add(name)
        if public:
            (bobs if owned is mine else mine).add(name)

    async def walk(client: GraphQLClient) -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            page = (await client.query(LIST, {"first": 5, "after": after}))["collections"]
            seen += [e["node"]["name"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return seen
            after = page["pageInfo"]["endCursor"]

    for client, expected in ((gql, mine), (bob, bobs)):
        seen = await walk(client)
        assert sorted(seen) == sorted(expected) and len(seen) == len(expected)
        assert seen == sorted(seen, key=lambda n: (n.casefold().replace("é", "e"), n))


async def test_collections_total_follows_every_write_at_once(
    engine: GraphEngine, gql: GraphQLClient, settings: Settings
) -> None:
    """The list's totalCount is kept between pages (graph/counts.py), per viewer; every
    collection write of this process, and an owner's account deletion, drop it at once."""
    bob_id, bob_token = await user_token(engine, settings, "user")
    bob = gql.as_(bob_token)

    async def totals() -> tuple[int, int]:
        mine = (await gql.query(LIST, {"first": 1}))["collections"]["totalCount"]
        bobs = (await bob.query(LIST, {"first": 1}))["collections"]["totalCount"]
        return mine, bobs

    assert await totals() == (0, 0)
    before = graph_queries(engine.name)
    assert await totals() == (0, 0)
    assert graph_queries(engine.name) - before == 2  # the two pages; the counts were kept
    private = (await create(gql, name="mine"))["id"]
    assert await totals() == (1, 0)
    public = (await create(bob, name="shared", public=True))["id"]
    assert await totals() == (2, 1)
    await bob.query(UPDATE, {"id": public, "input": {"public": False}})
    assert await totals() == (1, 1)
    await bob.query(UPDATE, {"id": public, "input": {"public": True}})
    assert await totals() == (2, 1)
    await gql.query(DELETE, {"id": private})
    assert await totals() == (1, 1)
    await users.delete_user(engine, bob_id, "revoked-jti", 0)  # as deleteAccount does
    assert (await gql.query(LIST, {"first": 1}))["collections"]["totalCount"] == 0


async def test_track_lists_the_collections_holding_it(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    a, b = await make_tracks(engine, 2)
    first = (await create(gql, name="First"))["id"]
    second = (await create(gql, name="Second"))["id"]
    await gql.query(ADD, {"id": first, "trackIds": [a, b]})
    await gql.query(ADD, {"id": second, "trackIds": [a]})
    data = await gql.query(TRACK_COLLECTIONS, {"a": a, "b": b})
    assert [c["name"] for c in data["a"]["collections"]] == ["First", "Second"]
    assert [c["name"] for c in data["b"]["collections"]] == ["First"]
    assert data["b"]["collections"][0]["trackCount"] == 2


# One per distinct graph-backed field: the collections page, the owners, the tracks pages.
LIST_TREE = """
query Tree($first: Int!) {
  collections(first: $first) {
    edges { node { name owner { username } tracks(first: 5) { edges { node { title } } } } }
  }
}
"""
LIST_TREE_ROUND_TRIPS = 3

# The page and its count; track counts (trackCount and tracks.totalCount share one
# loader); owners; tracks pages; the tracks' artists; the tracks' collections.
DEEP_TREE = """
query Tree($first: Int!) {
  collections(first: $first) {
    totalCount
    edges { node { name trackCount owner { username }
      tracks(first: 5) { totalCount edges { position node { title
        artists { name } collections { name } } } } } }
  }
}
"""
DEEP_TREE_ROUND_TRIPS = 7


async def _collections_with_tracks(engine: GraphEngine, settings: Settings, n: int) -> None:
    tracks = await make_tracks(engine, 12)
    owners = []
    for _ in range(3):
        user_id, _token = await user_token(engine, settings, "user")
        owners.append(graph_collections.Viewer(user_id, False))
    for i in range(n):
        owner = owners[i % len(owners)]
        assert owner.user_id is not None
        row = await graph_collections.create_collection(
            engine, owner.user_id, {"name": f"List {i:03d}", "public": True}
        )
        await graph_collections.add_tracks(engine, owner, row["id"], tracks[i % 5 : i % 5 + 7])


@pytest.mark.parametrize(
    ("document", "round_trips"),
    [(LIST_TREE, LIST_TREE_ROUND_TRIPS), (DEEP_TREE, DEEP_TREE_ROUND_TRIPS)],
    ids=["list-tree", "deep-tree"],
)
@pytest.mark.parametrize("page_size", [1, 10, 50])
async def test_collections_tree_costs_a_fixed_number_of_queries(
    engine: GraphEngine,
    gql: GraphQLClient,
    settings: Settings,
    page_size: int,
    document: str,
    round_trips: int,
) -> None:
    await _collections_with_tracks(engine, settings, 50)
    # Warm: the revocation cache loads once, and the list's key statistics once per
    # 5 minutes (graph/pages.py); not totalCount, which the deep tree counts.
    await gql.query("{ genres { name } collections(first: 1) { edges { cursor } } }")
    before = graph_queries(engine.name)
    data = await gql.query(document, {"first": page_size})
    spent = graph_queries(engine.name) - before
    edges = data["collections"]["edges"]
    assert len(edges) == page_size
    assert all(e["node"]["owner"]["username"] for e in edges)
    assert all(len(e["node"]["tracks"]["edges"]) == 5 for e in edges)
    assert spent == round_trips


async def test_track_pages_read_windows_of_positions_and_cross_gaps(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    """A page reads a window of positions of that collection's edges (index on their
    collection id and position), in one graph query while the positions are dense;
    where deleted tracks left gaps a second read covers the rest; several collections'
    pages still come in one batch."""
    big = (await create(gql, name="Big"))["id"]
    small = (await create(gql, name="Small"))["id"]
    tracks = await make_tracks(engine, 120)
    for start in range(0, 120, 40):
        await gql.query(ADD, {"id": big, "trackIds": tracks[start : start + 40]})
    await gql.query(ADD, {"id": small, "trackIds": tracks[:3]})
    # Gaps: a run of 25 deleted tracks (wider than a window) and a few single ones.
    gone = set(tracks[30:55]) | {tracks[7], tracks[90], tracks[119]}
    for track_id in gone:
        await catalog_writes.delete_track(engine, track_id)
    expected = [t for t in tracks if t not in gone]

    async def walk(limit: int) -> tuple[list[str], list[int]]:
        seen: list[str] = []
        reads: list[int] = []
        after = None
        while True:
            before = graph_queries(engine.name)
            [(rows, keys, _), (small_rows, _, _)] = await graph_collections.track_pages(
                engine, [(big, after, limit + 1), (small, None, limit + 1)]
            )
            reads.append(graph_queries(engine.name) - before)
            assert [r["id"] for r in small_rows] == tracks[: min(3, limit + 1)]
            seen += [r["id"] for r in rows[:limit]]
            if len(rows) <= limit:
                return seen, reads
            after = keys[limit - 1]

    for limit in (1, 5, 10, 200):
        seen, reads = await walk(limit)
        assert seen == expected, limit
        assert set(reads) <= {1, 2}
    # Dense again after the next write: one read a page.
    await gql.query(ADD, {"id": big, "trackIds": [tracks[0]]})
    seen, reads = await walk(10)
    assert seen == expected
    assert set(reads) == {1}
    # A window holds only its positions (the page query reads no others).
    window = {"parent": big, "after": None, "limit": 100, "from": 60, "to": 70}
    [(row, _)] = await graph_collections._track_windows(engine, [window])
    assert [item["sort_key"][0] for item in row["rows"]] == list(range(60, 70))
    assert row["span"] == len(expected)  # renumbered 0..n-1 by the last write


async def test_migration_10_gives_earlier_collections_their_page_keys(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    tracks = await make_tracks(engine, 12)
    cid = (await create(gql))["id"]
    await gql.query(ADD, {"id": cid, "trackIds": tracks})
    await catalog_writes.delete_track(engine, tracks[4])
    # As written before migration 10: no collection id on the edges, no span.
    await engine.write("test", "MATCH (c:Collection)-[r:CONTAINS]->() REMOVE r.cid, c.span")
    [migration] = [m for m in pending(9) if m.version == 10]
    for statement in migration.statements:
        await engine.write("test", statement)
    [(rows, _, _)] = await graph_collections.track_pages(engine, [(cid, None, 20)])
    assert [r["id"] for r in rows] == tracks[:4] + tracks[5:]
    [(row, _)] = await graph_collections._track_windows(
        engine, [{"parent": cid, "after": None, "limit": 20, "from": 0, "to": 1}]
    )
    assert row["span"] == 12  # the highest position + 1: the gap stays until a write


async def test_migration_11_gives_earlier_collections_their_list_keys(
    engine: GraphEngine, gql: GraphQLClient
) -> None:
    for name in ("delta", "Alpha", "charlie", "Bravo"):
        await create(gql, name=name)
    # As written before migration 11: no sort keys, so no collection in any window.
    await engine.write("test", "MATCH (c:Collection) REMOVE c.sk_name, c.name_sort")
    pages.forget()
    [migration] = [m for m in pending(10) if m.version == 11]
    assert migration.backfill is not None
    assert await migration.backfill(engine) == 4
    data = await gql.query(LIST, {"first": 10})
    assert [e["node"]["name"] for e in data["collections"]["edges"]] == [
        "Alpha",
        "Bravo",
        "charlie",
        "delta",
    ]
