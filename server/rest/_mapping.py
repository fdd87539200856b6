"""The pieces the route table is made of: the request as the mappings see it, the
route record, and the mappings and schemas that several routes share."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from music.errors import ValidationError
from music.features import FEATURE_BOUNDS
from music.keys import MODES, PITCH_CLASSES
from server.rest import shapes as s
from server.rest.shapes import INT, NUM, REF, STR, array, list_of, nullable, obj


@dataclass
class Call:
    """One REST request, as the mappings see it: path parameters, coerced query
    parameters, the JSON body (or multipart fields and files), and the page asked for."""

    path: dict[str, str]
    query: dict[str, Any]
    body: Any = None
    files: dict[str, list[Any]] = field(default_factory=dict)
    limit: int = 20
    offset: int = 0
    # The credential of `Authorization: Bearer` (seeds 000 and 004 refresh with it).
    bearer: str | None = None
    # When the route started its work (routes that report `took_ms`).
    started: float = 0.0

    @property
    def id(self) -> str:
        return self.path["id"]

    def b(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default) if isinstance(self.body, dict) else default


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


Variables = Callable[[Call], dict[str, Any]]
Result = Callable[[Any, Call], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation: str
    document: str
    variables: Variables
    result: Result
    summary: str
    tag: str
    status: int = 200
    query: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    multipart: bool = False
    response: dict[str, Any] | None = None
    # For lists over a cursor connection: the root field, walked to reach `offset`.
    page: str | None = None
    # Lists take `limit` and `offset`.
    listed: bool = False
    # Seed 002's routes answer `{success: true, data, timestamp}`.
    envelope: bool = False
    # The permission the OpenAPI document shows, when the document's fields do not say
    # it (`me` is public to GraphQL, but GET /users/me needs a signed-in caller).
    permission: str | None = None


def q(name: str, schema: dict[str, Any], description: str = "", required: bool = False) -> Param:
    return Param(name, schema, description, required)


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _connection(field_name: str, item: Callable[[Any], Any] = s.track) -> Result:
    def result(data: Any, call: Call) -> Any:
        conn = data[field_name]
        return s.page(
            [item(e["node"]) for e in conn["edges"]],
            conn.get("totalCount"),
            call.limit,
            call.offset,
        )

    return result


def _offset_page(field_name: str, item: Callable[[Any], Any] = s.track) -> Result:
    def result(data: Any, call: Call) -> Any:
        got = data[field_name]
        return s.page([item(i) for i in got["items"]], got["total"], call.limit, call.offset)

    return result


def _all(field_name: str, item: Callable[[Any], Any] = s.snake) -> Result:
    """A whole list as a page: the GraphQL field returns it unpaged (small, bounded)."""

    def result(data: Any, call: Call) -> Any:
        items = [item(i) for i in data[field_name]]
        return s.page(items, len(items), max(len(items), call.limit), 0)

    return result


def _field(*path: str, what: str = "track", item: Callable[[Any], Any] = s.snake) -> Result:
    def result(data: Any, call: Call) -> Any:
        value = data
        for name in path:
            value = s.found(value, what)[name]
        return item(s.found(value, what))

    return result


def _nothing(data: Any, call: Call) -> None:
    return None


def _names(value: Any) -> Any:
    """One name or a list of names, as a list (None stays None: it clears)."""
    return [value] if isinstance(value, str) else value


_TRACK_BODY_FIELDS = {
    "title": "title",
    "year": "year",
    "duration": "duration",
    "track_number": "trackNumber",
    "disc_number": "discNumber",
    "tags": "tags",
    "artist_ids": "artistIds",
    "album_id": "albumId",
    "genres": "genres",
    "artists": "artistNames",
}


def track_input(call: Call) -> dict[str, Any]:
    """The seeds' track fields as CreateTrackInput/UpdateTrackInput: only those given."""
    body = call.body if isinstance(call.body, dict) else {}
    out = {gql: body[rest] for rest, gql in _TRACK_BODY_FIELDS.items() if rest in body}
    if "artist" in body:
        out["artistNames"] = _names(body["artist"])
    if "album" in body:
        out["albumTitle"] = body["album"]
    if "genre" in body:
        out["genres"] = _names(body["genre"])
    return out


def features_input(call: Call) -> dict[str, Any]:
    body = call.body if isinstance(call.body, dict) else {}
    camel = {
        "tempo_confidence": "tempoConfidence",
        "key_confidence": "keyConfidence",
        "spectral_centroid": "spectralCentroid",
        "spectral_rolloff": "spectralRolloff",
        "spectral_bandwidth": "spectralBandwidth",
        "spectral_flatness": "spectralFlatness",
        "zero_crossing_rate": "zeroCrossingRate",
        "onset_rate": "onsetRate",
        "dynamic_range": "dynamicRange",
        "mfcc_mean": "mfccMean",
    }
    out: dict[str, Any] = {
        camel.get(str(k), str(k)): v for k, v in body.items() if k in camel or k in _PLAIN_FEATURES
    }
    if "bpm" in body and "tempo" not in out:
        out["tempo"] = body["bpm"]
    return out


_PLAIN_FEATURES = ("tempo", "key", "mode", "loudness", "lufs", "energy", "danceability")


def _range(call: Call, low: str, high: str) -> dict[str, Any] | None:
    lo, hi = call.query.get(low), call.query.get(high)
    return None if lo is None and hi is None else {"min": lo, "max": hi}


def _entries(call: Call) -> list[dict[str, Any]]:
    """A batch body: `{"entries": [{key, value, source}]}` or `{"source", "metadata": {k: v}}`."""
    if call.b("entries") is not None:
        return list(call.b("entries"))
    source = call.b("source", "user")
    metadata = call.b("metadata") or {}
    return [{"key": k, "value": v, "source": source} for k, v in dict(metadata).items()]


def _embeddings(data: Any, call: Call) -> Any:
    track = s.found(data["track"], "track")
    items = [
        {"type": name, "dimension": len(vector), "vector": vector}
        for name, vector in track.items()
        if vector is not None
    ]
    return s.page(items, len(items), max(len(items), call.limit), 0)


def _embedding(data: Any, call: Call) -> Any:
    vector = s.found(s.found(data.get("track"), "track")["embedding"], "embedding")
    return {"type": call.path["type"], "dimension": len(vector), "vector": vector}


def _written_embedding(data: Any, call: Call) -> Any:
    written = next(iter(data.values()))
    vector = written["embedding"] or []
    return {
        "type": call.path.get("type") or call.b("type"),
        "dimension": len(vector),
        "vector": vector,
    }


def _vector_match(m: dict[str, Any]) -> dict[str, Any]:
    return {"score": m["score"], "track": s.track(m["track"])}


def _by_source(data: Any, call: Call) -> Any:
    grouped: dict[str, dict[str, str]] = {}
    for entry in s.found(data["track"], "track")["metadata"]:
        grouped.setdefault(entry["source"], {})[entry["key"]] = entry["value"]
    return grouped


def _auth(data: Any, call: Call) -> Any:
    payload = next(iter(data.values()))
    return {**s.snake(payload), "token_type": "bearer"}


def _registered(data: Any, call: Call) -> Any:
    """Seed 000's register answers the user; the tokens of the new session come beside
    its fields, so a client need not sign in again."""
    tokens = _auth(data, call)
    return {**tokens.pop("user"), **tokens}


REGISTERED = {
    "allOf": [
        REF["User"],
        obj(
            {"access_token": STR, "refresh_token": STR, "token_type": STR, "expires_in": INT},
        ),
    ]
}


def _refresh_token(call: Call) -> dict[str, Any]:
    """The refresh token from the body (seed 000's `refresh_token`) or, as seeds 000 and
    004 also send it, from `Authorization: Bearer`."""
    token = call.b("refresh_token") or call.bearer
    if not token:
        raise ValidationError("'refresh_token' is required.", field="refresh_token")
    return {"token": token}


def _me(data: Any, call: Call) -> Any:
    if data["me"] is None:
        from music.errors import UnauthenticatedError

        raise UnauthenticatedError("Sign in to do this.")
    return s.snake(data["me"])


# PATCH /users/me: one mutation, so that a refused field (a taken name, a wrong current
# password) changes nothing at all.
_UPDATE_ME_DOC = (
    "mutation UpdateMe($profile: UpdateProfileInput!) "
    f"{{ updateProfile(input: $profile) {{ {s.USER} }} }}"
)


def _profile_and_password(call: Call) -> dict[str, Any]:
    """The fields given: username, email, and the password change."""
    return {
        "profile": {
            "username": call.b("username"),
            "email": call.b("email"),
            "currentPassword": call.b("current_password"),
            "newPassword": call.b("new_password"),
        }
    }


def _upload(data: Any, call: Call) -> Any:
    got = data["uploadTrack"]
    return {
        "track": s.track(got["track"]),
        "job": s.snake(got["job"]) if got["job"] else None,
        "duplicate": got["duplicate"],
    }


def _suggestions(data: Any, call: Call) -> Any:
    items = [
        {"text": i["text"], "type": i["node"]["__typename"].lower(), "id": i["node"]["id"]}
        for i in data["suggest"]
    ]
    return s.page(items, len(items), call.limit, 0)


def _hits(data: Any, call: Call) -> Any:
    items = []
    for hit in data["search"]:
        node = hit["node"]
        kind = node.pop("__typename").lower()
        items.append(
            {
                "type": kind,
                "score": hit["score"],
                "item": s.track(node) if kind == "track" else s.snake(node),
            }
        )
    return s.page(items, len(items), call.limit, 0)


# --- request and response schemas ---------------------------------------------------

_STRS = array(STR)
TRACK_BODY = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 500},
        "artist": nullable("string"),
        "artists": _STRS,
        "artist_ids": _STRS,
        "album": nullable("string"),
        "album_id": nullable("string"),
        "genre": nullable("string"),
        "genres": _STRS,
        # Seed 000: `year: Optional[int] = Field(None, ge=1900, le=2100)`.
        "year": {"type": ["integer", "null"], "minimum": 1900, "maximum": 2100},
        "duration": nullable("number"),
        "track_number": nullable("integer"),
        "disc_number": nullable("integer"),
        "tags": _STRS,
    },
}


def _bounded(bounds: tuple[float, float]) -> dict[str, Any]:
    return {"type": "number", "minimum": bounds[0], "maximum": bounds[1]}


FEATURES_BODY = {
    "type": "object",
    "properties": {
        **{n: _bounded(FEATURE_BOUNDS["tempo"]) for n in ("tempo", "bpm")},
        "key": _enum(*PITCH_CLASSES),
        "mode": _enum(*MODES),
        **{n: _bounded(FEATURE_BOUNDS[n]) for n in ("energy", "danceability")},
        **{n: NUM for n in ("loudness", "lufs", "spectral_centroid", "onset_rate")},
    },
    # `tempo` or its alias `bpm`: the GraphQL input requires the tempo.
    "required": [],
}
ENTRY_BODY = obj({"key": STR, "value": STR, "source": STR}, required=("key", "value"))
VECTOR = array(NUM)
PAGE = (
    q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    q("offset", {"type": "integer", "minimum": 0, "maximum": 10_000, "default": 0}),
)
ENTRY_LIST = list_of(REF["MetadataEntry"])
TRACK_LIST = list_of(REF["Track"])
SIMILAR_LIST = list_of(REF["SimilarTrack"])
EMBEDDING = obj({"type": STR, "dimension": INT, "vector": VECTOR})
STATS = {"type": "object"}
TRACK_FILTERS = (
    q("sort", _enum("title", "created_at", "year", "duration")),
    q("order", _enum("asc", "desc")),
    q("genre", STR, "Tracks in this genre (case-insensitive)."),
    q("artist_id", STR),
    q("album_id", STR),
    q("year_min", INT),
    q("year_max", INT),
    q("q", STR, "A case-insensitive substring of the title."),
)


def _track_filter(call: Call) -> dict[str, Any]:
    query = call.query
    year = _range(call, "year_min", "year_max")
    flt = {
        "genre": query.get("genre"),
        "artistId": query.get("artist_id"),
        "albumId": query.get("album_id"),
        "text": query.get("q"),
        "year": year,
    }
    sort = {
        "field": str(query.get("sort") or "created_at").upper(),
        "direction": str(query.get("order") or "asc").upper(),
    }
    return {"filter": {k: v for k, v in flt.items() if v is not None}, "sort": sort}


_TRACKS_DOC = (
    "query ListTracks($first: Int, $after: String, $filter: TrackFilter, $sort: TrackSort) "
    f"{{ tracks(first: $first, after: $after, filter: $filter, sort: $sort) "
    f"{{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {s.TRACK} }} }} }} }}"
)
_TRACK_DOC = f"query GetTrack($id: ID!) {{ track(id: $id) {{ {s.TRACK} }} }}"
_UPDATE_DOC = (
    "mutation UpdateTrack($id: ID!, $input: UpdateTrackInput!) "
    f"{{ updateTrack(id: $id, input: $input) {{ {s.TRACK} }} }}"
)
_DELETE_DOC = "mutation DeleteTrack($id: ID!) { deleteTrack(id: $id) { deletedId } }"
_JOB_DOC = f"query GetJob($id: ID!) {{ job(id: $id) {{ {s.JOB} }} }}"
_SET_FEATURES_DOC = (
    "mutation SetAudioFeatures($id: ID!, $input: AudioFeaturesInput!) "
    f"{{ setAudioFeatures(trackId: $id, input: $input) {{ audioFeatures {{ {s.FEATURES} }} }} }}"
)
_UPSERT_EMBEDDING_DOC = (
    "mutation UpsertEmbedding($id: ID!, $type: String!, $vector: [Float!]!) "
    "{ upsertEmbedding(trackId: $id, type: $type, vector: $vector) "
    "{ embedding(type: $type) } }"
)
_SET_METADATA_DOC = (
    "mutation SetMetadata($id: ID!, $entries: [MetadataEntryInput!]!) "
    f"{{ setMetadata(trackId: $id, entries: $entries) {{ {s.ENTRY} }} }}"
)
_EMBEDDING_TYPES = ("audio", "clap", "musicnn", "openl3", "text")


def _track_vars(call: Call) -> dict[str, Any]:
    return {"id": call.id}


def _first_entry(data: Any, call: Call) -> Any:
    entries = data["setMetadata"]
    return (
        s.snake(entries[0])
        if len(entries) == 1
        else s.page(s.snake(entries), len(entries), len(entries), 0)
    )


def _metadata_entry(data: Any, call: Call) -> Any:
    entries = s.found(data["track"], "track")["metadata"]
    return s.snake(s.found(entries[0] if entries else None, "metadata entry"))


def _artist(a: dict[str, Any]) -> Any:
    return s.snake(a)


def _album(a: dict[str, Any]) -> dict[str, Any]:
    return {
        **s.snake({k: v for k, v in a.items() if k != "artist"}),
        "artist": a["artist"]["name"] if a.get("artist") else None,
        "artist_id": a["artist"]["id"] if a.get("artist") else None,
    }


def _job(data: Any, call: Call) -> Any:
    return s.snake(next(iter(data.values())))


def _recommendation_input(c: Call) -> dict[str, Any]:
    return {
        "input": {
            "seedTrackIds": c.query.get("track_id"),
            "seedArtistIds": c.query.get("artist_id"),
            "seedGenres": c.query.get("genre"),
            "first": c.limit,
            "excludePlayed": c.query.get("exclude_played", False),
        }
    }


_JOB_ROUTE_BODY = obj({"path": STR, "webhook_url": STR}, required=("path",))


def _stats_doc(name: str) -> str:
    return (
        f"query {name}($collectionId: ID) {{ collectionStats(collectionId: $collectionId) "
        f"{{ {s.STATS} }} }}"
    )


_PAIR = array(STR)


def _upload_metadata(call: Call) -> Any:
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
