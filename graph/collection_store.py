"""Collections: a user's ordered, optionally public lists of tracks.

Reads take a `Viewer` and return only what it may see: a private collection is the
same as a missing one to everybody but its owner and admins. Writes are one query
each (one transaction) that also checks ownership; when a write matches nothing, a
read afterwards tells the caller why: NOT_FOUND for a collection they cannot see or
a track that does not exist, FORBIDDEN for someone else's public collection.

A track is in a collection at most once: adding one that is there already leaves it
where it is.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from graph import counts, ids, pages, sort_keys
from graph._batch import by_id, grouped
from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.names import name_key
from graph.queries import collections as q
from music.errors import ForbiddenError, NotFoundError, ValidationError
from music.text import check_text

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_TRACK_IDS = 500

Page = tuple[list[Row], list[Any]]
# A page of a collection's tracks: rows, sort keys ([position, track id]), added_at.
TrackPage = tuple[list[Row], list[Any], list[int]]


class Viewer(NamedTuple):
    """Who reads or writes: a user id (None when anonymous), and whether an admin."""

    user_id: str | None
    admin: bool


ANONYMOUS_VIEWER = Viewer(None, False)


class Change(NamedTuple):
    """A membership write's result: the collection, its size now, the tracks it moved."""

    row: Row
    track_count: int
    track_ids: list[str]


def _viewer_params(viewer: Viewer) -> dict[str, Any]:
    return {"viewer": viewer.user_id, "admin": viewer.admin}


async def collections_by_id(
    engine: GraphEngine, viewer: Viewer, collection_ids: Sequence[str]
) -> list[Row | None]:
    """The collections `viewer` may see, lined up with the ids (None for the others)."""
    return await by_id(
        engine,
        "collections_by_id",
        q.COLLECTIONS_BY_ID_QUERY,
        collection_ids,
        **_viewer_params(viewer),
    )


async def collections_by_track(
    engine: GraphEngine, viewer: Viewer, track_ids: Sequence[str]
) -> list[list[Row]]:
    """For each track, the collections holding it that `viewer` may see, by name."""
    return await grouped(
        engine,
        "collections_by_track",
        q.COLLECTIONS_BY_TRACK_QUERY,
        track_ids,
        **_viewer_params(viewer),
    )


async def collections_page(
    engine: GraphEngine, viewer: Viewer, after: list[Any] | None, limit: int
) -> Page:
    """The viewer's own collections and the public ones, by name, after a keyset
    position (`q.COLLECTION_SORT`, then the id): windows of the name's integer key."""

    def build(near: bool, far: bool) -> tuple[str, dict[str, Any]]:
        params = {"viewer": viewer.user_id, "after": after}
        return q.collections_window(after is not None, near, far), params

    rows = await pages.window_page(
        engine,
        "collections_page",
        "Collection",
        q.COLLECTION_SORT[0],
        "ASC",
        after,
        limit,
        build,
        f"collections:{viewer.user_id}",
    )
    return [row["row"] for row in rows], [row["sort_key"] for row in rows]


async def collections_count(engine: GraphEngine, viewer: Viewer) -> int:
    """How many collections the viewer's list holds (theirs and the public ones), kept
    COUNT_SECONDS (graph/counts.py): a client paging through the list asks on every
    page, and the count reads every listed collection. This process's collection
    writes drop it."""

    async def count() -> int:
        rows = await engine.read(
            "collections_count", q.COLLECTIONS_COUNT_QUERY, {"viewer": viewer.user_id}
        )
        return int(rows[0]["total"]) if rows else 0

    return await counts.cached(engine, f"collections:{viewer.user_id}", count)


PageKey = tuple[str, tuple[Any, ...] | None, int]
WINDOW_SLACK = 2  # a window holds this many pages' positions: room for a few gaps
LAST_POSITION = (1 << 53) - 1  # the end of a collection whose span is unknown


async def track_pages(
    engine: GraphEngine, keys: Sequence[tuple[str, list[Any] | None, int]]
) -> list[TrackPage]:
    """One page of tracks per (collection id, after, limit) key, in position order: a
    window of positions per key (graph/queries/collections.py), then, for the keys whose
    window came short of the page before the collection's last position (gaps that
    deleted tracks left), one more read over the rest of their positions."""
    unique = list(dict.fromkeys((p, tuple(a) if a else None, n) for p, a, n in keys))
    found: dict[PageKey, list[Row]] = {}
    windows: dict[PageKey, dict[str, Any]] = {}
    for parent, after, limit in unique:
        start = int(after[0]) if after else 0
        windows[(parent, after, limit)] = {
            "parent": parent,
            "after": list(after) if after else None,
            "limit": limit,
            "from": start,
            "to": start + WINDOW_SLACK * limit + 1,
        }
    rest: list[dict[str, Any]] = []
    for row, key in await _track_windows(engine, list(windows.values())):
        found[key] = row["rows"]
        span = LAST_POSITION if row["span"] is None else int(row["span"])
        window = windows[key]
        if len(row["rows"]) < key[2] and window["to"] < span:
            rest.append(window | {"from": window["to"], "to": span})
    if rest:
        for row, key in await _track_windows(engine, rest):
            found[key] = (found[key] + row["rows"])[: key[2]]
    pages = {
        key: (
            [item["row"] for item in items],
            [item["sort_key"] for item in items],
            [item["added_at"] for item in items],
        )
        for key, items in found.items()
    }
    return [pages.get((p, tuple(a) if a else None, n), ([], [], [])) for p, a, n in keys]


def _key(window: dict[str, Any]) -> PageKey:
    after = window["after"]
    return window["parent"], tuple(after) if after else None, window["limit"]


async def _track_windows(
    engine: GraphEngine, windows: list[dict[str, Any]]
) -> list[tuple[Row, PageKey]]:
    rows = await engine.read(
        "tracks_by_collection", q.TRACKS_BY_COLLECTION_PAGE_QUERY, {"keys": windows}
    )
    return [(row, _key(row)) for row in rows]


async def track_counts(engine: GraphEngine, collection_ids: Sequence[str]) -> list[int]:
    rows = await engine.read(
        "tracks_by_collection_count",
        q.TRACK_COUNT_BY_COLLECTION_QUERY,
        {"ids": list(dict.fromkeys(collection_ids))},
    )
    counts = {row["key"]: int(row["n"]) for row in rows}
    return [counts.get(i, 0) for i in collection_ids]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("'name' must not be empty.", field="name")
    name = check_text(value.strip(), "name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"'name' must be at most {MAX_NAME} characters.", field="name")
    return name


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("'description' must be a string.", field="description")
    description = check_text(value.strip(), "description", multiline=True)
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            f"'description' must be at most {MAX_DESCRIPTION} characters.", field="description"
        )
    return description or None


def _public(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("'public' must be true or false.", field="public")
    return value


def _position(value: Any, field: str = "position") -> int | None:
    if value is not None and value < 0:
        raise ValidationError(f"'{field}' must not be negative.", field=field)
    return value  # type: ignore[no-any-return]


def _track_ids(values: Sequence[str]) -> list[str]:
    if not values:
        raise ValidationError("'trackIds' must not be empty.", field="trackIds")
    if len(values) > MAX_TRACK_IDS:
        raise ValidationError(f"'trackIds' takes at most {MAX_TRACK_IDS} ids.", field="trackIds")
    return list(dict.fromkeys(ids.require_id(i, "Track", "trackIds") for i in values))


def not_found(collection_id: str) -> NotFoundError:
    """The error for a collection the caller cannot see: the same words whether it does
    not exist or is someone else's private one."""
    return NotFoundError(f"Collection {collection_id} does not exist.")


async def _refusal(
    engine: GraphEngine, viewer: Viewer, collection_id: str
) -> NotFoundError | ForbiddenError | None:
    """Why the viewer may not change a collection, or None if they may."""
    rows = await engine.read("collection_access", q.COLLECTION_ACCESS_QUERY, {"id": collection_id})
    if not rows:
        return not_found(collection_id)
    if viewer.admin or rows[0]["owner_id"] == viewer.user_id:
        return None
    if rows[0]["public"]:
        return ForbiddenError("Only the owner of a collection may change it.")
    return not_found(collection_id)


async def _refused(
    engine: GraphEngine, viewer: Viewer, collection_id: str, otherwise: NotFoundError | None = None
) -> NotFoundError | ForbiddenError:
    """The error for a write that matched nothing; `otherwise` when the viewer may write."""
    return await _refusal(engine, viewer, collection_id) or otherwise or not_found(collection_id)


def _name_sort_keys(name: str) -> dict[str, Any]:
    """The list's sort keys of a collection named `name` (graph/sort_keys.py)."""
    keys = sort_keys.name_keys(name)
    return {"name_sort": keys["sort"], "sk_name": keys["sk"]}


async def create_collection(engine: GraphEngine, owner_id: str, data: Mapping[str, Any]) -> Row:
    """Create a collection owned by `owner_id`: private unless `public` is true."""
    name = _name(data.get("name"))
    params = {
        "viewer": owner_id,
        "id": ids.new_id("Collection"),
        "name": name,
        "name_key": name_key(name),
        **_name_sort_keys(name),
        "description": _description(data.get("description")),
        "public": _public(data.get("public", False)),
        "now": now_ms(),
    }
    rows = await engine.write("create_collection", q.CREATE_COLLECTION_QUERY, params)
    if not rows:
        raise NotFoundError(f"User {owner_id} does not exist.")
    counts.forget()  # every viewer's list may hold it
    return rows[0]["row"]  # type: ignore[no-any-return]


async def update_collection(
    engine: GraphEngine, viewer: Viewer, collection_id: str, data: Mapping[str, Any]
) -> Row:
    """Change the fields given; a null description clears it."""
    ids.require_id(collection_id, "Collection")
    props: dict[str, Any] = {}
    if "name" in data:
        props["name"] = _name(data["name"])
        props["name_key"] = name_key(props["name"])
        props |= _name_sort_keys(props["name"])
    if "description" in data:
        props["description"] = _description(data["description"])
    if "public" in data:
        props["public"] = _public(data["public"])
    params = {"id": collection_id, "props": props, "now": now_ms()} | _viewer_params(viewer)
    rows = await engine.write("update_collection", q.UPDATE_COLLECTION_QUERY, params)
    if not rows:
        raise await _refused(engine, viewer, collection_id)
    counts.forget()  # made public or private: every viewer's list
    return rows[0]["row"]  # type: ignore[no-any-return]


async def delete_collection(engine: GraphEngine, viewer: Viewer, collection_id: str) -> str:
    """Delete a collection (its tracks stay in the catalogue); returns its id."""
    ids.require_id(collection_id, "Collection")
    params = {"id": collection_id} | _viewer_params(viewer)
    rows = await engine.write("delete_collection", q.DELETE_COLLECTION_QUERY, params)
    if not rows:
        raise await _refused(engine, viewer, collection_id)
    counts.forget()
    return str(rows[0]["id"])


def _change(rows: list[Row]) -> Change:
    return Change(rows[0]["row"], int(rows[0]["track_count"]), list(rows[0]["changed"]))


async def add_tracks(
    engine: GraphEngine,
    viewer: Viewer,
    collection_id: str,
    track_ids: Sequence[str],
    position: int | None = None,
) -> Change:
    """Insert tracks at a 0-based `position` (appended when None or past the end).

    Tracks already in the collection keep their place. If any track does not exist,
    nothing is written and the error names it.
    """
    ids.require_id(collection_id, "Collection")
    wanted = _track_ids(track_ids)
    params = {
        "id": collection_id,
        "track_ids": wanted,
        "position": _position(position),
        "now": now_ms(),
    } | _viewer_params(viewer)
    rows = await engine.write("add_to_collection", q.ADD_TRACKS_QUERY, params)
    if rows:
        return _change(rows)
    refusal = await _refusal(engine, viewer, collection_id)
    if refusal is not None:
        raise refusal
    # The viewer may write, so a track was missing.
    missing = await engine.read("missing_tracks", q.MISSING_TRACKS_QUERY, {"ids": wanted})
    first = missing[0]["id"] if missing else wanted[0]
    raise NotFoundError(f"Track {first} does not exist.", field="trackIds")


async def remove_tracks(
    engine: GraphEngine, viewer: Viewer, collection_id: str, track_ids: Sequence[str]
) -> Change:
    """Take tracks out; ids that are not in the collection are ignored."""
    ids.require_id(collection_id, "Collection")
    params = {
        "id": collection_id,
        "track_ids": _track_ids(track_ids),
        "now": now_ms(),
    } | _viewer_params(viewer)
    rows = await engine.write("remove_from_collection", q.REMOVE_TRACKS_QUERY, params)
    if not rows:
        raise await _refused(engine, viewer, collection_id)
    return _change(rows)


async def move_track(
    engine: GraphEngine, viewer: Viewer, collection_id: str, track_id: str, position: int
) -> Change:
    """Move a track of the collection to a 0-based `position` (the end when past it)."""
    ids.require_id(collection_id, "Collection")
    ids.require_id(track_id, "Track", "trackId")
    params = {
        "id": collection_id,
        "track_id": track_id,
        "position": _position(position),
        "now": now_ms(),
    } | _viewer_params(viewer)
    rows = await engine.write("move_in_collection", q.MOVE_TRACK_QUERY, params)
    if not rows:
        absent = NotFoundError(f"Track {track_id} is not in this collection.", field="trackId")
        raise await _refused(engine, viewer, collection_id, absent)
    return _change(rows)
