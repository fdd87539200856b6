"""Seed 000's analytics, in its shapes: `/analytics/stats`, `/analytics/trends` as
`{trends, period, metric}` and `/analytics/similar/{id}` as `{similar_media}` above a
0.7 score."""

from typing import Any

from server.rest import shapes
from server.rest.mapping import (
    STATS,
    Call,
    Route,
    enum_schema,
    field_at,
    param,
    stats_document,
)
from server.rest.shapes import NUM, REF, STR, array, obj

ANALYTICS_TAG = "Analytics"


def trends_result(data: Any, call: Call) -> dict[str, Any]:
    return {
        "trends": shapes.snake(data["trends"]),
        "period": call.query.get("period"),
        "metric": call.query.get("metric"),
    }


def similar_result(data: Any, call: Call) -> dict[str, Any]:
    track = shapes.found(data["track"], "media")
    return {"similar_media": [shapes.similar(s) for s in track["similar"]]}


# fmt: off
ANALYTICS_ROUTES: tuple[Route, ...] = (
    Route("GET", "/analytics/stats", "AnalyticsStats",
        stats_document("AnalyticsStats"),
        variables=lambda c: {"collectionId": c.query.get("collection_id")},
        result=field_at("collectionStats"), summary="Catalogue (or collection) statistics",
        tag=ANALYTICS_TAG,
        query=(param("collection_id", STR),), response=STATS,
    ),
    Route("GET", "/analytics/trends", "Trends",
        "query Trends($period: TrendPeriod!, $metric: TrendMetric!, $last: Int) { trends("
        "period: $period, metric: $metric, last: $last) { start value } }",
        variables=lambda c: {
            "period": str(c.query["period"]).upper(),
            "metric": str(c.query["metric"]).upper(),
            "last": c.query.get("last", 30),
        },
        result=trends_result, summary="A metric per period", tag=ANALYTICS_TAG,
        query=(
            param("period", {**enum_schema("day", "week", "month", "year"), "default": "week"}),
            param("metric", {**enum_schema("uploads", "plays", "duration"), "default": "uploads"}),
            param("last", {"type": "integer", "minimum": 1, "maximum": 365}),
        ),
        response=obj(
            {
                "trends": array(obj({"start": shapes.DATETIME, "value": NUM})),
                "period": STR,
                "metric": STR,
            }
        ),
    ),
    Route("GET", "/analytics/similar/{id}", "AnalyticsSimilar",
        f"query AnalyticsSimilar($id: ID!, $first: Int, $minScore: Float) {{ track(id: $id) "
        f"{{ similar(first: $first, minScore: $minScore) {{ {shapes.SIMILAR} }} }} }}",
        variables=lambda c: {
            "id": c.id,
            "first": c.query["limit"],
            "minScore": c.query["similarity_threshold"],
        },
        result=similar_result, summary="Similar media above a score (0.7 by default)",
        tag=ANALYTICS_TAG,
        query=(
            param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
            param("similarity_threshold", {"type": "number", "minimum": 0, "maximum": 1,
                                       "default": 0.7}),
        ),
        response=obj({"similar_media": array(REF["SimilarTrack"])}),
    ),
)
# fmt: on
