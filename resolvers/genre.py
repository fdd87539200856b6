"""The genre model: its versions, training and deploying, and predictions for uploads."""

from typing import Any

from ariadne import MutationType, ObjectType, QueryType

from graph import genre_models
from graph import jobs as job_records
from graph.catalog_writes import now_ms
from music.errors import ValidationError
from resolvers.context import Info
from resolvers.jobs import submit

query = QueryType()
mutation = MutationType()
genre_model_type = ObjectType("GenreModel")


@genre_model_type.field("macroF1")
def resolve_macro_f1(obj: dict[str, Any], *_: Any) -> float:
    return float(obj["macro_f1"])


@query.field("models")
async def resolve_models(_: Any, info: Info) -> list[dict[str, Any]]:
    return await genre_models.list_versions(info.context.engine)


@mutation.field("trainGenreModel")
async def resolve_train_genre_model(_: Any, info: Info) -> dict[str, Any]:
    return await submit(info, "train_genre_model", {})


@mutation.field("deployModel")
async def resolve_deploy_model(_: Any, info: Info, version: int) -> dict[str, Any]:
    return await genre_models.deploy(info.context.engine, version)


# The kind of the finished job a single prediction is recorded as (never queued).
PREDICTION_KIND = "predict"


@mutation.field("predictGenre")
async def resolve_predict_genre(_: Any, info: Info, file: Any) -> dict[str, Any]:
    engine = info.context.engine
    started = now_ms()
    found = await info.context.media_api.predict_upload(engine, file)
    recorded = await job_records.record_finished(
        engine,
        PREDICTION_KIND,
        {"filename": getattr(file, "filename", None)},
        info.context.principal.user_id,
        found,
        started,
    )
    return {**found, "id": recorded["id"]}


@mutation.field("batchPredict")
async def resolve_batch_predict(
    _: Any, info: Info, files: list[Any], webhook_url: str | None = None
) -> dict[str, Any]:
    media = info.context.media_api
    limit = info.context.settings.max_batch_files
    if not 1 <= len(files) <= limit:
        raise ValidationError(f"'files' takes 1 to {limit} files.", field="files")
    if webhook_url:
        media.check_webhook(webhook_url)
    await genre_models.deployed(info.context.engine)  # NO_MODEL before any file is kept
    params = await media.stage_batch(files)
    if webhook_url:
        params["webhookUrl"] = webhook_url
    try:
        return await submit(info, "batch_predict", params)
    except BaseException:
        media.discard_batch(params["batch"])
        raise


@mutation.field("classifyTracks")
async def resolve_classify_tracks(_: Any, info: Info) -> dict[str, Any]:
    await genre_models.deployed(info.context.engine)
    return await submit(info, "classify_tracks", {})


bindables = [query, mutation, genre_model_type]
