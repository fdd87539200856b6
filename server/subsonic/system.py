"""System endpoints, search3 and the media endpoints (stream, download)."""

from typing import Any

from starlette.responses import Response

from server.artwork import Artwork, parse_size
from server.streaming import StreamError
from server.subsonic import shapes
from server.subsonic.app import Call
from server.subsonic.browsing import ALBUMS_DOC, ARTISTS_DOC, TRACKS_DOC, walk
from server.subsonic.responses import (
    GENERIC,
    MISSING_PARAMETER,
    NOT_AUTHORIZED,
    NOT_FOUND,
    SubsonicError,
)

MUSIC_FOLDER = {"id": 1, "name": "Music"}
# Extensions announced by getOpenSubsonicExtensions, each with the versions served.
EXTENSIONS = {
    "apiKeyAuthentication": [1],
    "formPost": [1],
    "indexBasedQueue": [1],
    "transcodeOffset": [1],
    "sonicSimilarity": [1],
}
SEARCH_DOC = (
    "query SubsonicSearch($query: String!, $first: Int!, $types: [SearchType!]) {"
    " search(query: $query, first: $first, types: $types) { node {"
    " __typename"
    f" ... on Track {{ {shapes.TRACK_FIELDS} }}"
    " ... on Album { id title year createdAt artist { id name } }"
    " ... on Artist { id name } } } }"
)


async def ping(_: Call) -> None:
    return None


async def get_license(_: Call) -> dict[str, Any]:
    return {"license": {"valid": True, "email": "", "licenseExpires": None}}


async def get_extensions(_: Call) -> dict[str, Any]:
    return {
        "openSubsonicExtensions": [
            {"name": name, "versions": versions} for name, versions in EXTENSIONS.items()
        ]
    }


async def get_music_folders(_: Call) -> dict[str, Any]:
    return {"musicFolders": {"musicFolder": [MUSIC_FOLDER]}}


async def _search_type(call: Call, query: str, kind: str, count: int, offset: int) -> list[Any]:
    if count == 0:
        return []
    data = await call.graphql(
        SEARCH_DOC, {"query": query, "first": min(100, offset + count), "types": [kind]}
    )
    return [hit["node"] for hit in data["search"]][offset : offset + count]


async def search3(call: Call) -> dict[str, Any]:
    """Full-text search; an empty query (`""` as clients send it) lists the library."""
    query = (call.get("query") or "").strip().strip('"').strip()
    counts = {k: call.integer(f"{k}Count", 20, 0, 500) for k in ("artist", "album", "song")}
    offsets = {k: call.integer(f"{k}Offset", 0, 0, 10_000) for k in ("artist", "album", "song")}
    if query:
        artists = await _search_type(call, query, "ARTIST", counts["artist"], offsets["artist"])
        albums = await _search_type(call, query, "ALBUM", counts["album"], offsets["album"])
        songs = await _search_type(call, query, "TRACK", counts["song"], offsets["song"])
    else:

        async def listed(doc: str, field: str, kind: str) -> list[Any]:
            if counts[kind] == 0:
                return []
            rows = await walk(call, doc, field, {}, offsets[kind] + counts[kind])
            return rows[offsets[kind] :]

        artists = await listed(ARTISTS_DOC, "artists", "artist")
        albums = await listed(ALBUMS_DOC, "albums", "album")
        songs = await listed(TRACKS_DOC, "tracks", "song")
    return {
        "searchResult3": {
            "artist": [shapes.artist(a) for a in artists],
            "album": [shapes.album(a) for a in albums],
            "song": [shapes.song(t) for t in songs],
        }
    }


def _stream_error(e: StreamError) -> SubsonicError:
    if e.code == "NOT_FOUND":
        return SubsonicError(NOT_FOUND, e.message)
    if e.code in ("UNAUTHENTICATED", "FORBIDDEN"):
        return SubsonicError(NOT_AUTHORIZED, e.message)
    return SubsonicError(GENERIC, e.message)


def _number(call: Call, name: str) -> float | None:
    raw = call.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SubsonicError(MISSING_PARAMETER, f"Parameter {name} is not a number.") from None
    if not 0 <= value < 1e7:
        raise SubsonicError(MISSING_PARAMETER, f"Parameter {name} is out of range.")
    return value


def _require_read(call: Call) -> None:
    if "read:media" not in call.principal.permissions:
        raise SubsonicError(NOT_AUTHORIZED, "You may not stream.")


async def stream(call: Call) -> Response:
    """The file, or a transcode when `format` is opus, mp3 or aac (`raw`: the file)."""
    _require_read(call)
    fmt = call.get("format")
    if fmt is not None and fmt.lower() not in ("raw", "opus", "mp3", "aac", ""):
        raise SubsonicError(GENERIC, "format is one of raw, opus, mp3 or aac.")
    max_bit_rate = _number(call, "maxBitRate")
    if fmt is None and max_bit_rate:
        fmt = "opus"  # a capped bit rate with no format asked for: our best codec
    try:
        return await call.streaming.respond(
            call.request, call.required("id"), fmt, max_bit_rate, _number(call, "timeOffset")
        )
    except StreamError as e:
        raise _stream_error(e) from None


async def download(call: Call) -> Response:
    _require_read(call)
    try:
        return await call.streaming.respond(call.request, call.required("id"), "raw")
    except StreamError as e:
        raise _stream_error(e) from None


HANDLERS = {
    "ping": ping,
    "getLicense": get_license,
    "getOpenSubsonicExtensions": get_extensions,
    "getMusicFolders": get_music_folders,
    "search3": search3,
    "stream": stream,
    "download": download,
}


async def get_cover_art(call: Call) -> Response:
    _require_read(call)
    size = parse_size(call.get("size"))
    if size == -1:
        raise SubsonicError(GENERIC, "size is 16 to 2048.")
    response = await Artwork(call.streaming).respond(call.request, call.required("id"), size)
    if response is None:
        raise SubsonicError(NOT_FOUND, "Cover art not found.")
    return response


HANDLERS["getCoverArt"] = get_cover_art
