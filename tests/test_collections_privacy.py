"""A private collection is seen by its owner and admins only, through every path; only
the owner or an admin may change a collection."""

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)

from graph.engine import GraphEngine
from server.graphql_app import build_schema
from server.settings import Settings
from tests.support import GraphQLClient, user_token
from tests.test_collections import (
    ADD,
    CREATE,
    DELETE,
    LIST,
    MISSING_COLLECTION_ID,
    MOVE,
    READ,
    REMOVE,
    TRACKS,
    UPDATE,
    make_tracks,
)


@dataclass
class World:
    alice: GraphQLClient  # owns both collections
    bob: GraphQLClient  # another user
    admin: GraphQLClient
    anonymous: GraphQLClient
    private_id: str
    public_id: str
    track_id: str
    marker: str  # in the private collection's name and description only


@pytest.fixture
async def world(engine: GraphEngine, gql: GraphQLClient, settings: Settings) -> World:
    _, alice_token = await user_token(engine, settings, "user")
    _, bob_token = await user_token(engine, settings, "user")
    alice = gql.as_(alice_token)
    marker = f"secret-{uuid.uuid4().hex}"
    [track_id] = await make_tracks(engine, 1)
    private = await alice.query(CREATE, {"input": {"name": marker, "description": marker}})
    public = await alice.query(CREATE, {"input": {"name": "Shared", "public": True}})
    private_id = private["createCollection"]["id"]
    public_id = public["createCollection"]["id"]
    for collection_id in (private_id, public_id):
        await alice.query(ADD, {"id": collection_id, "trackIds": [track_id]})
    return World(
        alice, gql.as_(bob_token), gql, gql.as_(None), private_id, public_id, track_id, marker
    )


def _same_as_missing(world: World, private: Any, missing: Any) -> None:
    """What a caller gets for the private id is what they get for an id that names
    nothing: no data, and no hint that it exists."""
    assert world.marker not in json.dumps(private)
    text = json.dumps(private).replace(world.private_id, MISSING_COLLECTION_ID)
    assert json.loads(text) == missing


async def test_collection_by_id_is_not_found_for_others(world: World) -> None:
    for caller in (world.bob, world.anonymous):
        private = await caller.raw(READ, {"id": world.private_id})
        missing = await caller.raw(READ, {"id": MISSING_COLLECTION_ID})
        assert private["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
        assert private["data"] == {"collection": None}
        _same_as_missing(world, private, missing)
        public = await caller.query(READ, {"id": world.public_id})
        assert public["collection"]["name"] == "Shared"


async def test_owner_and_admin_see_the_private_collection(world: World) -> None:
    for caller in (world.alice, world.admin):
        data = await caller.query(TRACKS, {"id": world.private_id, "first": 10})
        edges = data["collection"]["tracks"]["edges"]
        assert [e["node"]["id"] for e in edges] == [world.track_id]
        read = await caller.query(READ, {"id": world.private_id})
        assert read["collection"]["name"] == world.marker


async def test_collections_list_hides_other_users_private_collections(world: World) -> None:
    for caller in (world.bob, world.anonymous, world.admin):
        data = await caller.query(LIST, {"first": 100})
        assert [e["node"]["id"] for e in data["collections"]["edges"]] == [world.public_id]
        assert data["collections"]["totalCount"] == 1
    mine = await world.alice.query(LIST, {"first": 100})
    assert {e["node"]["id"] for e in mine["collections"]["edges"]} == {
        world.private_id,
        world.public_id,
    }


TRACK_COLLECTIONS = "query($id: ID!) { track(id: $id) { collections { id name } } }"


async def test_track_collections_hide_private_collections(world: World) -> None:
    for caller in (world.bob, world.anonymous):
        data = await caller.query(TRACK_COLLECTIONS, {"id": world.track_id})
        assert data["track"]["collections"] == [{"id": world.public_id, "name": "Shared"}]
    for caller in (world.alice, world.admin):
        data = await caller.query(TRACK_COLLECTIONS, {"id": world.track_id})
        ids = {c["id"] for c in data["track"]["collections"]}
        assert ids == {world.private_id, world.public_id}


NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Collection { name } } }"


async def test_node_hides_private_collections(world: World) -> None:
    for caller in (world.bob, world.anonymous):
        private = await caller.raw(NODE, {"id": world.private_id})
        missing = await caller.raw(NODE, {"id": MISSING_COLLECTION_ID})
        assert private == {"data": {"node": None}}
        _same_as_missing(world, private, missing)


async def test_node_serves_public_collections(world: World) -> None:
    data = await world.bob.query(NODE, {"id": world.public_id})
    assert data["node"] == {"__typename": "Collection", "id": world.public_id, "name": "Shared"}


async def test_node_serves_the_owner_their_private_collection(world: World) -> None:
    for caller in (world.alice, world.admin):
        data = await caller.query(NODE, {"id": world.private_id})
        assert data["node"] == {
            "__typename": "Collection",
            "id": world.private_id,
            "name": world.marker,
        }


# Walking every id-taking field of Query, as another user, with the private id.

_schema = functools.cache(build_schema)

SAMPLES: dict[str, Any] = {
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2020-01-01T00:00:00Z",
}


def _takes_id(type_: GraphQLInputType, depth: int = 0) -> bool:
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType):
        return named.name == "ID"
    if isinstance(named, GraphQLInputObjectType) and depth < 3:
        return any(_takes_id(f.type, depth + 1) for f in named.fields.values())
    return False


def _value(type_: GraphQLInputType, id_value: str, depth: int = 0) -> Any:
    """A value of `type_`: the id wherever an ID goes, else something valid."""
    if isinstance(type_, GraphQLNonNull):
        return _value(type_.of_type, id_value, depth)
    if isinstance(type_, GraphQLList):
        return [_value(type_.of_type, id_value, depth)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _value(f.type, id_value, depth + 1)
            for name, f in type_.fields.items()
            if _takes_id(f.type, depth + 1)
            or (isinstance(f.type, GraphQLNonNull) and f.default_value is None)
        }
    assert isinstance(type_, GraphQLScalarType)
    return id_value if type_.name == "ID" else SAMPLES.get(type_.name, "x")


def _fields_of(named: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
    parts = ["__typename"]
    for name, field in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        inner = _selection(get_named_type(field.type), depth + 1)
        if inner is None:
            continue
        parts.append(f"{name} {inner}".strip())
    return " ".join(parts)


def _selection(named: GraphQLNamedType, depth: int = 0) -> str | None:
    """Everything a caller could read through a field of this type, two levels down."""
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if depth > 2:
        return None
    if isinstance(named, GraphQLObjectType):
        return "{ " + _fields_of(named, depth) + " }"
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        kinds = _schema().get_possible_types(named)
        fragments = [f"... on {kind.name} {{ {_fields_of(kind, depth)} }}" for kind in kinds]
        return "{ __typename " + " ".join(fragments) + " }"
    return None


def _walk_document(name: str, field: GraphQLField) -> str:
    """A document calling `field` with a variable, named after the argument, for every
    id-taking or required argument."""
    used = {
        arg_name: arg
        for arg_name, arg in field.args.items()
        if _takes_id(arg.type) or isinstance(arg.type, GraphQLNonNull)
    }
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in used.items())
    passed = ", ".join(f"{a}: ${a}" for a in used)
    selection = _selection(get_named_type(field.type)) or ""
    header = f"query Walk({declared})" if declared else "query Walk"
    call = f"{name}({passed})" if passed else name
    return f"{header} {{ {call} {selection} }}"


async def test_every_id_taking_query_field_hides_the_private_collection(world: World) -> None:
    schema = _schema()
    assert schema.query_type is not None
    walked = []
    for name, field in schema.query_type.fields.items():
        if not any(_takes_id(arg.type) for arg in field.args.values()):
            continue
        document = _walk_document(name, field)
        responses = []
        for id_value in (world.private_id, MISSING_COLLECTION_ID):
            variables = {
                a: _value(arg.type, id_value)
                for a, arg in field.args.items()
                if _takes_id(arg.type) or isinstance(arg.type, GraphQLNonNull)
            }
            responses.append(await world.bob.raw(document, variables))
        private, missing = responses
        codes = {e["extensions"]["code"] for e in private.get("errors", [])}
        # FORBIDDEN only for fields refused before any id is looked at (admin-only, such
        # as `user`): `_same_as_missing` checks that the answer is the missing id's.
        assert codes <= {"NOT_FOUND", "VALIDATION_ERROR", "FORBIDDEN"}, (name, private)
        if not codes:
            data = private["data"][name]
            assert data in (None, []) or world.private_id not in json.dumps(data), (name, data)
        _same_as_missing(world, private, missing)
        walked.append(name)
    assert {"collection", "node", "track"} <= set(walked), walked


# Writes by someone who is not the owner.

WRITES: list[tuple[str, dict[str, Any]]] = [
    (UPDATE, {"input": {"name": "mine now"}}),
    (DELETE, {}),
    (ADD, {"trackIds": None}),
    (REMOVE, {"trackIds": None}),
    (MOVE, {"trackId": None, "position": 0}),
]


def _write_variables(world: World, collection_id: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The variables of a write: None in `extra` stands for the world's track."""
    track = {"trackIds": [world.track_id], "trackId": world.track_id}
    return {"id": collection_id} | {k: track[k] if v is None else v for k, v in extra.items()}


async def _snapshot(world: World) -> Any:
    return [
        await world.alice.query(READ, {"id": cid}) | await world.alice.query(TRACKS, {"id": cid})
        for cid in (world.private_id, world.public_id)
    ]


async def test_other_users_cannot_change_a_collection(world: World) -> None:
    before = await _snapshot(world)
    for document, extra in WRITES:
        private = await world.bob.raw(document, _write_variables(world, world.private_id, extra))
        missing = await world.bob.raw(
            document, _write_variables(world, MISSING_COLLECTION_ID, extra)
        )
        assert private["errors"][0]["extensions"]["code"] == "NOT_FOUND", document
        _same_as_missing(world, private, missing)
        public = await world.bob.error(document, _write_variables(world, world.public_id, extra))
        assert public["extensions"]["code"] == "FORBIDDEN", document
    assert await _snapshot(world) == before


async def test_guests_and_anonymous_callers_cannot_write(
    world: World, engine: GraphEngine, settings: Settings
) -> None:
    _, guest_token = await user_token(engine, settings, "guest")
    guest = world.admin.as_(guest_token)
    error = await guest.error(CREATE, {"input": {"name": "x"}})
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await world.anonymous.error(CREATE, {"input": {"name": "x"}})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    for document, extra in WRITES:
        variables = _write_variables(world, world.public_id, extra)
        error = await guest.error(document, variables)
        assert error["extensions"]["code"] == "FORBIDDEN", document


async def test_admin_may_change_and_delete_any_collection(world: World) -> None:
    renamed = await world.admin.query(
        UPDATE, {"id": world.private_id, "input": {"name": "Moderated"}}
    )
    assert renamed["updateCollection"]["name"] == "Moderated"
    owner = await world.alice.query(READ, {"id": world.private_id})
    assert owner["collection"]["name"] == "Moderated"
    assert owner["collection"]["owner"]["id"] == renamed["updateCollection"]["owner"]["id"]
    await world.admin.query(REMOVE, {"id": world.private_id, "trackIds": [world.track_id]})
    await world.admin.query(DELETE, {"id": world.private_id})
    error = await world.alice.error(READ, {"id": world.private_id})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_making_a_collection_private_hides_it_again(world: World) -> None:
    await world.alice.query(UPDATE, {"id": world.public_id, "input": {"public": False}})
    error = await world.bob.error(READ, {"id": world.public_id})
    assert error["extensions"]["code"] == "NOT_FOUND"
    data = await world.bob.query(TRACK_COLLECTIONS, {"id": world.track_id})
    assert data["track"]["collections"] == []
