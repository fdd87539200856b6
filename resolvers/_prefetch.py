"""Look-ahead: load the relations a document asks for under a list, one batch per field.

After a page query, the relations selected under `edges { node { … } }` are loaded
through the same per-request loaders, level by level, and attached to the rows as
`_<field>`. The relation resolvers then return plain values, which keeps graphql-core
on its fast synchronous path for the whole page; without a prefetched value they fall
back to the loader, which batches all the same.
"""

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from resolvers.context import Info

# type -> field -> (loader attribute on Loaders, child type)
RELATIONS: dict[str, dict[str, tuple[str, str]]] = {
    "Track": {
        "artists": ("artists_by_track_id", "Artist"),
        "album": ("album_by_track_id", "Album"),
        "genres": ("genres_by_track_id", "Genre"),
    },
    "Album": {"artist": ("artist_by_album_id", "Artist")},
}

MISSING = object()


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    type_name: str,
) -> Iterator[FieldNode]:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or condition.name.value == type_name:
                yield from _fields(selection.selection_set, fragments, type_name)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and fragment.type_condition.name.value == type_name:
                yield from _fields(fragment.selection_set, fragments, type_name)


def node_selections(info: Info, connection_type: str) -> list[SelectionSetNode]:
    """The selection sets under `edges { node }` of the connection being resolved."""
    found: list[SelectionSetNode] = []
    for field_node in info.field_nodes:
        for edges in _fields(field_node.selection_set, info.fragments, connection_type):
            if edges.name.value != "edges":
                continue
            edge_type = connection_type.removesuffix("Connection") + "Edge"
            for node in _fields(edges.selection_set, info.fragments, edge_type):
                if node.name.value == "node" and node.selection_set is not None:
                    found.append(node.selection_set)
    return found


def _wanted(
    info: Info, type_name: str, selections: Sequence[SelectionSetNode]
) -> dict[str, list[SelectionSetNode]]:
    """The relations of `type_name` the selections ask for, with their sub-selections."""
    relations = RELATIONS.get(type_name) or {}
    wanted: dict[str, list[SelectionSetNode]] = {}
    for selection_set in selections:
        for field in _fields(selection_set, info.fragments, type_name):
            name = field.name.value
            if name in relations:
                sub_selections = wanted.setdefault(name, [])
                if field.selection_set is not None:
                    sub_selections.append(field.selection_set)
    return wanted


def page_relations(info: Info, selections: Sequence[SelectionSetNode]) -> frozenset[str]:
    """The track relations a page query carries itself (graph.queries.catalog
    PAGE_RELATIONS): those selected under the page's nodes, and the album's artist."""
    wanted = _wanted(info, "Track", selections)
    relations = set(wanted)
    if "album" in wanted and "artist" in _wanted(info, "Album", wanted["album"]):
        relations.add("album_artist")
    return frozenset(relations)


async def prefetch(
    info: Info,
    type_name: str,
    selections: Sequence[SelectionSetNode],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Load and attach the relations `selections` ask for on `rows` of `type_name`;
    relations the rows already carry (a compiled page query) are not loaded again."""
    relations = RELATIONS.get(type_name)
    if not relations or not rows:
        return
    wanted = _wanted(info, type_name, selections)
    if not wanted:
        return
    loaders = info.context.loaders
    ids = [row["id"] for row in rows]
    names = list(wanted)
    missing = [n for n in names if any("_" + n not in row for row in rows)]
    loaded = await asyncio.gather(
        *(getattr(loaders, relations[name][0]).load_many(ids) for name in missing)
    )
    results = [
        loaded[missing.index(name)] if name in missing else [row["_" + name] for row in rows]
        for name in names
    ]
    nested = []
    for name, values in zip(names, results, strict=True):
        key = "_" + name
        children: list[dict[str, Any]] = []
        for row, value in zip(rows, values, strict=True):
            row[key] = value
            if isinstance(value, list):
                children.extend(value)
            elif value is not None:
                children.append(value)
        nested.append(prefetch(info, relations[name][1], wanted[name], children))
    await asyncio.gather(*nested)


def prefetched_or_load(row: dict[str, Any], field: str, loader: Any) -> Any:
    """The prefetched value of a relation, else the loader's future for it."""
    value = row.get("_" + field, MISSING)
    if value is not MISSING:
        return value
    return loader.load(row["id"])
