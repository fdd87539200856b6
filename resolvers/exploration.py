"""Exploring the similarity graph: neighbourhoods, sonic paths and recommendations."""

from typing import Any

from ariadne import QueryType

from graph import exploration
from graph.ids import require_id
from resolvers.context import Info

query = QueryType()


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
    return await exploration.sonic_path(
        info.context.engine, from_id, to_id, steps, mode, bpm_tolerance
    )


@query.field("recommendations")
async def resolve_recommendations(_: Any, info: Info, input: dict[str, Any]) -> list[Any]:
    principal = info.context.principal
    if input.get("exclude_played"):
        principal.require_user()
    return await exploration.recommendations(info.context.engine, input, principal.user_id)


bindables = [query]
