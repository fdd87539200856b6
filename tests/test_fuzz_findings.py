"""What the fuzz run (tests/test_fuzz.py) found besides control characters, each answered
as the client's error or served, never INTERNAL."""

from tests.support import GraphQLClient

SUGGEST_NULLS = '{ suggest(prefix: "a", field: null, first: null) { text } }'
RECORD_PLAY = """
mutation P($at: DateTime) { recordPlay(trackId: "trk_01M8Y0H9NG4VACHM1F0G8T2Q2F", at: $at) { at } }
"""
RECORD_PLAY_LITERAL = """
mutation { recordPlay(trackId: "trk_01M8Y0H9NG4VACHM1F0G8T2Q2F", at: "0\\u0001160-02-07") { at } }
"""


async def test_explicit_nulls_take_the_defaults_of_suggest(gql: GraphQLClient) -> None:
    assert (await gql.query(SUGGEST_NULLS))["suggest"] == []


async def test_a_bad_datetime_is_a_validation_error(gql: GraphQLClient) -> None:
    for error in (
        await gql.error(RECORD_PLAY_LITERAL),
        await gql.error(RECORD_PLAY, {"at": "yesterday"}),
        await gql.error(RECORD_PLAY, {"at": 12}),
    ):
        assert error["extensions"]["code"] == "VALIDATION_ERROR", error
