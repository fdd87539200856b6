"""Jobs: the graph's record of work handed to the task queue.

The queue (workers/jobs.py) carries only a job's id; the Job node holds what clients
read: kind, status, progress, error code, timestamps, parameters and result (JSON text,
since neither engine stores maps as properties).
"""

JOB_MAP = (
    "{.id, .kind, .status, .progress, .error_code, .error_message, .created_at, "
    ".started_at, .finished_at, .updated_at, .attempts, .owner_id, .track_id, .params, "
    ".result, .message}"
)

CREATE_JOB_QUERY = (
    "CREATE (j:Job {id: $id, kind: $kind, status: 'queued', progress: 0.0, attempts: 0, "
    "created_at: $now, updated_at: $now, owner_id: $owner_id, track_id: $track_id, "
    f"params: $params}}) RETURN j {JOB_MAP} AS job"
)

# A job done at once (a single prediction): recorded finished, so that its id answers
# like any job's; it is never queued.
CREATE_FINISHED_JOB_QUERY = (
    "CREATE (j:Job {id: $id, kind: $kind, status: 'completed', progress: 1.0, attempts: 1, "
    "created_at: $started, started_at: $started, finished_at: $now, updated_at: $now, "
    f"owner_id: $owner_id, params: $params, result: $result}}) RETURN j {JOB_MAP} AS job"
)

JOBS_BY_ID_QUERY = f"UNWIND $ids AS id MATCH (j:Job {{id: id}}) RETURN j {JOB_MAP} AS row"

# Newest first; the cursor is [created_at, id] (compared as a list: see catalog queries).
# `$owner_id` null lists everyone's jobs (admins); `$statuses` null lists every status.
JOBS_PAGE_QUERY = (
    "MATCH (j:Job) "
    "WHERE ($owner_id IS NULL OR j.owner_id = $owner_id) "
    "AND ($statuses IS NULL OR j.status IN $statuses) "
    "AND ($after IS NULL OR [j.created_at, j.id] < $after) "
    f"RETURN j {JOB_MAP} AS job ORDER BY j.created_at DESC, j.id DESC LIMIT $first"
)

# A redelivered job (its worker died) may start again while it reads `running`.
START_JOB_QUERY = (
    "MATCH (j:Job {id: $id}) WHERE j.status IN ['queued', 'running'] "
    "SET j.status = 'running', j.attempts = coalesce(j.attempts, 0) + 1, "
    "j.started_at = $now, j.updated_at = $now, j.error_code = null, j.error_message = null "
    f"RETURN j {JOB_MAP} AS job"
)

PROGRESS_JOB_QUERY = (
    "MATCH (j:Job {id: $id}) WHERE j.status = 'running' "
    "SET j.progress = $progress, j.message = $message, j.updated_at = $now "
    f"RETURN j {JOB_MAP} AS job"
)

# Back in the queue after a transient failure; the queue retries it after a backoff.
REQUEUE_JOB_QUERY = (
    "MATCH (j:Job {id: $id}) WHERE j.status = 'running' "
    "SET j.status = 'queued', j.error_code = $error_code, j.error_message = $error_message, "
    f"j.updated_at = $now RETURN j {JOB_MAP} AS job"
)

FINISH_JOB_QUERY = (
    "MATCH (j:Job {id: $id}) WHERE j.status IN ['queued', 'running'] "
    "SET j.status = $status, j.progress = CASE WHEN $status = 'completed' THEN 1.0 "
    "ELSE j.progress END, j.error_code = $error_code, j.error_message = $error_message, "
    "j.result = $result, j.finished_at = $now, j.updated_at = $now "
    f"RETURN j {JOB_MAP} AS job"
)

JOB_COUNTS_QUERY = "MATCH (j:Job) RETURN j.kind AS kind, j.status AS status, count(*) AS n"
