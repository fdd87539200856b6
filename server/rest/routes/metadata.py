"""Seed 001's metadata of a track: entries by key and source, one at a time or in a batch,
search, grouping by source, statistics, and tracks without any."""

from typing import Any

from server.rest import shapes
from server.rest.mapping import (
    STATS,
    Call,
    Route,
    field_at,
    id_variable,
    no_body,
    offset_page,
    param,
    tracks_without,
    whole_list,
)
from server.rest.shapes import REF, STR, array, list_of, obj

METADATA_TAG = "Metadata"

ENTRY_BODY = obj({"key": STR, "value": STR, "source": STR}, required=("key", "value"))


ENTRY_LIST = list_of(REF["MetadataEntry"])


SET_METADATA_DOC = (
    "mutation SetMetadata($id: ID!, $entries: [MetadataEntryInput!]!) "
    f"{{ setMetadata(trackId: $id, entries: $entries) {{ {shapes.ENTRY} }} }}"
)


def batch_entries(call: Call) -> list[dict[str, Any]]:
    """A batch body: `{"entries": [{key, value, source}]}` or `{"source", "metadata": {k: v}}`."""
    if call.b("entries") is not None:
        return list(call.b("entries"))
    source = call.b("source", "user")
    metadata = call.b("metadata") or {}
    return [{"key": k, "value": v, "source": source} for k, v in dict(metadata).items()]


def by_source(data: Any, call: Call) -> Any:
    grouped: dict[str, dict[str, str]] = {}
    for entry in shapes.found(data["track"], "track")["metadata"]:
        grouped.setdefault(entry["source"], {})[entry["key"]] = entry["value"]
    return grouped


def first_entry(data: Any, call: Call) -> Any:
    entries = data["setMetadata"]
    return (
        shapes.snake(entries[0])
        if len(entries) == 1
        else shapes.page(shapes.snake(entries), len(entries), len(entries), 0)
    )


def metadata_entry(data: Any, call: Call) -> Any:
    entries = shapes.found(data["track"], "track")["metadata"]
    return shapes.snake(shapes.found(entries[0] if entries else None, "metadata entry"))


# fmt: off
METADATA_ROUTES: tuple[Route, ...] = (
    Route("GET", "/tracks/{id}/metadata", "ListMetadata",
        f"query ListMetadata($id: ID!, $source: String) {{ track(id: $id) {{ "
        f"metadata(source: $source) {{ {shapes.ENTRY} }} }} }}",
        variables=lambda c: {"id": c.id, "source": c.query.get("source")},
        result=lambda d, c: whole_list("metadata")(shapes.found(d["track"], "track"), c),
        summary="A track's metadata", tag=METADATA_TAG, query=(param("source", STR),),
        response=ENTRY_LIST,
    ),
    Route("POST", "/tracks/{id}/metadata", "CreateMetadata",
        SET_METADATA_DOC.replace("SetMetadata(", "CreateMetadata(", 1),
        variables=lambda c: {
            "id": c.id,
            "entries": [
                {"key": c.b("key"), "value": c.b("value"), "source": c.b("source", "user")}
            ],
        },
        result=first_entry, summary="Add a metadata entry", tag=METADATA_TAG, status=201,
        body=ENTRY_BODY,
        response=REF["MetadataEntry"],
    ),
    Route("GET", "/tracks/{id}/metadata/{key}", "GetMetadata",
        f"query GetMetadata($id: ID!, $key: String, $source: String) {{ track(id: $id) {{ "
        f"metadata(key: $key, source: $source) {{ {shapes.ENTRY} }} }} }}",
        variables=lambda c: {"id": c.id, "key": c.path["key"], "source": c.query.get("source")},
        result=metadata_entry, summary="One metadata entry", tag=METADATA_TAG,
        query=(param("source", STR),),
        response=REF["MetadataEntry"],
    ),
    Route("PUT", "/tracks/{id}/metadata/{key}", "PutMetadata",
        SET_METADATA_DOC.replace("SetMetadata(", "PutMetadata(", 1),
        variables=lambda c: {
            "id": c.id,
            "entries": [
                {"key": c.path["key"], "value": c.b("value"), "source": c.b("source", "user")}
            ],
        },
        result=first_entry, summary="Set a metadata entry", tag=METADATA_TAG,
        body=obj({"value": STR, "source": STR}, required=("value",)), response=REF["MetadataEntry"],
    ),
    Route("DELETE", "/tracks/{id}/metadata/{key}", "DeleteMetadata",
        "mutation DeleteMetadata($id: ID!, $key: String!, $source: String) "
        "{ deleteMetadata(trackId: $id, key: $key, source: $source) }",
        variables=lambda c: {"id": c.id, "key": c.path["key"], "source": c.query.get("source")},
        result=no_body, summary="Remove a metadata entry", tag=METADATA_TAG, status=204,
        query=(param("source", STR),),
    ),
    Route("GET", "/metadata/search", "SearchMetadata",
        f"query SearchMetadata($source: String, $key: String, $value: String, $first: Int, "
        f"$offset: Int) {{ metadataSearch(source: $source, key: $key, value: $value, "
        f"first: $first, offset: $offset) {{ total items {{ track {{ {shapes.TRACK} }} "
        f"entry {{ {shapes.ENTRY} }} }} }} }}",
        variables=lambda c: {
            "source": c.query.get("source"),
            "key": c.query.get("key"),
            "value": c.query.get("value"),
            "first": c.limit,
            "offset": c.offset,
        },
        result=offset_page(
            "metadataSearch",
            lambda m: {"track": shapes.track(m["track"]), "entry": shapes.snake(m["entry"])},
        ),
        summary="Metadata entries by source, key or value", tag=METADATA_TAG,
        query=(param("source", STR), param("key", STR), param("value", STR)),
        response=list_of(obj({"track": REF["Track"], "entry": REF["MetadataEntry"]})), listed=True,
    ),
    Route("GET", "/tracks/{id}/metadata-by-source", "MetadataBySource",
        "query MetadataBySource($id: ID!) "
        f"{{ track(id: $id) {{ metadata {{ {shapes.ENTRY} }} }} }}",
        variables=id_variable, result=by_source,
        summary="A track's metadata as {source: {key: value}}", tag=METADATA_TAG,
        response={
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": STR},
        },
    ),
    Route("POST", "/tracks/{id}/metadata-batch", "SetMetadataBatch",
        SET_METADATA_DOC.replace("SetMetadata(", "SetMetadataBatch(", 1),
        variables=lambda c: {"id": c.id, "entries": batch_entries(c)},
        result=lambda d, c: whole_list("setMetadata")(d, c), summary="Set up to 100 entries",
        tag=METADATA_TAG,
        body={
            "type": "object",
            "properties": {
                "entries": array(ENTRY_BODY),
                "source": STR,
                "metadata": {"type": "object", "additionalProperties": STR},
            },
        },
        response=ENTRY_LIST,
    ),
    Route("GET", "/tracks/{id}/metadata-stats", "TrackMetadataStats",
        "query TrackMetadataStats($id: ID!) { metadataStatistics(trackId: $id) { totalEntries "
        "tracksWithMetadata bySource { name count tracks } topKeys { name count } } }",
        variables=id_variable, result=field_at("metadataStatistics"),
        summary="A track's metadata statistics", tag=METADATA_TAG, response=STATS,
    ),
    Route("GET", "/metadata/statistics", "MetadataStatistics",
        "query MetadataStatistics { metadataStatistics { totalEntries tracksWithMetadata "
        "bySource { name count tracks } topKeys { name count } } }",
        variables=lambda c: {}, result=field_at("metadataStatistics"),
        summary="The catalogue's metadata statistics", tag=METADATA_TAG, response=STATS,
    ),
    tracks_without("METADATA", "/tracks/without-metadata", "TracksWithoutMetadata",
        "Tracks without metadata", METADATA_TAG),
)
# fmt: on
