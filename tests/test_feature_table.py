"""The audio-feature table (music/features.py) and the SDL describe the same fields: adding
a feature is one row in the table plus its field in schema/analysis.graphql."""

from graphql import GraphQLInputObjectType, GraphQLNonNull, GraphQLObjectType

from music.features import FEATURE_BOUNDS, FEATURES, camel_case
from server.graphql_app import build_schema
from server.rest import shapes


def test_the_sdl_output_type_has_exactly_the_table_fields() -> None:
    output = build_schema().type_map["AudioFeatures"]
    assert isinstance(output, GraphQLObjectType)
    assert list(output.fields) == [camel_case(f.name) for f in FEATURES]
    for feature in FEATURES:
        field = output.fields[camel_case(feature.name)]
        assert isinstance(field.type, GraphQLNonNull) == feature.required, feature.name


def test_clients_may_give_every_feature_that_is_not_derived() -> None:
    given = build_schema().type_map["AudioFeaturesInput"]
    assert isinstance(given, GraphQLInputObjectType)
    assert list(given.fields) == [camel_case(f.name) for f in FEATURES if not f.derived]


def test_rest_shapes_follow_the_table() -> None:
    assert shapes.FEATURES.split() == [camel_case(f.name) for f in FEATURES]
    described = shapes.SCHEMAS["AudioFeatures"]["properties"]
    assert list(described) == [f.name for f in FEATURES]
    assert set(FEATURE_BOUNDS) <= {f.name for f in FEATURES if f.kind == "number"}
