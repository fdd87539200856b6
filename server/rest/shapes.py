"""REST shapes: the GraphQL selections the routes ask for, how their results become the
REST bodies (snake_case keys, the seeds' field names), and the JSON Schemas of both
for the OpenAPI document."""

import re
from typing import Any

from music.errors import NotFoundError
from music.features import FEATURE_NAMES, camel_case
from music.features import FEATURES as FEATURES_TABLE

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(value: Any) -> Any:
    """`value` with every object key in snake_case (GraphQL answers in camelCase)."""
    if isinstance(value, dict):
        return {_CAMEL.sub("_", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def found(value: Any, what: str) -> Any:
    """`value`, or NOT_FOUND when GraphQL answered null."""
    if value is None:
        raise NotFoundError(f"No such {what}.")
    return value


# --- selections ---------------------------------------------------------------------

TRACK = (
    "id title duration year trackNumber discNumber tags format fileSize analysisStatus "
    "createdAt updatedAt artists { id name } album { id title } genres { name }"
)
FEATURES = " ".join(camel_case(name) for name in FEATURE_NAMES)
ENTRY = "source key value updatedAt"
JOB = (
    "id kind status progress message errorCode errorMessage attempts createdAt startedAt "
    "finishedAt updatedAt params result"
)
USER = "id username name email role createdAt updatedAt emailVerified"
AUTH = f"accessToken refreshToken expiresIn user {{ {USER} }}"
QUEUE = "tracks { id title } currentIndex positionMs version updatedAt"
SIMILAR = f"score track {{ {TRACK} }} reasons {{ feature value description }}"
STATS = (
    "trackCount artistCount albumCount genreCount totalDuration "
    "genreDistribution { genre { id name } count } keyDistribution { camelot count } "
    "bpmDistribution { min max count }"
)
MODEL = "version accuracy macroF1 trainTracks testTracks classes createdAt deployed"
MAINTENANCE = "enabled message since"


# --- results ------------------------------------------------------------------------


def track(t: dict[str, Any]) -> dict[str, Any]:
    """A track with the seeds' flat fields (`artist`, `album`, `genre`) beside the full
    relations."""
    artists = t.get("artists") or []
    genres = [g["name"] for g in t.get("genres") or []]
    album = t.get("album")
    return {
        "id": t["id"],
        "title": t["title"],
        "artist": artists[0]["name"] if artists else None,
        "artists": artists,
        "album": album["title"] if album else None,
        "album_id": album["id"] if album else None,
        "genre": genres[0] if genres else None,
        "genres": genres,
        "year": t.get("year"),
        "duration": t.get("duration"),
        "track_number": t.get("trackNumber"),
        "disc_number": t.get("discNumber"),
        "tags": t.get("tags") or [],
        "format": t.get("format"),
        "file_size": t.get("fileSize"),
        "analysis_status": t.get("analysisStatus"),
        "created_at": t.get("createdAt"),
        "updated_at": t.get("updatedAt"),
    }


def similar(s: dict[str, Any]) -> dict[str, Any]:
    return {"score": s["score"], "track": track(s["track"]), "reasons": s["reasons"]}


def page(items: list[Any], total: int | None, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# --- JSON Schemas ---------------------------------------------------------------------


def nullable(kind: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(kind, str):
        return {"type": [kind, "null"]}
    return {"anyOf": [kind, {"type": "null"}]}


def obj(properties: dict[str, Any], required: tuple[str, ...] | None = None) -> dict[str, Any]:
    """An object schema; every property is required unless `required` says otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


STR, INT, NUM, BOOL = ({"type": t} for t in ("string", "integer", "number", "boolean"))
ANY: dict[str, Any] = {}
DATETIME = {"type": "string", "format": "date-time"}
REF = {
    name: {"$ref": f"#/components/schemas/{name}"}
    for name in (
        "Track",
        "AudioFeatures",
        "MetadataEntry",
        "Job",
        "User",
        "AuthTokens",
        "PlayQueue",
        "SimilarTrack",
        "Error",
    )
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Track": obj(
        {
            "id": STR,
            "title": STR,
            "artist": nullable("string"),
            "artists": array(obj({"id": STR, "name": STR})),
            "album": nullable("string"),
            "album_id": nullable("string"),
            "genre": nullable("string"),
            "genres": array(STR),
            "year": nullable("integer"),
            "duration": nullable("number"),
            "track_number": nullable("integer"),
            "disc_number": nullable("integer"),
            "tags": array(STR),
            "format": nullable("string"),
            "file_size": nullable("integer"),
            "analysis_status": nullable("string"),
            "created_at": DATETIME,
            "updated_at": DATETIME,
        }
    ),
    "AudioFeatures": obj(
        {
            f.name: NUM if f.required else nullable(array(NUM) if f.kind == "numbers" else f.kind)
            for f in FEATURES_TABLE
        },
        required=tuple(f.name for f in FEATURES_TABLE if f.required),
    ),
    "MetadataEntry": obj({"source": STR, "key": STR, "value": STR, "updated_at": DATETIME}),
    "Job": obj(
        {
            "id": STR,
            "kind": STR,
            "status": {"type": "string", "enum": ["queued", "running", "completed", "failed"]},
            "progress": NUM,
            "message": nullable("string"),
            "error_code": nullable("string"),
            "error_message": nullable("string"),
            "attempts": INT,
            "created_at": DATETIME,
            "started_at": nullable(DATETIME),
            "finished_at": nullable(DATETIME),
            "updated_at": DATETIME,
            "params": ANY,
            "result": ANY,
        }
    ),
    "User": obj(
        {
            "id": STR,
            "username": STR,
            "name": STR,
            "email": nullable("string"),
            "role": STR,
            "created_at": DATETIME,
            "updated_at": nullable(DATETIME),
            "email_verified": BOOL,
        }
    ),
    "AuthTokens": obj(
        {
            "access_token": STR,
            "refresh_token": STR,
            "expires_in": INT,
            "token_type": {"type": "string", "const": "bearer"},
            "user": {"$ref": "#/components/schemas/User"},
        }
    ),
    "PlayQueue": obj(
        {
            "tracks": array(obj({"id": STR, "title": STR})),
            "current_index": nullable("integer"),
            "position_ms": INT,
            "version": INT,
            "updated_at": nullable(DATETIME),
        }
    ),
    "SimilarTrack": obj(
        {
            "score": NUM,
            "track": {"$ref": "#/components/schemas/Track"},
            "reasons": array(obj({"feature": STR, "value": NUM, "description": STR})),
        }
    ),
    "Error": obj(
        {
            "success": {"type": "boolean", "const": False},
            "error": obj(
                {
                    "code": STR,
                    "message": STR,
                    "details": {"type": "object"},
                    "timestamp": DATETIME,
                    "request_id": STR,
                }
            ),
        }
    ),
}


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    """The schema of a list body: `{items, total, limit, offset}`."""
    return obj(
        {
            "items": array(item),
            "total": nullable("integer"),
            "limit": {"type": "integer", "minimum": 0},
            "offset": {"type": "integer", "minimum": 0},
        }
    )
