"""Seed 000's media and search routes, in its shapes: `/media` pages of 50 up to 500
filtered by genre, artist and format (newest first), an upload answering the
MediaResponse, `DELETE /media/{id}` with a message, `/search` as `{query, results, total,
took_ms}` and `/search/suggest` as `{suggestions}`."""

import time
from typing import Any

import orjson

from server.rest import shapes
from server.rest.mapping import (
    DELETE_TRACK_DOC,
    TRACK_BODY,
    TRACK_DOC,
    TRACK_FILTERS,
    TRACK_LIST,
    TRACKS_DOC,
    UPDATE_TRACK_DOC,
    Call,
    Route,
    connection_page,
    enum_schema,
    field_at,
    id_variable,
    param,
    track_filter,
    track_input,
)
from server.rest.shapes import BOOL, NUM, REF, STR, array, nullable, obj

MEDIA_TAG, SEARCH_TAG = "Media", "Library and listening"
# Seed 000: `limit: int = Query(50, le=500)`, `offset: int = Query(0, ge=0)`.
SEED_PAGE = (
    param("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
    param("offset", {"type": "integer", "minimum": 0, "maximum": 10_000, "default": 0}),
)
MEDIA_FILTERS = (
    *(p for p in TRACK_FILTERS if p.name not in ("sort", "order")),
    param(
        "sort", {**enum_schema("title", "created_at", "year", "duration"), "default": "created_at"}
    ),
    param("order", {**enum_schema("asc", "desc"), "default": "desc"}),
    param("artist", STR, "Tracks by this artist (by name, case-insensitive)."),
    param("format", STR, "Tracks in this audio format (mp3, flac, wav, ...)."),
    *SEED_PAGE,
)


def media_filter(call: Call) -> dict[str, Any]:
    found = track_filter(call)
    extra = {"artist": call.query.get("artist"), "format": call.query.get("format")}
    found["filter"].update({k: v for k, v in extra.items() if v is not None})
    return found


def deleted_message(data: Any, call: Call) -> dict[str, Any]:
    shapes.found(data["deleteTrack"], "media")
    return {"message": "Media deleted successfully", "id": call.id}


def search_variables(call: Call) -> dict[str, Any]:
    call.started = time.perf_counter()
    return {
        "query": call.query.get("q"),
        "first": call.limit,
        "offset": call.offset,
        "mode": str(call.query.get("mode") or "hybrid").upper(),
        "types": [str(f).upper() for f in call.query.get("fields") or []] or None,
    }


def search_result(data: Any, call: Call) -> dict[str, Any]:
    """Seed 000's SearchResponse; `total` is every page's hits, counted up to 10,000."""
    results = search_hits(data, call)["items"]
    return {
        "query": call.query.get("q"),
        "results": results,
        "total": data["searchTotal"],
        "limit": call.limit,
        "offset": call.offset,
        "took_ms": round((time.perf_counter() - call.started) * 1000, 3),
    }


_SEARCH_FIELDS = {"type": "array", "items": enum_schema("track", "artist", "album")}


def uploaded(data: Any, call: Call) -> Any:
    """Seed 000's MediaResponse (the track's fields), with the track again as `track`, the
    analysis job and whether the content was already there beside them."""
    got = data["uploadTrack"]
    track = shapes.track(got["track"])
    return {
        **track,
        "track": track,
        "job": shapes.snake(got["job"]) if got["job"] else None,
        "duplicate": got["duplicate"],
    }


def upload_metadata(call: Call) -> Any:
    """The optional `metadata` field of an upload: JSON with the seeds' track fields."""
    raw = call.body.get("metadata") if isinstance(call.body, dict) else None
    if not isinstance(raw, str) or not raw:
        return None
    parsed = orjson.loads(raw)
    fields = track_input(Call({}, {}, parsed))
    allowed = (
        "title",
        "artistNames",
        "albumTitle",
        "genres",
        "year",
        "trackNumber",
        "discNumber",
        "tags",
    )
    return {k: v for k, v in fields.items() if k in allowed}


def suggestions(data: Any, call: Call) -> Any:
    items = [
        {"text": i["text"], "type": i["node"]["__typename"].lower(), "id": i["node"]["id"]}
        for i in data["suggest"]
    ]
    return shapes.page(items, len(items), call.limit, 0)


def search_hits(data: Any, call: Call) -> Any:
    items = []
    for hit in data["search"]:
        node = hit["node"]
        kind = node.pop("__typename").lower()
        items.append(
            {
                "type": kind,
                "score": hit["score"],
                "item": shapes.track(node) if kind == "track" else shapes.snake(node),
            }
        )
    return shapes.page(items, len(items), call.limit, 0)


# fmt: off
MEDIA_ROUTES: tuple[Route, ...] = (
    Route("GET", "/media", "ListMedia",
        TRACKS_DOC.replace("ListTracks(", "ListMedia(", 1), variables=media_filter,
        result=connection_page("tracks"), summary="List media (tracks), newest first",
        tag=MEDIA_TAG,
        query=MEDIA_FILTERS, response=TRACK_LIST, page="tracks",
    ),
    Route("GET", "/media/{id}", "GetMedia",
        TRACK_DOC.replace("GetTrack(", "GetMedia(", 1), variables=id_variable,
        result=field_at("track", item=shapes.track), summary="Get a media item", tag=MEDIA_TAG,
        response=REF["Track"],
    ),
    Route("PUT", "/media/{id}", "UpdateMedia",
        UPDATE_TRACK_DOC.replace("UpdateTrack(", "UpdateMedia(", 1),
        variables=lambda c: {"id": c.id, "input": track_input(c)},
        result=field_at("updateTrack", item=shapes.track), summary="Update a media item",
        tag=MEDIA_TAG, body=TRACK_BODY, response=REF["Track"],
    ),
    Route("DELETE", "/media/{id}", "DeleteMedia",
        DELETE_TRACK_DOC.replace("DeleteTrack(", "DeleteMedia(", 1), variables=id_variable,
        result=deleted_message, summary="Delete a media item", tag=MEDIA_TAG,
        response=obj({"message": STR, "id": STR}),
    ),
    Route("GET", "/search", "Search",
        f"query Search($query: String!, $first: Int, $offset: Int, $mode: SearchMode, "
        f"$types: [SearchType!]) {{ search(query: $query, first: $first, offset: $offset, "
        f"mode: $mode, types: $types) {{ score node {{ __typename ... on Track "
        f"{{ {shapes.TRACK} }} ... on Artist {{ id name }} "
        f"... on Album {{ id title year }} }} }} "
        f"searchTotal(query: $query, mode: $mode, types: $types) }}",
        variables=search_variables, result=search_result,
        summary="Hybrid search: full text fused with audio similarity", tag=SEARCH_TAG,
        query=(
            param("q", {"type": "string", "minLength": 1}, required=True),
            param("fields", _SEARCH_FIELDS, "Which kinds to search (default: all)."),
            param("mode", enum_schema("hybrid", "text")),
            param("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
            param("offset", {"type": "integer", "minimum": 0, "maximum": 1_000, "default": 0}),
        ),
        response=obj(
            {
                "query": STR,
                "results": array(obj({"type": STR, "score": NUM, "item": {"type": "object"}})),
                "total": {"type": "integer"},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "took_ms": NUM,
            }
        ),
    ),
    Route("GET", "/search/suggest", "Suggest",
        "query Suggest($prefix: String!, $field: SuggestField, $first: Int) { suggest("
        "prefix: $prefix, field: $field, first: $first) { text node { __typename "
        "... on Track { id } ... on Artist { id } ... on Album { id } } } }",
        variables=lambda c: {
            "prefix": c.query.get("q"),
            "field": str(c.query.get("field") or "title").upper(),
            "first": c.query.get("limit", 10),
        },
        result=lambda d, c: {"suggestions": suggestions(d, c)["items"]},
        summary="Autocomplete titles and names", tag=SEARCH_TAG,
        query=(
            param("q", {"type": "string", "minLength": 2}, required=True),
            param("field", enum_schema("title", "artist", "album")),
            param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
        ),
        response=obj({"suggestions": array(obj({"text": STR, "type": STR, "id": STR}))}),
    ),
    Route("POST", "/media/upload", "UploadMedia",
        f"mutation UploadMedia($file: Upload!, $metadata: TrackMetadataInput) {{ uploadTrack("
        f"file: $file, metadata: $metadata) {{ duplicate track {{ {shapes.TRACK} }} "
        f"job {{ {shapes.JOB} }} }} }}",
        variables=lambda c: {"file": c.files["file"][0], "metadata": upload_metadata(c)},
        result=uploaded, summary="Upload an audio file (multipart, with optional `metadata` JSON)",
        tag=MEDIA_TAG, status=201, multipart=True,
        body={
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}, "metadata": STR},
            "required": ["file"],
        },
        response={
            "allOf": [
                REF["Track"],
                obj({"track": REF["Track"], "job": nullable(REF["Job"]), "duplicate": BOOL}),
            ]
        },
    ),
)
# fmt: on
