"""`settings` and `updateSettings`: a user's preferences, a bounded JSON object."""

from typing import Any

import pytest

from tests.support import GraphQLClient

SETTINGS = "{ settings }"
UPDATE_SETTINGS = "mutation S($s: JSON!) { updateSettings(settings: $s) }"


async def test_preferences_round_trip(gql: GraphQLClient) -> None:
    assert (await gql.query(SETTINGS))["settings"] == {}
    stored = {"theme": "dark", "volume": 0.8, "columns": ["title", "artist"]}
    assert (await gql.query(UPDATE_SETTINGS, {"s": stored}))["updateSettings"] == stored
    assert (await gql.query(SETTINGS))["settings"] == stored


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["not", "an", "object"], "'settings' must be a JSON object."),
        ({f"k{i}": i for i in range(101)}, "'settings' holds at most 100 keys."),
        ({"big": "x" * 16_384}, "'settings' is over 16384 bytes."),
    ],
)
async def test_preferences_out_of_bounds_are_refused(
    gql: GraphQLClient, value: Any, message: str
) -> None:
    error = await gql.error(UPDATE_SETTINGS, {"s": value})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["message"] == message
    assert (await gql.query(SETTINGS))["settings"] == {}
