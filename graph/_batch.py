"""Batch reads lined up with their keys, as dataloaders need them."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from graph.engine import GraphEngine, Row


async def by_id(
    engine: GraphEngine, operation: str, query: str, ids: Sequence[str], **params: Any
) -> list[Row | None]:
    """One query over `$ids` whose rows are `{row: {id, …}}`; None for a missing id."""
    rows = await engine.read(operation, query, {"ids": list(dict.fromkeys(ids)), **params})
    found = {row["row"]["id"]: row["row"] for row in rows}
    return [found.get(i) for i in ids]


async def grouped(
    engine: GraphEngine, operation: str, query: str, ids: Sequence[str], **params: Any
) -> list[list[Row]]:
    """One query over `$ids` whose rows are `{key, row}`; the rows of each id, in the
    query's order ([] for an id with none)."""
    rows = await engine.read(operation, query, {"ids": list(dict.fromkeys(ids)), **params})
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row["key"]].append(row["row"])
    return [groups.get(i, []) for i in ids]
