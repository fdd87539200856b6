"""Seed 001's embeddings of a track: list, read, store, replace and remove by type,
vector search, tracks near a track, statistics, and tracks without one."""

from typing import Any

from server.rest import shapes
from server.rest.mapping import (
    SIMILAR_LIST,
    STATS,
    Call,
    Route,
    enum_schema,
    field_at,
    id_variable,
    no_body,
    tracks_without,
    whole_list,
)
from server.rest.shapes import INT, NUM, REF, STR, array, list_of, obj

EMBEDDINGS_TAG = "Embeddings"

EMBEDDING_TYPES = ("audio", "clap", "musicnn", "openl3", "text")


VECTOR = array(NUM)


EMBEDDING = obj({"type": STR, "dimension": INT, "vector": VECTOR})


UPSERT_EMBEDDING_DOC = (
    "mutation UpsertEmbedding($id: ID!, $type: String!, $vector: [Float!]!) "
    "{ upsertEmbedding(trackId: $id, type: $type, vector: $vector) "
    "{ embedding(type: $type) } }"
)


def embeddings_page(data: Any, call: Call) -> Any:
    track = shapes.found(data["track"], "track")
    items = [
        {"type": name, "dimension": len(vector), "vector": vector}
        for name, vector in track.items()
        if vector is not None
    ]
    return shapes.page(items, len(items), max(len(items), call.limit), 0)


def one_embedding(data: Any, call: Call) -> Any:
    vector = shapes.found(shapes.found(data.get("track"), "track")["embedding"], "embedding")
    return {"type": call.path["type"], "dimension": len(vector), "vector": vector}


def written_embedding(data: Any, call: Call) -> Any:
    written = next(iter(data.values()))
    vector = written["embedding"] or []
    return {
        "type": call.path.get("type") or call.b("type"),
        "dimension": len(vector),
        "vector": vector,
    }


def vector_match(m: dict[str, Any]) -> dict[str, Any]:
    return {"score": m["score"], "track": shapes.track(m["track"])}


# fmt: off
EMBEDDING_ROUTES: tuple[Route, ...] = (
    Route("GET", "/tracks/{id}/embeddings", "ListEmbeddings",
        "query ListEmbeddings($id: ID!) { track(id: $id) { "
        + " ".join(f'{t}: embedding(type: "{t}")' for t in EMBEDDING_TYPES)
        + " } }",
        variables=id_variable, result=embeddings_page, summary="A track's embeddings",
        tag=EMBEDDINGS_TAG,
        response=list_of(EMBEDDING),
    ),
    Route("POST", "/tracks/{id}/embeddings", "CreateEmbedding",
        UPSERT_EMBEDDING_DOC.replace("UpsertEmbedding(", "CreateEmbedding(", 1),
        variables=lambda c: {"id": c.id, "type": c.b("type", "audio"), "vector": c.b("vector")},
        result=written_embedding, summary="Store an embedding", tag=EMBEDDINGS_TAG, status=201,
        body=obj({"type": enum_schema(*EMBEDDING_TYPES), "vector": VECTOR}, required=("vector",)),
        response=EMBEDDING,
    ),
    Route("GET", "/tracks/{id}/embeddings/{type}", "GetEmbedding",
        "query GetEmbedding($id: ID!, $type: String!) "
        "{ track(id: $id) { embedding(type: $type) } }",
        variables=lambda c: {"id": c.id, "type": c.path["type"]}, result=one_embedding,
        summary="One embedding", tag=EMBEDDINGS_TAG, response=EMBEDDING,
    ),
    Route("PUT", "/tracks/{id}/embeddings/{type}", "PutEmbedding",
        UPSERT_EMBEDDING_DOC.replace("UpsertEmbedding(", "PutEmbedding(", 1),
        variables=lambda c: {"id": c.id, "type": c.path["type"], "vector": c.b("vector")},
        result=written_embedding, summary="Replace an embedding", tag=EMBEDDINGS_TAG,
        body=obj({"vector": VECTOR}), response=EMBEDDING,
    ),
    Route("DELETE", "/tracks/{id}/embeddings/{type}", "DeleteEmbedding",
        "mutation DeleteEmbedding($id: ID!, $type: String!) "
        "{ deleteEmbedding(trackId: $id, type: $type) { id } }",
        variables=lambda c: {"id": c.id, "type": c.path["type"]}, result=no_body,
        summary="Remove an embedding", tag=EMBEDDINGS_TAG, status=204,
    ),
    Route("POST", "/embeddings/search", "SearchEmbeddings",
        f"query SearchEmbeddings($vector: [Float!]!, $first: Int) {{ searchByVector("
        f"vector: $vector, first: $first) {{ score track {{ {shapes.TRACK} }} }} }}",
        variables=lambda c: {"vector": c.b("vector"), "first": c.b("limit", 10)},
        result=whole_list("searchByVector", vector_match),
        summary="Tracks nearest to a 64-value audio vector", tag=EMBEDDINGS_TAG,
        body=obj(
            {"vector": VECTOR, "limit": {"type": "integer", "minimum": 1, "maximum": 100}},
            required=("vector",),
        ),
        response=list_of(obj({"score": NUM, "track": REF["Track"]})),
    ),
    Route("POST", "/tracks/{id}/embeddings/search-similar", "SearchSimilarEmbeddings",
        f"query SearchSimilarEmbeddings($id: ID!, $first: Int) {{ similarTracks(trackId: $id, "
        f"first: $first) {{ {shapes.SIMILAR} }} }}",
        variables=lambda c: {"id": c.id, "first": c.b("limit", 10)},
        result=whole_list("similarTracks", shapes.similar),
        summary="Tracks nearest to a track's embedding",
        tag=EMBEDDINGS_TAG,
        body=obj({"limit": {"type": "integer", "minimum": 1, "maximum": 100}}, required=()),
        response=SIMILAR_LIST,
    ),
    Route("GET", "/embeddings/statistics", "EmbeddingStatistics",
        "query EmbeddingStatistics { embeddingStatistics { totalTracks "
        "byType { type count dimension } } }",
        variables=lambda c: {}, result=field_at("embeddingStatistics"),
        summary="Tracks with each embedding type", tag=EMBEDDINGS_TAG, response=STATS,
    ),
    tracks_without("EMBEDDING", "/tracks/without-embeddings", "TracksWithoutEmbeddings",
        "Tracks without an audio embedding", EMBEDDINGS_TAG),
)
# fmt: on
