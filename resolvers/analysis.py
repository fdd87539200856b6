"""Audio features, embeddings and similar tracks: Track fields, queries and mutations."""

from typing import Any

from ariadne import MutationType, ObjectType, QueryType

from graph import analysis
from graph.ids import require_id
from music.errors import NotFoundError
from music.features import camel_case, clean_features
from resolvers.context import Info
from resolvers.loaders import EmbeddingKey, SimilarKey

query = QueryType()
mutation = MutationType()
track = ObjectType("Track")


async def _analysis(info: Info, track_id: str) -> dict[str, Any]:
    row = await info.context.loaders.analysis_by_track_id.load(track_id)
    return row or {"features": None, "status": analysis.PENDING}


@track.field("audioFeatures")
async def resolve_audio_features(obj: dict[str, Any], info: Info) -> Any:
    return (await _analysis(info, obj["id"]))["features"]


@track.field("analysisStatus")
async def resolve_analysis_status(obj: dict[str, Any], info: Info) -> Any:
    return (await _analysis(info, obj["id"]))["status"]


@track.field("embedding")
def resolve_embedding(obj: dict[str, Any], info: Info, type: str = "audio") -> Any:
    key = EmbeddingKey(obj["id"], analysis.check_embedding_type(type))
    return info.context.loaders.embedding_by_track.load(key)


def _similar(info: Info, track_id: str, first: int | None, min_score: float | None) -> Any:
    key = SimilarKey(track_id, 10 if first is None else first, float(min_score or 0.0))
    return info.context.loaders.similar_by_track.load(key)


@track.field("similar")
def resolve_similar(
    obj: dict[str, Any], info: Info, first: int | None = 10, min_score: float | None = 0.0
) -> Any:
    return _similar(info, obj["id"], first, min_score)


@query.field("similarTracks")
async def resolve_similar_tracks(_: Any, info: Info, track_id: str, first: int | None = 10) -> Any:
    require_id(track_id, "Track", "trackId")
    if await info.context.loaders.track_by_id.load(track_id) is None:
        raise NotFoundError("No such track.", id=track_id)
    return await _similar(info, track_id, first, 0.0)


@query.field("audioFeatureStatistics")
async def resolve_statistics(_: Any, info: Info) -> dict[str, Any]:
    return await analysis.statistics(info.context.engine)


def _written(info: Info, row: dict[str, Any]) -> dict[str, Any]:
    """Forget what this request read of the track, and cache the row just written."""
    loaders = info.context.loaders
    loaders.analysis_by_track_id.clear(row["id"])
    loaders.embedding_by_track.clear_all()
    loaders.prime("Track", row)
    return row


def _input_field(name: str) -> str:
    """A feature as the client named it: `tempo_confidence` -> `input.tempoConfidence`."""
    return f"input.{camel_case(name)}"


@mutation.field("setAudioFeatures")
async def resolve_set_audio_features(
    _: Any, info: Info, track_id: str, input: dict[str, Any]
) -> dict[str, Any]:
    require_id(track_id, "Track", "trackId")
    features = clean_features(input, _input_field)
    row = await analysis.set_features(info.context.engine, track_id, features)
    if info.context.jobs is not None:
        # The track joins the similarity graph from these features (unless its audio or
        # a given vector already placed it there).
        await info.context.jobs.submit(
            info.context.engine,
            "embed_features",
            {"trackId": track_id},
            info.context.principal.user_id,
            track_id,
        )
    return _written(info, row)


@mutation.field("upsertEmbedding")
async def resolve_upsert_embedding(
    _: Any, info: Info, track_id: str, type: str, vector: list[float]
) -> dict[str, Any]:
    require_id(track_id, "Track", "trackId")
    row = await analysis.upsert_embedding(info.context.engine, track_id, type, vector)
    if type == "audio" and info.context.jobs is not None:
        # It takes part in similarity like an analysed track: its edges come from a job.
        await info.context.jobs.submit(
            info.context.engine,
            "link_similarity",
            {"trackId": track_id},
            info.context.principal.user_id,
            track_id,
        )
    return _written(info, row)


@mutation.field("deleteEmbedding")
async def resolve_remove_embedding(_: Any, info: Info, track_id: str, type: str) -> dict[str, Any]:
    require_id(track_id, "Track", "trackId")
    row = await analysis.remove_embedding(info.context.engine, track_id, type)
    return _written(info, row)


bindables = [query, mutation, track]
