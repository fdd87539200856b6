"""Job records: created before a job is queued, moved through its states by the worker.

States: `queued` -> `running` -> `completed` | `failed`; a transient failure sends a
running job back to `queued` until the queue gives up. Finished jobs never change again,
which is what makes a duplicated or redelivered queue message harmless.
"""

import json
from collections.abc import Sequence
from typing import Any

from graph._batch import by_id
from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.ids import new_id, require_id
from graph.queries import jobs as q
from music.errors import ValidationError

MAX_FIRST = 100


def _row(job: Row) -> Row:
    """A job as resolvers read it: params and result parsed from their JSON text."""
    out = dict(job)
    for name in ("params", "result"):
        out[name] = json.loads(out[name]) if out.get(name) else None
    return out


async def create_job(
    engine: GraphEngine,
    kind: str,
    params: dict[str, Any],
    owner_id: str | None,
    track_id: str | None = None,
) -> Row:
    """A new `queued` job (before its message is sent, so a worker always finds it)."""
    rows = await engine.write(
        "job_create",
        q.CREATE_JOB_QUERY,
        {
            "id": new_id("Job"),
            "kind": kind,
            "now": now_ms(),
            "owner_id": owner_id,
            "track_id": track_id,
            "params": json.dumps(params),
        },
    )
    return _row(rows[0]["job"])


async def record_finished(
    engine: GraphEngine,
    kind: str,
    params: dict[str, Any],
    owner_id: str | None,
    result: Any,
    started_ms: int,
) -> Row:
    """A `completed` job for work done within the request (a single prediction), so that
    its id can be read back like a queued job's."""
    rows = await engine.write(
        "job_record_finished",
        q.CREATE_FINISHED_JOB_QUERY,
        {
            "id": new_id("Job"),
            "kind": kind,
            "started": started_ms,
            "now": now_ms(),
            "owner_id": owner_id,
            "params": json.dumps(params),
            "result": json.dumps(result),
        },
    )
    return _row(rows[0]["job"])


async def jobs_by_id(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    rows = await by_id(engine, "jobs_by_id", q.JOBS_BY_ID_QUERY, ids)
    return [None if r is None else _row(r) for r in rows]


async def job(engine: GraphEngine, job_id: str) -> Row | None:
    require_id(job_id, "Job")
    [found] = await jobs_by_id(engine, [job_id])
    return found


async def jobs_page(
    engine: GraphEngine,
    owner_id: str | None,
    statuses: Sequence[str] | None,
    after: tuple[int, str] | None,
    first: int,
) -> list[Row]:
    """Newest first; `owner_id` None lists every owner's jobs."""
    if not 0 < first <= MAX_FIRST + 1:
        raise ValidationError(f"'first' must be between 1 and {MAX_FIRST}.", field="first")
    rows = await engine.read(
        "jobs_page",
        q.JOBS_PAGE_QUERY,
        {
            "owner_id": owner_id,
            "statuses": list(statuses) if statuses else None,
            "after": list(after) if after else None,
            "first": first,
        },
    )
    return [_row(r["job"]) for r in rows]


async def _one(engine: GraphEngine, operation: str, query: str, params: dict[str, Any]) -> Row:
    rows = await engine.write(operation, query, {**params, "now": now_ms()})
    return _row(rows[0]["job"]) if rows else {}


async def start(engine: GraphEngine, job_id: str) -> Row | None:
    """Mark the job running; None when it is finished (or gone) and must not run again."""
    row = await _one(engine, "job_start", q.START_JOB_QUERY, {"id": job_id})
    return row or None


async def progress(engine: GraphEngine, job_id: str, value: float, message: str | None) -> None:
    await _one(
        engine,
        "job_progress",
        q.PROGRESS_JOB_QUERY,
        {"id": job_id, "progress": min(1.0, max(0.0, value)), "message": message},
    )


async def requeue(engine: GraphEngine, job_id: str, code: str, message: str) -> None:
    await _one(
        engine,
        "job_requeue",
        q.REQUEUE_JOB_QUERY,
        {"id": job_id, "error_code": code, "error_message": message},
    )


async def finish(
    engine: GraphEngine,
    job_id: str,
    *,
    result: Any = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Row:
    """Complete the job (no error code) or fail it; a finished job is left as it is."""
    return await _one(
        engine,
        "job_finish",
        q.FINISH_JOB_QUERY,
        {
            "id": job_id,
            "status": "failed" if error_code else "completed",
            "error_code": error_code,
            "error_message": error_message,
            "result": None if result is None else json.dumps(result),
        },
    )


async def counts(engine: GraphEngine) -> list[Row]:
    """How many jobs of each kind are in each status (for metrics and health)."""
    return await engine.read("job_counts", q.JOB_COUNTS_QUERY)
