"""Audio in: uploads (multipart) and library scans; Track fields about its file."""

from typing import Any

from ariadne import MutationType, ObjectType, upload_scalar

from events import MEDIA_ADDED, media_added_data
from music.errors import DomainError, ValidationError
from resolvers.context import Info
from resolvers.jobs import submit

mutation = MutationType()
track = ObjectType("Track")


@track.field("missing")
def resolve_missing(obj: dict[str, Any], *_: Any) -> bool:
    return bool(obj.get("missing"))


@track.field("analysisError")
async def resolve_analysis_error(obj: dict[str, Any], info: Info) -> Any:
    row = await info.context.loaders.analysis_by_track_id.load(obj["id"])
    return row["error"] if row else None


async def _upload(info: Info, file: Any, metadata: dict[str, Any] | None) -> dict[str, Any]:
    track_row, created = await info.context.media_api.ingest_upload(
        info.context.engine, file, metadata
    )
    if not created:
        return {"track": track_row, "job": None, "duplicate": True}
    job = await submit(info, "analyze", {"trackId": track_row["id"]}, track_row["id"])
    credited = await info.context.loaders.artists_by_track_id.load(track_row["id"])
    artist = credited[0]["name"] if credited else None
    await info.context.publish(MEDIA_ADDED, MEDIA_ADDED, media_added_data(track_row, artist))
    return {"track": track_row, "job": job, "duplicate": False}


@mutation.field("uploadTrack")
async def resolve_upload_track(
    _: Any, info: Info, file: Any, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    return await _upload(info, file, metadata)


@mutation.field("batchUpload")
async def resolve_batch_upload(_: Any, info: Info, files: list[Any]) -> list[dict[str, Any]]:
    limit = info.context.settings.max_batch_files
    if not 1 <= len(files) <= limit:
        raise ValidationError(f"'files' takes 1 to {limit} files.", field="files")
    results = []
    for file in files:
        name = getattr(file, "filename", None)
        try:
            results.append({"filename": name, "upload": await _upload(info, file, None)})
        except DomainError as e:
            error = {"code": e.code, "message": e.message}
            results.append({"filename": name, "upload": None, "error": error})
    return results


@mutation.field("scanLibrary")
async def resolve_scan_library(
    _: Any, info: Info, path: str, webhook_url: str | None = None
) -> dict[str, Any]:
    media = info.context.media_api
    params = {"path": str(media.scan_root(path))}
    if webhook_url:
        params["webhookUrl"] = media.check_webhook(webhook_url)
    return await submit(info, "scan", params)


bindables = [mutation, track, upload_scalar]
