"""Seed 001's library and listening: the play queue, recommendations, a library scan (a
job) and each user's settings."""

from typing import Any

from server.rest import shapes
from server.rest.mapping import (
    PAGE,
    Call,
    Route,
    field_at,
    param,
)
from server.rest.shapes import ANY, BOOL, NUM, REF, STR, array, list_of, nullable, obj

LIBRARY_TAG = "Library and listening"

# One id or several (a query parameter may repeat).
IDS = array(STR)
SCAN_BODY = obj({"path": STR, "webhook_url": STR}, required=("path",))


def started_job(data: Any, call: Call) -> Any:
    return shapes.snake(next(iter(data.values())))


def recommendation_input(c: Call) -> dict[str, Any]:
    return {
        "input": {
            "seedTrackIds": c.query.get("track_id"),
            "seedArtistIds": c.query.get("artist_id"),
            "seedGenres": c.query.get("genre"),
            "first": c.limit,
            "excludePlayed": c.query.get("exclude_played", False),
        }
    }


# fmt: off
LIBRARY_ROUTES: tuple[Route, ...] = (
    Route("GET", "/playqueue", "GetPlayQueue",
        f"query GetPlayQueue {{ playQueue {{ {shapes.QUEUE} }} }}", variables=lambda c: {},
        result=field_at("playQueue"), summary="Your play queue", tag=LIBRARY_TAG,
        response=REF["PlayQueue"],
    ),
    Route("POST", "/playqueue", "Enqueue",
        f"mutation Enqueue($ids: [ID!]!, $position: Int) {{ enqueue(trackIds: $ids, "
        f"position: $position) {{ {shapes.QUEUE} }} }}",
        variables=lambda c: {"ids": c.b("track_ids"), "position": c.b("position")},
        result=field_at("enqueue"), summary="Add tracks to your queue", tag=LIBRARY_TAG,
        body=obj({"track_ids": IDS, "position": nullable("integer")}, required=("track_ids",)),
        response=REF["PlayQueue"],
    ),
    Route("DELETE", "/playqueue", "ClearQueue",
        f"mutation ClearQueue {{ clearQueue {{ {shapes.QUEUE} }} }}", variables=lambda c: {},
        result=field_at("clearQueue"), summary="Empty your queue", tag=LIBRARY_TAG,
        response=REF["PlayQueue"],
    ),
    Route("GET", "/recommendations", "Recommendations",
        f"query Recommendations($input: RecommendationInput!) {{ recommendations(input: $input) "
        f"{{ score track {{ {shapes.TRACK} }} reasons {{ signal value description }} }} }}",
        variables=recommendation_input,
        result=lambda d, c: shapes.page(
            [
                {
                    "score": r["score"],
                    "track": shapes.track(r["track"]),
                    "reasons": shapes.snake(r["reasons"]),
                }
                for r in d["recommendations"]
            ],
            len(d["recommendations"]),
            c.limit,
            0,
        ),
        summary="Recommendations for 1 to 5 seeds", tag=LIBRARY_TAG,
        query=(
            param("track_id", IDS),
            param("artist_id", IDS),
            param("genre", IDS),
            param("exclude_played", BOOL),
            PAGE[0],
        ),
        response=list_of(obj({"score": NUM, "track": REF["Track"], "reasons": array(ANY)})),
    ),
    Route("POST", "/scan", "ScanLibrary",
        f"mutation ScanLibrary($path: String!, $webhookUrl: String) {{ scanLibrary("
        f"path: $path, webhookUrl: $webhookUrl) {{ {shapes.JOB} }} }}",
        variables=lambda c: {"path": c.b("path"), "webhookUrl": c.b("webhook_url")},
        result=started_job,
        summary="Scan a folder under the scan roots (a job)", tag=LIBRARY_TAG, status=202,
        body=SCAN_BODY, response=REF["Job"],
    ),
    Route("GET", "/settings", "GetSettings",
        "query GetSettings { settings }", variables=lambda c: {}, result=lambda d, c: d["settings"],
        summary="Your preferences", tag=LIBRARY_TAG, response={"type": "object"},
    ),
    Route("PUT", "/settings", "UpdateSettings",
        "mutation UpdateSettings($settings: JSON!) { updateSettings(settings: $settings) }",
        variables=lambda c: {"settings": c.body}, result=lambda d, c: d["updateSettings"],
        summary="Replace your preferences", tag=LIBRARY_TAG, body={"type": "object"},
        response={"type": "object"},
    ),
)
# fmt: on
