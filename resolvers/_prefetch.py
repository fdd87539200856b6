"""Look-ahead: load the relations a document asks for under a list, one batch per field.

After a page query, the relations selected under `edges { node { … } }` are loaded
through the same per-request loaders, level by level, and attached to the rows as
`_<field>`. The relation resolvers then return plain values, which keeps graphql-core
on its fast synchronous path for the whole page; without a prefetched value they fall
back to the loader, which batches all the same.
"""

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

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

# What each field reads from a page row besides `id` (which every row carries): its
# own properties, or nothing when it loads by id. A selection with a field not listed
# here, or a fragment on another type, gets the whole row (graph.queries.catalog
# Projection), so a field added to the schema is never starved of a property.
ROW_PROPS: dict[str, dict[str, tuple[str, ...]]] = {
    "Track": {
        "__typename": (),
        "id": (),
        "title": ("title",),
        "duration": ("duration",),
        "year": ("year",),
        "trackNumber": ("track_number",),
        "discNumber": ("disc_number",),
        "tags": ("tags",),
        "format": ("format",),
        "fileSize": ("file_size",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
        "missing": ("missing",),
        "streamUrl": ("file_size",),
        "artists": (),
        "album": (),
        "genres": (),
        "audioFeatures": (),
        "analysisStatus": (),
        "analysisError": (),
        "similar": (),
        "playCount": (),
        "coverUrl": (),
    },
    "Artist": {"__typename": (), "id": (), "name": ("name",), "createdAt": ("created_at",)},
    "Album": {
        "__typename": (),
        "id": (),
        "title": ("title",),
        "year": ("year",),
        "createdAt": ("created_at",),
        "artist": (),
    },
    "Genre": {"__typename": (), "id": (), "name": ("name",)},
}


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


def _field_names(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    type_name: str,
    names: set[str],
) -> bool:
    """Adds the names of the fields selected on `type_name` to `names`; False when a
    fragment is on another type (an interface) or unknown: then all may be needed."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
            continue
        if isinstance(selection, InlineFragmentNode):
            condition, inner = selection.type_condition, selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None:
                return False
            condition, inner = fragment.type_condition, fragment.selection_set
        else:
            return False
        if condition is not None and condition.name.value != type_name:
            return False
        if not _field_names(inner, fragments, type_name, names):
            return False
    return True


def _row_props(
    info: Info, type_name: str, selections: Sequence[SelectionSetNode]
) -> frozenset[str] | None:
    """The row properties that `selections` of `type_name` read; None when unknown."""
    names: set[str] = set()
    for selection_set in selections:
        if not _field_names(selection_set, info.fragments, type_name, names):
            return None
    table = ROW_PROPS[type_name]
    if not names <= table.keys():
        return None
    return frozenset(p for name in names for p in table[name])


def page_projection(
    info: Info, selections: Sequence[SelectionSetNode]
) -> dict[str, frozenset[str]]:
    """What a track page's rows and the relations it carries need of their properties
    (graph.queries.catalog Projection): only what the document selects, when every
    field it selects is known (ROW_PROPS)."""
    parts: dict[str, frozenset[str] | None] = {"track": _row_props(info, "Track", selections)}
    wanted = _wanted(info, "Track", selections)
    for field, type_name in (("artists", "Artist"), ("album", "Album"), ("genres", "Genre")):
        if field in wanted:
            parts[field] = _row_props(info, type_name, wanted[field])
    if "album" in wanted:
        owner = _wanted(info, "Album", wanted["album"]).get("artist")
        if owner is not None:
            parts["album_artist"] = _row_props(info, "Artist", owner)
    return {part: props for part, props in parts.items() if props is not None}


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


class PlainRead(NamedTuple):
    """What a resolver marked with it does: return its row's `key`, or, when the row has
    no such key, load it (`required`), or read a null or absent value as `empty`. The
    executor then reads the key itself (server/plain_fields.py), and calls the resolver
    only when the key is required and absent."""

    key: str
    required: bool = False
    empty: Any = None


# The attribute of a resolver that holds its PlainRead.
PLAIN_READ = "plain_read"


def reads[F: Callable[..., Any]](key: str, empty: Any = None) -> Callable[[F], F]:
    """Mark a resolver that returns `row.get(key)`, with null read as `empty`."""
    return _mark(PlainRead(key, False, empty))


def prefetched[F: Callable[..., Any]](field: str) -> Callable[[F], F]:
    """Mark a resolver that returns `prefetched_or_load(row, field, …)`."""
    return _mark(PlainRead("_" + field, True))


def _mark[F: Callable[..., Any]](read: PlainRead) -> Callable[[F], F]:
    def mark(resolver: F) -> F:
        setattr(resolver, PLAIN_READ, read)
        return resolver

    return mark


def prefetched_or_load(row: dict[str, Any], field: str, loader: Any) -> Any:
    """The prefetched value of a relation, else the loader's future for it."""
    value = row.get("_" + field, MISSING)
    if value is not MISSING:
        return value
    return loader.load(row["id"])
