"""Exploring the similarity graph: neighbourhoods, sonic paths and recommendations."""

from typing import Any

from ariadne import QueryType

from graph import exploration
from graph.ids import require_id
from music.errors import ValidationError
from resolvers.context import Info
from resolvers.recommendation_input import parse_recommendation_input

query = QueryType()


def _check_neighborhood(depth: int, first: int, min_score: float) -> None:
    if not 1 <= depth <= exploration.MAX_DEPTH:
        message = f"'depth' must be between 1 and {exploration.MAX_DEPTH}."
        raise ValidationError(message, field="depth")
    if not 1 <= first <= exploration.MAX_NODES:
        message = f"'first' must be between 1 and {exploration.MAX_NODES}."
        raise ValidationError(message, field="first")
    if not -1.0 <= min_score <= 1.0:
        raise ValidationError("'minScore' must be between -1 and 1.", field="minScore")


def _check_path(from_id: str, to_id: str, steps: int, mode: str, bpm_tolerance: float) -> None:
    if not exploration.MIN_STEPS <= steps <= exploration.MAX_STEPS:
        message = f"'steps' must be between {exploration.MIN_STEPS} and {exploration.MAX_STEPS}."
        raise ValidationError(message, field="steps")
    if mode not in exploration.MODES:
        raise ValidationError("'mode' must be SIMILARITY or HARMONIC.", field="mode")
    if not 0.0 <= bpm_tolerance <= 0.5:
        raise ValidationError("'bpmTolerance' must be between 0 and 0.5.", field="bpmTolerance")
    if from_id == to_id:
        raise ValidationError("'fromId' and 'toId' must differ.", field="toId")


@query.field("neighborhood")
async def resolve_neighborhood(
    _: Any,
    info: Info,
    track_id: str,
    depth: int = 1,
    first: int = 50,
    min_score: float = 0.0,
) -> dict[str, Any]:
    require_id(track_id, "Track", "trackId")
    _check_neighborhood(depth, first, min_score)
    return await exploration.neighborhood(info.context.engine, track_id, depth, first, min_score)


@query.field("sonicPath")
async def resolve_sonic_path(
    _: Any,
    info: Info,
    from_id: str,
    to_id: str,
    steps: int = 10,
    mode: str = "SIMILARITY",
    bpm_tolerance: float = 0.06,
) -> dict[str, Any]:
    require_id(from_id, "Track", "fromId")
    require_id(to_id, "Track", "toId")
    _check_path(from_id, to_id, steps, mode, bpm_tolerance)
    return await exploration.sonic_path(
        info.context.engine, from_id, to_id, steps, mode, bpm_tolerance
    )


@query.field("recommendations")
async def resolve_recommendations(_: Any, info: Info, input: dict[str, Any]) -> list[Any]:
    principal = info.context.principal
    if input.get("exclude_played"):
        principal.require_user()
    request = parse_recommendation_input(input, principal.user_id)
    return await exploration.recommendations(info.context.engine, request, principal.user_id)


bindables = [query]
