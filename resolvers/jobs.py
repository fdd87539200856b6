"""Jobs: reading them, and the mutations that start analysis and similarity work."""

from typing import Any

from ariadne import MutationType, ObjectType, QueryType, ScalarType

from graph import analysis_store
from graph import jobs as records
from graph.ids import require_id
from music.errors import ValidationError
from resolvers._pagination import connection, decode_cursor, page_size
from resolvers.context import Info
from resolvers.permissions import ADMIN_ACCESS

query = QueryType()
mutation = MutationType()
job = ObjectType("Job")
json_scalar = ScalarType("JSON", serializer=lambda value: value)

EMBEDDING_DIMS = 64
STATUS_CURSOR = (int, str)


def _owner_filter(info: Info) -> str | None:
    """Admins see every job; anyone else their own."""
    principal = info.context.principal
    return None if ADMIN_ACCESS in principal.permissions else (principal.user_id or "")


async def submit(
    info: Info, kind: str, params: dict[str, Any], track_id: str | None = None
) -> dict[str, Any]:
    """Queue a job for the caller (the worker picks it up)."""
    return await info.context.jobs_api.submit(
        info.context.engine, kind, params, info.context.principal.user_id, track_id
    )


@query.field("job")
async def resolve_job(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    found = await records.job(info.context.engine, id)
    owner = _owner_filter(info)
    if found is None or (owner is not None and found["owner_id"] != owner):
        return None
    return found


@query.field("jobs")
async def resolve_jobs(
    _: Any, info: Info, first: int | None = 20, after: str | None = None, status: str | None = None
) -> dict[str, Any]:
    size = page_size(first)
    position = decode_cursor(after, "Job", STATUS_CURSOR)
    rows = await records.jobs_page(
        info.context.engine,
        _owner_filter(info),
        [status] if status else None,
        (int(position[0]), str(position[1])) if position else None,
        size + 1,
    )

    async def no_count() -> int:
        raise ValidationError("totalCount is not available for jobs.")

    return connection(rows, [[r["created_at"], r["id"]] for r in rows], size, "Job", no_count)


@query.field("searchByVector")
async def resolve_search_by_vector(
    _: Any, info: Info, vector: list[float], first: int | None = 10
) -> list[dict[str, Any]]:
    size = page_size(first, 10)
    if len(vector) != EMBEDDING_DIMS:
        raise ValidationError(f"'vector' must hold {EMBEDDING_DIMS} values.", field="vector")
    if not all(v == v and abs(v) != float("inf") for v in vector):
        raise ValidationError("'vector' must hold finite numbers.", field="vector")
    if not any(vector):
        raise ValidationError("'vector' must not be all zeros.", field="vector")
    return await analysis_store.search(info.context.engine, vector, size)


@job.field("track")
async def resolve_job_track(obj: dict[str, Any], info: Info) -> Any:
    if not obj.get("track_id"):
        return None
    return await info.context.loaders.track_by_id.load(obj["track_id"])


@job.field("attempts")
def resolve_attempts(obj: dict[str, Any], *_: Any) -> int:
    return int(obj.get("attempts") or 0)


@mutation.field("analyzeTrack")
async def resolve_analyze_track(_: Any, info: Info, id: str) -> dict[str, Any]:
    require_id(id, "Track")
    await analysis_store.track_file(info.context.engine, id)  # NOT_FOUND, or no file
    await analysis_store.set_status(info.context.engine, [id], "QUEUED")
    info.context.loaders.analysis_by_track_id.clear(id)
    return await submit(info, "analyze", {"trackId": id}, id)


@mutation.field("rebuildSimilarity")
async def resolve_rebuild_similarity(_: Any, info: Info) -> dict[str, Any]:
    return await submit(info, "rebuild_similarity", {})


bindables = [query, mutation, job, json_scalar]
