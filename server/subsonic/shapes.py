"""Our GraphQL objects in Subsonic's shapes (Child, AlbumID3, ArtistID3, Playlist).

Ids are ours (`trk_…`, `alb_…`, `art_…`, `col_…`); cover art is asked for by the album's
id, or the track's when it has no album.
"""

from datetime import UTC, datetime
from typing import Any

from server.streaming import MEDIA_TYPES

TRACK_FIELDS = (
    "id title duration year trackNumber discNumber format fileSize createdAt "
    "artists { id name } album { id title artist { id name } } genres { name }"
)
ALBUM_FIELDS = "id title year createdAt artist { id name }"
IGNORED_ARTICLES = "The El La Los Las Le Les"


def created(value: Any) -> str | None:
    """Subsonic's ISO 8601 timestamps from our DateTime strings or epoch milliseconds."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def song(track: dict[str, Any]) -> dict[str, Any]:
    album = track.get("album") or {}
    artists = track.get("artists") or []
    genres = track.get("genres") or []
    suffix = str(track.get("format") or "").lower()
    duration = track.get("duration")
    return {
        "id": track["id"],
        "parent": album.get("id"),
        "isDir": False,
        "title": track["title"],
        "album": album.get("title"),
        "artist": ", ".join(a["name"] for a in artists) or None,
        "track": track.get("trackNumber"),
        "discNumber": track.get("discNumber"),
        "year": track.get("year"),
        "genre": genres[0]["name"] if genres else None,
        "genres": [{"name": g["name"]} for g in genres],
        "coverArt": album.get("id") or track["id"],
        "size": track.get("fileSize"),
        "contentType": MEDIA_TYPES.get(suffix),
        "suffix": suffix or None,
        "duration": round(duration) if duration else None,
        "albumId": album.get("id"),
        "artistId": artists[0]["id"] if artists else None,
        "artists": [{"id": a["id"], "name": a["name"]} for a in artists],
        "type": "music",
        "mediaType": "song",
        "isVideo": False,
        "created": created(track.get("createdAt")),
    }


def album(node: dict[str, Any], tracks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    artist = node.get("artist") or {}
    shape: dict[str, Any] = {
        "id": node["id"],
        "name": node["title"],
        "title": node["title"],
        "album": node["title"],
        "isDir": True,
        "parent": artist.get("id"),
        "artist": artist.get("name"),
        "artistId": artist.get("id"),
        "coverArt": node["id"],
        "year": node.get("year"),
        "created": created(node.get("createdAt")),
    }
    if tracks is not None:
        shape["songCount"] = len(tracks)
        shape["duration"] = round(sum(t.get("duration") or 0 for t in tracks))
        genres = [g["name"] for t in tracks for g in t.get("genres") or []]
        shape["genre"] = genres[0] if genres else None
        shape["song"] = [song(t) for t in tracks]
    return shape


def artist(node: dict[str, Any], album_count: int | None = None) -> dict[str, Any]:
    return {
        "id": node["id"],
        "name": node["name"],
        "albumCount": album_count if album_count is not None else 0,
        "coverArt": node["id"],
    }


def index_letter(name: str) -> str:
    words = name.split(" ", 1)
    if len(words) == 2 and words[0] in IGNORED_ARTICLES.split():
        name = words[1]
    first = name[:1].upper()
    return first if first.isalpha() else "#"


def playlist(node: dict[str, Any], tracks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    owner = node.get("owner") or {}
    shape: dict[str, Any] = {
        "id": node["id"],
        "name": node["name"],
        "comment": node.get("description"),
        "owner": owner.get("username"),
        "public": node.get("public", False),
        "songCount": node.get("trackCount", 0),
        "duration": 0,
        "created": created(node.get("createdAt")),
        "changed": created(node.get("updatedAt")),
    }
    if tracks is not None:
        shape["duration"] = round(sum(t.get("duration") or 0 for t in tracks))
        shape["entry"] = [song(t) for t in tracks]
    return shape
