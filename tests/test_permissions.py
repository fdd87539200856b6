"""Every mutation is refused to anonymous and guest callers, except the public ones; every
root field has a permission rule; deleting takes a moderator.

The mutations and their arguments come from the schema itself, so a new mutation cannot
escape these tests.
"""

from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
    is_required_input_field,
    parse,
    validate,
)

from graph import catalog_writes
from graph.engine import GraphEngine
from resolvers.directives import field_rule
from server.graphql_app import build_schema
from server.settings import Settings
from tests.support import GraphQLClient, user_token

SCHEMA = build_schema()
assert SCHEMA.mutation_type is not None
MUTATIONS: dict[str, GraphQLField] = dict(SCHEMA.mutation_type.fields)
# The mailed-token flows are public: the token is the credential.
PUBLIC_MUTATIONS = {
    "register",
    "login",
    "refreshToken",
    "requestPasswordReset",
    "resetPassword",
    "verifyEmail",
}
# Query.maintenance: whether writes are refused, for anyone to ask.
PUBLIC_FIELDS = PUBLIC_MUTATIONS | {"me", "maintenance"}
WELL_FORMED_ID = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
SCALAR_SAMPLES: dict[str, Any] = {
    "ID": WELL_FORMED_ID,
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2024-01-01T00:00:00Z",
    # A multipart request puts a file here; refused callers never reach the resolver.
    "Upload": "not-a-file",
    "JSON": {},
}
NODE_COUNT = "MATCH (n) RETURN count(n) AS n"


def sample(type_: GraphQLInputType) -> Any:
    """A minimal valid value of an input type: required input fields only, one list item."""
    if isinstance(type_, GraphQLNonNull):
        return sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [sample(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: sample(field.type)
            for name, field in type_.fields.items()
            if is_required_input_field(field)
        }
    assert isinstance(type_, GraphQLScalarType)
    assert type_.name in SCALAR_SAMPLES, f"add a sample value for the scalar {type_.name}"
    return SCALAR_SAMPLES[type_.name]


def mutation_call(name: str) -> tuple[str, dict[str, Any]]:
    """A document calling mutation `name` with its required arguments, and the variables."""
    field = MUTATIONS[name]
    required = {a: arg for a, arg in field.args.items() if is_required_argument(arg)}
    definitions = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    arguments = ", ".join(f"{a}: ${a}" for a in required)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    document = (
        f"mutation{f'({definitions})' if definitions else ''} "
        f"{{ {name}{f'({arguments})' if arguments else ''}{selection} }}"
    )
    return document, {a: sample(arg.type) for a, arg in required.items()}


async def node_count(engine: GraphEngine) -> int:
    return int((await engine.read("t", NODE_COUNT))[0]["n"])


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    return errors[0]["extensions"]["code"] if errors else None


def test_mutation_documents_are_valid() -> None:
    """The refusals below must come from the permission check, not from the document."""
    for name in MUTATIONS:
        document, _ = mutation_call(name)
        assert validate(SCHEMA, parse(document)) == [], document


@pytest.mark.parametrize("name", sorted(set(MUTATIONS) - PUBLIC_MUTATIONS))
async def test_mutation_is_refused_to_anonymous_and_guest_callers(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient, name: str
) -> None:
    _, guest_token = await user_token(engine, settings, "guest")
    document, variables = mutation_call(name)
    outcomes: dict[str, tuple[str | None, int]] = {}
    for caller, token in (("anonymous", None), ("guest", guest_token)):
        before = await node_count(engine)
        body = await GraphQLClient(client, token).raw(document, variables)
        outcomes[caller] = (error_code(body), await node_count(engine) - before)
    assert outcomes["anonymous"] == ("UNAUTHENTICATED", 0), (document, variables)
    assert outcomes["guest"] in {("FORBIDDEN", 0), ("UNAUTHENTICATED", 0)}, (document, variables)


def test_every_root_field_has_a_rule() -> None:
    rules: dict[str, str | None] = {}
    for root in (SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type):
        if isinstance(root, GraphQLObjectType):
            rules |= {f"{root.name}.{n}": field_rule(f) for n, f in root.fields.items()}
    assert [name for name, rule in rules.items() if rule is None] == []
    public = {name.split(".", 1)[1] for name, rule in rules.items() if rule == "public"}
    assert public == PUBLIC_FIELDS


# A collection belongs to its owner, who may delete it with WRITE_MEDIA
# (schema/collections.graphql), and so does an account (schema/users.graphql); every
# other delete removes catalogue media.
OWN_DATA_DELETES = {"deleteCollection", "deleteAccount"}
# Deletes of a sub-resource of a track, with their own arguments (not just `id`).
SUB_RESOURCE_DELETES = {"deleteEmbedding", "deleteMetadata"}
# Deleting an account of someone else is user administration, not media.
USER_ADMIN_DELETES = {"deleteUser"}
DELETE = "mutation Delete($id: ID!) {{ {name}(id: $id) {{ deletedId }} }}"


async def _deletable(engine: GraphEngine) -> dict[str, str]:
    """One node for each delete mutation, without tracks so no cascade is needed."""
    [track] = await catalog_writes.create_tracks(engine, [{"title": "Blue in Green"}])
    artist = await catalog_writes.create_artist(engine, "Bill Evans")
    album = await catalog_writes.create_album(engine, {"title": "Portrait in Jazz"})
    return {"deleteTrack": track["id"], "deleteArtist": artist["id"], "deleteAlbum": album["id"]}


async def test_deleting_takes_a_moderator(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    targets = await _deletable(engine)
    deletes = {n for n in MUTATIONS if n.startswith("delete")}
    assert set(targets) == deletes - OWN_DATA_DELETES - SUB_RESOURCE_DELETES - USER_ADMIN_DELETES
    assert {field_rule(MUTATIONS[n]) for n in USER_ADMIN_DELETES} == {"manage:users"}
    assert {field_rule(MUTATIONS[n]) for n in {*targets, *SUB_RESOURCE_DELETES}} == {"delete:media"}
    _, user = await user_token(engine, settings, "user")
    _, moderator = await user_token(engine, settings, "moderator")
    before = await node_count(engine)
    for name, node_id in targets.items():
        body = await GraphQLClient(client, user).raw(DELETE.format(name=name), {"id": node_id})
        assert error_code(body) == "FORBIDDEN", name
    assert await node_count(engine) == before
    for name, node_id in targets.items():
        data = await GraphQLClient(client, moderator).query(
            DELETE.format(name=name), {"id": node_id}
        )
        assert data == {name: {"deletedId": node_id}}
    assert await node_count(engine) == before - len(targets)
