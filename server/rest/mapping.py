"""The pieces the route tables are made of: the request as the mappings see it, the
route record, and the mappings, documents and schemas that several tables share."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.rest import shapes
from server.rest.shapes import INT, REF, STR, array, list_of, nullable


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


def param(
    name: str, schema: dict[str, Any], description: str = "", required: bool = False
) -> Param:
    return Param(name, schema, description, required)


def enum_schema(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def connection_page(field_name: str, item: Callable[[Any], Any] = shapes.track) -> Result:
    def result(data: Any, call: Call) -> Any:
        conn = data[field_name]
        return shapes.page(
            [item(e["node"]) for e in conn["edges"]],
            conn.get("totalCount"),
            call.limit,
            call.offset,
        )

    return result


def offset_page(field_name: str, item: Callable[[Any], Any] = shapes.track) -> Result:
    def result(data: Any, call: Call) -> Any:
        got = data[field_name]
        return shapes.page([item(i) for i in got["items"]], got["total"], call.limit, call.offset)

    return result


def whole_list(field_name: str, item: Callable[[Any], Any] = shapes.snake) -> Result:
    """A whole list as a page: the GraphQL field returns it unpaged (small, bounded)."""

    def result(data: Any, call: Call) -> Any:
        items = [item(i) for i in data[field_name]]
        return shapes.page(items, len(items), max(len(items), call.limit), 0)

    return result


def field_at(*path: str, what: str = "track", item: Callable[[Any], Any] = shapes.snake) -> Result:
    def result(data: Any, call: Call) -> Any:
        value = data
        for name in path:
            value = shapes.found(value, what)[name]
        return item(shapes.found(value, what))

    return result


def no_body(data: Any, call: Call) -> None:
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


def range_of(call: Call, low: str, high: str) -> dict[str, Any] | None:
    lo, hi = call.query.get(low), call.query.get(high)
    return None if lo is None and hi is None else {"min": lo, "max": hi}


STRINGS = array(STR)


TRACK_BODY = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 500},
        "artist": nullable("string"),
        "artists": STRINGS,
        "artist_ids": STRINGS,
        "album": nullable("string"),
        "album_id": nullable("string"),
        "genre": nullable("string"),
        "genres": STRINGS,
        # Seed 000: `year: Optional[int] = Field(None, ge=1900, le=2100)`.
        "year": {"type": ["integer", "null"], "minimum": 1900, "maximum": 2100},
        "duration": nullable("number"),
        "track_number": nullable("integer"),
        "disc_number": nullable("integer"),
        "tags": STRINGS,
    },
}


PAGE = (
    param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    param("offset", {"type": "integer", "minimum": 0, "maximum": 10_000, "default": 0}),
)


TRACK_LIST = list_of(REF["Track"])


SIMILAR_LIST = list_of(REF["SimilarTrack"])


STATS = {"type": "object"}


TRACK_FILTERS = (
    param("sort", enum_schema("title", "created_at", "year", "duration")),
    param("order", enum_schema("asc", "desc")),
    param("genre", STR, "Tracks in this genre (case-insensitive)."),
    param("artist_id", STR),
    param("album_id", STR),
    param("year_min", INT),
    param("year_max", INT),
    param("q", STR, "A case-insensitive substring of the title."),
)


def track_filter(call: Call) -> dict[str, Any]:
    query = call.query
    year = range_of(call, "year_min", "year_max")
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


TRACKS_DOC = (
    "query ListTracks($first: Int, $after: String, $filter: TrackFilter, $sort: TrackSort) "
    f"{{ tracks(first: $first, after: $after, filter: $filter, sort: $sort) "
    "{ totalCount pageInfo { hasNextPage endCursor } "
    f"edges {{ node {{ {shapes.TRACK} }} }} }} }}"
)


TRACK_DOC = f"query GetTrack($id: ID!) {{ track(id: $id) {{ {shapes.TRACK} }} }}"


UPDATE_TRACK_DOC = (
    "mutation UpdateTrack($id: ID!, $input: UpdateTrackInput!) "
    f"{{ updateTrack(id: $id, input: $input) {{ {shapes.TRACK} }} }}"
)


DELETE_TRACK_DOC = "mutation DeleteTrack($id: ID!) { deleteTrack(id: $id) { deletedId } }"


def id_variable(call: Call) -> dict[str, Any]:
    return {"id": call.id}


def stats_document(name: str) -> str:
    return (
        f"query {name}($collectionId: ID) {{ collectionStats(collectionId: $collectionId) "
        f"{{ {shapes.STATS} }} }}"
    )


def tracks_without(data: str, path: str, operation: str, summary: str, tag: str) -> Route:
    """GET `path`: the tracks that lack `data` (a `TrackData` value), a listed page."""
    return Route(
        "GET",
        path,
        operation,
        f"query {operation}($first: Int, $offset: Int) {{ tracksWithout(data: {data}, "
        f"first: $first, offset: $offset) {{ total items {{ {shapes.TRACK} }} }} }}",
        variables=lambda c: {"first": c.limit, "offset": c.offset},
        result=offset_page("tracksWithout"),
        summary=summary,
        tag=tag,
        response=TRACK_LIST,
        listed=True,
    )
