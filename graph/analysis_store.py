"""The analysis worker's side of the graph: where a track's audio is, its analysis
status, its results (one write), nearest neighbours through the vector index, and the
catalogue's vectors page by page for a rebuild."""

from collections.abc import AsyncIterator, Sequence
from typing import Any

from graph import sort_keys
from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.queries import analysis_store as q
from music.errors import NotFoundError, ValidationError

PAGE = 5000


async def track_file(engine: GraphEngine, track_id: str) -> str:
    """The stored audio file of a track; VALIDATION_ERROR when it has none to analyse."""
    rows = await engine.read("track_file", q.TRACK_FILE_QUERY, {"id": track_id})
    if not rows:
        raise NotFoundError("No such track.", id=track_id)
    path = rows[0]["path"]
    if not path:
        raise ValidationError("The track has no audio file to analyse.", field="id")
    if rows[0]["missing"]:
        raise ValidationError("The track's file is missing from the library.", field="id")
    return str(path)


async def set_status(
    engine: GraphEngine,
    track_ids: Sequence[str],
    status: str,
    code: str | None = None,
    message: str | None = None,
) -> None:
    for track_id in track_ids:
        await engine.write(
            "analysis_status",
            q.SET_ANALYSIS_STATUS_QUERY,
            {"id": track_id, "status": status, "code": code, "message": message},
        )


async def store(
    engine: GraphEngine,
    track_id: str,
    props: dict[str, Any],
    raw: Sequence[float],
    vector: Sequence[float],
    version: int,
    duration: float,
) -> Row:
    rows = await engine.write(
        "analysis_store",
        q.store_analysis(engine.dialect),
        {
            "id": track_id,
            "props": props,
            "raw": [float(v) for v in raw],
            "vector": [float(v) for v in vector],
            "version": version,
            "now": now_ms(),
            "duration": float(duration),
            "duration_sk": sort_keys.duration_key(float(duration), track_id),
        },
    )
    if not rows:
        raise NotFoundError("No such track.", id=track_id)
    return dict(rows[0]["row"])


async def embedding_state(engine: GraphEngine, track_id: str) -> Row:
    """`{kept}`: True when the track's embedding came from its audio or was given as a
    vector, and must not be replaced by one derived from features."""
    rows = await engine.read("embedding_state", q.EMBEDDING_STATE_QUERY, {"id": track_id})
    if not rows:
        raise NotFoundError("No such track.", id=track_id)
    return {"kept": bool(rows[0]["kept"])}


async def store_feature_embedding(
    engine: GraphEngine, track_id: str, vector: Sequence[float], version: int
) -> bool:
    """Whether the vector was stored: not when the track's embedding came from its audio
    or was given directly, also since the caller checked (`embedding_state`)."""
    rows = await engine.write(
        "feature_embedding",
        q.store_feature_embedding(engine.dialect),
        {"id": track_id, "vector": [float(v) for v in vector], "version": version},
    )
    return bool(rows)


async def nearest(
    engine: GraphEngine, track_id: str, vector: Sequence[float], k: int
) -> list[tuple[str, float]]:
    """The k tracks nearest to `vector` other than `track_id`, best first."""
    rows = await engine.read(
        "vector_neighbours",
        q.vector_neighbours(engine.dialect),
        {"id": track_id, "vector": [float(v) for v in vector], "k": k + 1},
    )
    return [(r["id"], float(r["similarity"])) for r in rows][:k]


async def search(engine: GraphEngine, vector: Sequence[float], k: int) -> list[Row]:
    """`{track, score}` of the k tracks nearest to `vector`, best first."""
    rows = await engine.read(
        "vector_search",
        q.vector_search(engine.dialect),
        {"vector": [float(v) for v in vector], "k": k},
    )
    return [{"track": r["track"], "score": float(r["similarity"])} for r in rows]


async def trim_edges(engine: GraphEngine, track_ids: Sequence[str], k: int) -> None:
    if track_ids:
        await engine.write(
            "similarity_trim", q.TRIM_SIMILAR_QUERY, {"ids": list(dict.fromkeys(track_ids)), "k": k}
        )


async def pages(engine: GraphEngine, query: str, column: str) -> AsyncIterator[list[Row]]:
    """Every `(id, column)` row of a keyset-paged query, PAGE rows at a time."""
    after = ""
    while True:
        rows = await engine.read("analysis_pages", query, {"after": after, "first": PAGE})
        if not rows:
            return
        yield [{"id": r["id"], column: r[column]} for r in rows]
        after = rows[-1]["id"]


async def tracks_with_files(engine: GraphEngine) -> list[str]:
    """The ids of every track whose audio file is in the catalogue and not missing."""
    ids: list[str] = []
    async for page in pages(engine, q.TRACK_FILES_PAGE_QUERY, "path"):
        ids.extend(str(r["id"]) for r in page)
    return ids


async def set_embeddings(
    engine: GraphEngine, rows: Sequence[Row], version: int, *, from_features: bool = False
) -> int:
    """Store re-embedded vectors in batches: how many were written. `from_features`: the
    vectors were derived from API-given features, and a track whose embedding was given
    or analysed meanwhile keeps it."""
    batches = [
        {"rows": list(rows[i : i + PAGE]), "version": version} for i in range(0, len(rows), PAGE)
    ]
    build = q.set_feature_embeddings if from_features else q.set_embeddings
    result = await engine.write_batches("embeddings_set", build(engine.dialect), batches)
    return sum(int(r["written"]) for r in result)
