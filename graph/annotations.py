"""A user's stars and ratings on tracks, albums and artists."""

from collections.abc import Sequence

from graph.catalog_writes import now_ms
from graph.engine import GraphEngine
from graph.queries import annotations as q
from music.errors import NotFoundError, ValidationError

PREFIXES = {"trk_": "Track", "alb_": "Album", "art_": "Artist"}


def label_of(node_id: str) -> str:
    """The label an id names by its prefix; VALIDATION_ERROR for any other id."""
    label = PREFIXES.get(node_id[:4])
    if label is None:
        raise ValidationError("Only tracks, albums and artists are starred or rated.", field="id")
    return label


def _by_label(ids: Sequence[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for node_id in ids:
        grouped.setdefault(label_of(node_id), []).append(node_id)
    return grouped


async def star(engine: GraphEngine, user_id: str, ids: Sequence[str]) -> int:
    """Star what exists of `ids` (again: no change); the number found."""
    found = 0
    for label, group in _by_label(ids).items():
        params = {"user": user_id, "ids": group, "now": now_ms()}
        rows = await engine.write(f"star_{label.lower()}", q.star(label), params)
        found += int(rows[0]["starred"]) if rows else 0
    return found


async def unstar(engine: GraphEngine, user_id: str, ids: Sequence[str]) -> int:
    removed = 0
    for label, group in _by_label(ids).items():
        params = {"user": user_id, "ids": group}
        rows = await engine.write(f"unstar_{label.lower()}", q.unstar(label), params)
        removed += int(rows[0]["unstarred"]) if rows else 0
    return removed


async def starred(engine: GraphEngine, user_id: str, label: str) -> list[str]:
    """Ids of the user's starred nodes of `label`, the latest first (at most 500)."""
    rows = await engine.read(f"starred_{label.lower()}", q.starred(label), {"user": user_id})
    return [row["id"] for row in rows]


async def set_rating(engine: GraphEngine, user_id: str, node_id: str, rating: int) -> None:
    """Rate 1-5; 0 removes the rating. NOT_FOUND when there is no such node."""
    if not 0 <= rating <= 5:
        raise ValidationError("A rating is 0 (none) to 5.", field="rating")
    label = label_of(node_id)
    params = {"user": user_id, "id": node_id, "rating": rating, "now": now_ms()}
    query = q.rate(label) if rating else q.unrate(label)
    rows = await engine.write(f"rate_{label.lower()}", query, params)
    if not rows:
        raise NotFoundError(f"{label} {node_id} does not exist.")
