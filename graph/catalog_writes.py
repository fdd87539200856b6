"""Catalogue writes: validate, resolve references, then one query per transaction.

Inputs arrive as dicts with snake_case keys (as the GraphQL layer passes them); a key
that is absent was not given, a key whose value is None clears that field.
"""

import time
from collections.abc import Mapping, Sequence
from typing import Any

from graph import counts, ids, sort_keys
from graph.engine import GraphEngine, Row
from graph.names import album_key, name_key
from graph.queries import catalog as rq
from graph.queries import catalog_writes as q
from music.errors import ConflictError, NotFoundError, ValidationError
from music.text import check_text

MAX_TITLE = 500
MAX_NAMES = 20
MAX_TAGS = 50
MAX_TAG = 100
IMPORT_BATCH = 500
MAX_IMPORT = 5000
KEY_SEP = "\x1f"
_NEW_TRACK_PROPS = frozenset(q.NEW_TRACK_PROPS)


def now_ms() -> int:
    return int(time.time() * 1000)


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"'{field}' must not be empty.", field=field)
    text = check_text(value.strip(), field)
    if len(text) > MAX_TITLE:
        raise ValidationError(f"'{field}' must be at most {MAX_TITLE} characters.", field=field)
    return text


def _names(values: Any, field: str) -> list[str]:
    if values is None:
        return []
    if len(values) > MAX_NAMES:
        raise ValidationError(f"'{field}' takes at most {MAX_NAMES} names.", field=field)
    return [_text(v, field) for v in values]


def _year(value: Any, field: str = "year") -> int | None:
    if value is not None and not 0 < value < 10000:
        raise ValidationError(f"'{field}' must be between 1 and 9999.", field=field)
    return value  # type: ignore[no-any-return]


def _scalars(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the plain track fields present in `data`."""
    props: dict[str, Any] = {}
    if "title" in data:
        props["title"] = _text(data["title"], "title")
    if "year" in data:
        props["year"] = _year(data["year"])
    if "duration" in data:
        duration = data["duration"]
        if duration is not None and not 0 <= duration <= 86400 * 7:
            raise ValidationError(
                "'duration' must be between 0 and 604800 seconds.", field="duration"
            )
        props["duration"] = float(duration) if duration is not None else None
    for field in ("track_number", "disc_number"):
        if field in data:
            number = data[field]
            if number is not None and not 0 < number < 10000:
                raise ValidationError(f"'{field}' must be between 1 and 9999.", field=field)
            props[field] = number
    if "tags" in data:
        tags = data["tags"]
        if tags is not None:
            if len(tags) > MAX_TAGS:
                raise ValidationError(f"'tags' takes at most {MAX_TAGS} tags.", field="tags")
            tags = list(dict.fromkeys(check_text(t.strip(), "tags") for t in tags if t.strip()))
            if any(len(t) > MAX_TAG for t in tags):
                raise ValidationError(f"a tag must be at most {MAX_TAG} characters.", field="tags")
        props["tags"] = tags
    return props


def _artist_ref(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": row["key"], "name": row["name"], "id": row["id"]} | sort_keys.name_keys(
        row["name"]
    )


def _new_artist_ref(name: str) -> dict[str, Any]:
    ref = {"key": name_key(name), "name": name, "id": ids.new_id("Artist")}
    return ref | sort_keys.name_keys(name)


def _genre_ref(name: str) -> dict[str, Any]:
    return {"key": name_key(name), "name": name, "id": ids.new_id("Genre")}


async def _artists_by_id(engine: GraphEngine, artist_ids: Sequence[str]) -> dict[str, Row]:
    if not artist_ids:
        return {}
    rows = await engine.read("artist_keys", q.ARTIST_KEYS_QUERY, {"ids": list(set(artist_ids))})
    found = {row["id"]: row for row in rows}
    missing = [i for i in artist_ids if i not in found]
    if missing:
        raise NotFoundError(f"Artist {missing[0]} does not exist.", field="artistIds")
    return found


async def _albums_by_id(engine: GraphEngine, album_ids: Sequence[str]) -> dict[str, Row]:
    if not album_ids:
        return {}
    rows = await engine.read("album_keys", q.ALBUM_KEYS_QUERY, {"ids": list(set(album_ids))})
    found = {row["id"]: row for row in rows}
    missing = [i for i in album_ids if i not in found]
    if missing:
        raise NotFoundError(f"Album {missing[0]} does not exist.", field="albumId")
    return found


def _distinct(refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`refs` without repeated keys: the first spelling of a name wins, in order."""
    unique: dict[str, dict[str, Any]] = {}
    for ref in refs:
        unique.setdefault(ref["key"], ref)
    return list(unique.values())


def _track_artists(data: Mapping[str, Any], known: Mapping[str, Row]) -> list[dict[str, Any]]:
    refs = [_artist_ref(known[i]) for i in data.get("artist_ids") or []]
    refs += [_new_artist_ref(n) for n in _names(data.get("artist_names"), "artistNames")]
    return [ref | {"position": i} for i, ref in enumerate(_distinct(refs))]


def _track_album(
    data: Mapping[str, Any],
    artists: Sequence[Mapping[str, Any]],
    known: Mapping[str, Row],
    year: int | None,
) -> list[dict[str, Any]]:
    if data.get("album_id") is not None:
        album = known[data["album_id"]]
        artist = [album["artist"]] if album["artist"] else []
        return [
            {
                "key": album["key"],
                "title": album["title"],
                "title_key": album["title_key"],
                "id": album["id"],
                "year": album["year"],
                "artist": artist,
            }
            | sort_keys.name_keys(album["title"])
        ]
    if data.get("album_title") is not None:
        title = _text(data["album_title"], "albumTitle")
        if data.get("album_artist_name"):
            # A compilation's album belongs to its album artist, not its first track's.
            owner = [_new_artist_ref(_text(data["album_artist_name"], "albumArtistName"))]
        else:
            owner = (
                [{k: artists[0][k] for k in ("key", "name", "id", "sort", "sk")}] if artists else []
            )
        return [
            {
                "key": album_key(owner[0]["key"] if owner else None, title),
                "title": title,
                "title_key": name_key(title),
                "id": ids.new_id("Album"),
                "year": year,
                "artist": owner,
            }
            | sort_keys.name_keys(title)
        ]
    return []


def _check_refs(data: Mapping[str, Any]) -> None:
    for i in data.get("artist_ids") or []:
        ids.require_id(i, "Artist", "artistIds")
    if len(data.get("artist_ids") or []) > MAX_NAMES:
        raise ValidationError(f"'artistIds' takes at most {MAX_NAMES} ids.", field="artistIds")
    if data.get("album_id") is not None:
        ids.require_id(data["album_id"], "Album", "albumId")
    if data.get("album_id") is not None and data.get("album_title") is not None:
        raise ValidationError("Give 'albumId' or 'albumTitle', not both.", field="albumId")


def validate_track_input(data: Mapping[str, Any]) -> None:
    """Everything `create_tracks` checks that needs no graph; raises ValidationError."""
    if "title" not in data:
        raise ValidationError("'title' is required.", field="title")
    _check_refs(data)
    _scalars(data)
    _names(data.get("artist_names"), "artistNames")
    _names(data.get("genres"), "genres")
    if data.get("album_title") is not None:
        _text(data["album_title"], "albumTitle")
    if data.get("album_artist_name") is not None:
        _text(data["album_artist_name"], "albumArtistName")


def _genre_keys(genres: list[dict[str, Any]]) -> list[str]:
    """`t.genre_keys`: what a genre-filtered page tests (graph/queries/catalog.py), set
    with the track's other properties whenever its genres are written."""
    return list(dict.fromkeys(g["key"] for g in genres))


def _new_batch(rows: list[dict[str, Any]], now: int) -> dict[str, Any]:
    """`q.create_tracks`'s parameters for `rows`: with the artists, albums and genres
    they name, each once (the first spelling in the batch, as MERGE row by row made)."""
    artists: list[dict[str, Any]] = []
    for row in rows:  # its credits, then its album's owner: the order MERGE met them in
        artists += row["artists"]
        artists += [owner for album in row["album"] for owner in album["artist"]]
    return {
        "rows": rows,
        "now": now,
        "artists": _distinct(artists),
        "albums": _distinct([album for row in rows for album in row["album"]]),
        "genres": _distinct([genre for row in rows for genre in row["genres"]]),
    }


async def create_tracks(engine: GraphEngine, inputs: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Create tracks, merging their artists, albums and genres by name.

    All inputs are validated before anything is written; the writes then go in
    batches of IMPORT_BATCH, one transaction each.
    """
    if len(inputs) > MAX_IMPORT:
        raise ValidationError(f"At most {MAX_IMPORT} tracks per import.", field="input")
    for data in inputs:
        if "title" not in data:
            raise ValidationError("'title' is required.", field="title")
        _check_refs(data)
    artists_known = await _artists_by_id(
        engine, [i for d in inputs for i in d.get("artist_ids") or []]
    )
    albums_known = await _albums_by_id(
        engine, [d["album_id"] for d in inputs if d.get("album_id") is not None]
    )
    now = now_ms()
    rows = []
    for data in inputs:
        props = _scalars(data)
        # Facts about the audio file (uploads and scans); never from a client's input.
        props.update(data.get("file_props") or {})
        artists = _track_artists(data, artists_known)
        track_id = ids.new_id("Track")
        props |= sort_keys.track_keys(track_id, props, now)
        genres = _distinct([_genre_ref(g) for g in _names(data.get("genres"), "genres")])
        props["genre_keys"] = _genre_keys(genres)
        unknown = props.keys() - _NEW_TRACK_PROPS
        if unknown:  # a property the creation query would drop: a defect, not bad input
            raise ValueError(f"create_tracks cannot store {sorted(unknown)}")
        rows.append(
            {
                "id": track_id,
                "now": now,
                "props": {k: v for k, v in props.items() if v is not None},
                "artists": artists,
                "album": _track_album(data, artists, albums_known, props.get("year")),
                "genres": genres,
            }
        )
    batches = [
        _new_batch(rows[i : i + IMPORT_BATCH], now) for i in range(0, len(rows), IMPORT_BATCH)
    ]
    result = await engine.write_batches("create_tracks", q.create_tracks(engine.dialect), batches)
    counts.forget()
    return [row["row"] for row in result]


async def update_track(engine: GraphEngine, track_id: str, data: Mapping[str, Any]) -> Row:
    """Change the given fields of a track; relations given are replaced as a whole."""
    ids.require_id(track_id, "Track")
    if "title" in data and data["title"] is None:
        raise ValidationError("'title' must not be empty.", field="title")
    _check_refs(data)
    props = _scalars(data)
    props |= sort_keys.track_keys(track_id, props, None)
    replace_artists = "artist_ids" in data or "artist_names" in data
    replace_album = "album_id" in data or "album_title" in data
    artists_known = await _artists_by_id(engine, data.get("artist_ids") or [])
    albums_known = await _albums_by_id(
        engine, [data["album_id"]] if data.get("album_id") is not None else []
    )
    artists = _track_artists(data, artists_known) if replace_artists else []
    album: list[dict[str, Any]] = []
    if replace_album:
        owners = artists
        if not replace_artists and data.get("album_title") is not None:
            rows = await engine.read(
                "artists_by_track", rq.ARTISTS_BY_TRACK_QUERY, {"ids": [track_id]}
            )
            owners = [_new_artist_ref(r["row"]["name"]) for r in rows]
        album = _track_album(data, owners, albums_known, props.get("year"))
    genres = [_genre_ref(g) for g in _names(data.get("genres"), "genres")]
    if "genres" in data:  # replaced as a whole: the track's keys are these
        props["genre_keys"] = _genre_keys(genres)
    now = now_ms()
    params = {
        "id": track_id,
        "now": now,
        "props": props,
        "replace_artists": replace_artists,
        "replace_album": replace_album,
        "replace_genres": "genres" in data,
        "row": {"now": now, "artists": artists, "album": album, "genres": genres},
    }
    rows = await engine.write("update_track", q.UPDATE_TRACK_QUERY, params)
    counts.forget()
    if not rows:
        raise NotFoundError(f"Track {track_id} does not exist.")
    return rows[0]["row"]  # type: ignore[no-any-return]


async def delete_track(engine: GraphEngine, track_id: str) -> str:
    ids.require_id(track_id, "Track")
    rows = await engine.write("delete_track", q.DELETE_TRACK_QUERY, {"id": track_id})
    counts.forget()
    if not rows:
        raise NotFoundError(f"Track {track_id} does not exist.")
    return track_id


async def create_artist(engine: GraphEngine, name: str) -> Row:
    """Create an artist, or return the one that already has this name."""
    name = _text(name, "name")
    params = {"key": name_key(name), "id": ids.new_id("Artist"), "name": name, "now": now_ms()}
    params |= sort_keys.name_keys(name)
    rows = await engine.write("merge_artist", q.MERGE_ARTIST_QUERY, params)
    counts.forget()
    return rows[0]["row"]  # type: ignore[no-any-return]


async def update_artist(engine: GraphEngine, artist_id: str, name: str) -> Row:
    """Rename an artist; renaming onto another artist's name is a CONFLICT."""
    ids.require_id(artist_id, "Artist")
    name = _text(name, "name")
    params = {"id": artist_id, "name": name, "key": name_key(name), "now": now_ms(), "sep": KEY_SEP}
    params |= sort_keys.name_keys(name)
    rows = await engine.write("rename_artist", q.RENAME_ARTIST_QUERY, params)
    counts.forget()
    if not rows:
        raise NotFoundError(f"Artist {artist_id} does not exist.")
    return rows[0]["row"]  # type: ignore[no-any-return]


async def _delete_holder(
    engine: GraphEngine, label: str, node_id: str, cascade: bool, holdings: str, delete: str
) -> int:
    ids.require_id(node_id, label)
    found = await engine.read(f"{label.lower()}_holdings", holdings, {"id": node_id})
    if not found:
        raise NotFoundError(f"{label} {node_id} does not exist.")
    if found[0]["tracks"] and not cascade:
        raise ConflictError(
            f"{label} {node_id} still has {found[0]['tracks']} tracks; "
            "delete them first or pass cascade: true.",
            tracks=found[0]["tracks"],
        )
    rows = await engine.write(
        f"delete_{label.lower()}", delete, {"id": node_id, "cascade": cascade}
    )
    counts.forget()
    if not rows:
        # Tracks were added between the check and the delete, or it is already gone.
        raise ConflictError(f"{label} {node_id} changed while being deleted; try again.")
    return int(rows[0]["removed"])


async def delete_artist(engine: GraphEngine, artist_id: str, cascade: bool = False) -> int:
    """Delete an artist; with cascade, also its tracks and albums. Returns tracks removed."""
    return await _delete_holder(
        engine, "Artist", artist_id, cascade, q.ARTIST_HOLDINGS_QUERY, q.DELETE_ARTIST_QUERY
    )


async def delete_album(engine: GraphEngine, album_id: str, cascade: bool = False) -> int:
    """Delete an album; with cascade, also its tracks. Returns tracks removed."""
    return await _delete_holder(
        engine, "Album", album_id, cascade, q.ALBUM_HOLDINGS_QUERY, q.DELETE_ALBUM_QUERY
    )


async def _album_owner(engine: GraphEngine, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    if data.get("artist_id") is not None:
        ids.require_id(data["artist_id"], "Artist", "artistId")
        known = await _artists_by_id(engine, [data["artist_id"]])
        return [_artist_ref(known[data["artist_id"]])]
    if data.get("artist_name") is not None:
        return [_new_artist_ref(_text(data["artist_name"], "artistName"))]
    return []


async def create_album(engine: GraphEngine, data: Mapping[str, Any]) -> Row:
    """Create an album, or return the one with this title by the same artist."""
    title = _text(data.get("title"), "title")
    year = _year(data.get("year"))
    owner = await _album_owner(engine, data)
    params = {
        "key": album_key(owner[0]["key"] if owner else None, title),
        "id": ids.new_id("Album"),
        "title": title,
        "title_key": name_key(title),
        "year": year,
        "artist": owner,
        "now": now_ms(),
    } | sort_keys.name_keys(title)
    rows = await engine.write("create_album", q.CREATE_ALBUM_QUERY, params)
    counts.forget()
    return rows[0]["row"]  # type: ignore[no-any-return]


async def update_album(engine: GraphEngine, album_id: str, data: Mapping[str, Any]) -> Row:
    ids.require_id(album_id, "Album")
    props: dict[str, Any] = {}
    if "title" in data:
        props["title"] = _text(data["title"], "title")
        props["title_key"] = name_key(props["title"])
        names = sort_keys.name_keys(props["title"])
        props["title_sort"], props["sk_title"] = names["sort"], names["sk"]
    if "year" in data:
        props["year"] = _year(data["year"])
    replace_artist = "artist_id" in data or "artist_name" in data
    owner = await _album_owner(engine, data) if replace_artist else []
    params = {
        "id": album_id,
        "props": props,
        "now": now_ms(),
        "replace_artist": replace_artist,
        "artist": owner,
        "sep": KEY_SEP,
    }
    rows = await engine.write("update_album", q.UPDATE_ALBUM_QUERY, params)
    counts.forget()
    if not rows:
        raise NotFoundError(f"Album {album_id} does not exist.")
    return rows[0]["row"]  # type: ignore[no-any-return]
