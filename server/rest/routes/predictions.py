"""Seed 002's genre-prediction routes, in its `{success, data, timestamp}` wrapper:
`prediction_id` and `all_probabilities` for a prediction, `batch_id`, `total_files` and
`status_url` for a batch, and `/genres` with `description` and `sub_genres`. Models are
listed and deployed by admins (seed 002)."""

from typing import Any

from server.rest import shapes
from server.rest.mapping import (
    STATS,
    Call,
    Route,
    connection_page,
    field_at,
    id_variable,
    stats_document,
)
from server.rest.shapes import INT, NUM, STR, array, list_of, nullable, obj

PREDICTIONS_TAG = "Predictions and models"
V1 = "/api/v1"
_FILE = {"type": "string", "format": "binary"}


def prediction(data: Any, call: Call) -> dict[str, Any]:
    """A single prediction answers at once; it is recorded as a finished job, whose id is
    the `prediction_id` that GET /prediction/{id} reads back."""
    got = shapes.snake(data["predictGenre"])
    return {
        "prediction_id": got["id"],
        "status": "completed",
        "genre": got["genre"],
        "confidence": got["confidence"],
        "all_probabilities": {p["genre"]: p["probability"] for p in got["probabilities"]},
        "probabilities": got["probabilities"],
        "processing_time_ms": got["processing_time_ms"],
        "model_version": got["model_version"],
    }


def _files(call: Call) -> list[Any]:
    # Seed 002's `files[]` arrive as `files` (server/rest/app.py).
    return list(call.files.get("files", []))


def batch_variables(call: Call) -> dict[str, Any]:
    return {"files": _files(call), "webhookUrl": call.b("webhook_url")}


def batch_started(data: Any, call: Call) -> dict[str, Any]:
    job = shapes.snake(data["batchPredict"])
    return {
        **job,
        "batch_id": job["id"],
        "total_files": len(_files(call)),
        "status_url": f"{V1}/batch/{job['id']}",
    }


def _job(data: Any, what: str) -> dict[str, Any]:
    return dict(shapes.snake(shapes.found(data["job"], what)))


def batch_status(data: Any, call: Call) -> dict[str, Any]:
    job = _job(data, "batch")
    return {**job, "batch_id": job["id"], "status_url": f"{V1}/batch/{job['id']}"}


def prediction_status(data: Any, call: Call) -> dict[str, Any]:
    job = _job(data, "prediction")
    found = job.get("result")
    result: dict[str, Any] = found if isinstance(found, dict) else {}
    return {
        **job,
        "prediction_id": job["id"],
        "genre": result.get("genre"),
        "confidence": result.get("confidence"),
        "completed_at": job.get("finished_at"),
    }


def genres(data: Any, call: Call) -> dict[str, Any]:
    """The catalogue's genres. They carry no description or sub-genres: the fields are
    there (null and empty) so that seed 002's clients read them."""
    found = [{**g, "description": None, "sub_genres": []} for g in data["genres"]]
    return {"genres": found, "total": len(found)}


def models(data: Any, call: Call) -> dict[str, Any]:
    found = shapes.snake(data["models"])
    return {"models": found, "total": len(found)}


_JOB_OUT = {"type": "object"}

JOB_DOC = f"query GetJob($id: ID!) {{ job(id: $id) {{ {shapes.JOB} }} }}"


# fmt: off
PREDICTION_ROUTES: tuple[Route, ...] = (
    Route("POST", "/predict", "PredictGenre",
        "mutation PredictGenre($file: Upload!) { predictGenre(file: $file) { id genre confidence "
        "probabilities { genre probability } processingTimeMs modelVersion } }",
        variables=lambda c: {"file": c.files["file"][0]}, result=prediction,
        summary="The genre of an audio file (multipart)", tag=PREDICTIONS_TAG, multipart=True,
        body={"type": "object", "properties": {"file": _FILE}, "required": ["file"]},
        response=obj(
            {
                "prediction_id": STR, "status": STR, "genre": STR, "confidence": NUM,
                "all_probabilities": {"type": "object", "additionalProperties": NUM},
                "probabilities": array(obj({"genre": STR, "probability": NUM})),
                "processing_time_ms": NUM, "model_version": INT,
            }
        ),
        envelope=True,
    ),
    Route("POST", "/batch-predict", "BatchPredict",
        "mutation BatchPredict($files: [Upload!]!, $webhookUrl: String) { batchPredict("
        f"files: $files, webhookUrl: $webhookUrl) {{ {shapes.JOB} }} }}",
        variables=batch_variables, result=batch_started,
        summary="Genres of several files (a job); results POSTed to `webhook_url`",
        tag=PREDICTIONS_TAG, status=202, multipart=True,
        body={
            "type": "object",
            "properties": {"files": array(_FILE), "webhook_url": STR},
            "required": ["files"],
        },
        response=obj({"batch_id": STR, "status": STR, "total_files": INT, "status_url": STR},
                     required=("batch_id", "status", "total_files", "status_url")),
        envelope=True,
    ),
    Route("GET", "/prediction/{id}", "GetPrediction",
        JOB_DOC.replace("GetJob(", "GetPrediction(", 1), variables=id_variable,
        result=prediction_status, summary="A prediction job and its result", tag=PREDICTIONS_TAG,
        response=obj({"prediction_id": STR, "status": STR, "genre": nullable("string"),
                      "confidence": nullable("number"), "created_at": shapes.DATETIME,
                      "completed_at": nullable(shapes.DATETIME)}),
        envelope=True,
    ),
    Route("GET", "/batch/{id}", "GetBatch",
        JOB_DOC.replace("GetJob(", "GetBatch(", 1), variables=id_variable,
        result=batch_status, summary="A batch job and its results", tag=PREDICTIONS_TAG,
        response=obj({"batch_id": STR, "status": STR, "status_url": STR},
                     required=("batch_id", "status", "status_url")),
        envelope=True,
    ),
    Route("GET", "/genres", "ListGenres",
        "query ListGenres { genres { id name } }", variables=lambda c: {}, result=genres,
        summary="Every genre", tag=PREDICTIONS_TAG,
        response=obj({
            "genres": array(obj({"id": STR, "name": STR, "description": nullable("string"),
                                 "sub_genres": array(STR)})),
            "total": INT,
        }),
        envelope=True,
    ),
    Route("GET", "/models", "ListModels",
        f"query ListModels {{ models {{ {shapes.MODEL} }} }}", variables=lambda c: {},
        result=models, summary="Genre model versions (admins)", tag=PREDICTIONS_TAG,
        response=obj({"models": array({"type": "object"}), "total": INT}), envelope=True,
    ),
    Route("POST", "/models/deploy", "DeployModel",
        f"mutation DeployModel($version: Int!) "
        f"{{ deployModel(version: $version) {{ {shapes.MODEL} }} }}",
        variables=lambda c: {"version": c.b("version")},
        result=lambda d, c: shapes.snake(d["deployModel"]),
        summary="Put a model version in use (admins)", tag=PREDICTIONS_TAG,
        body=obj({"version": INT}), response={"type": "object"}, envelope=True,
    ),
    Route("GET", "/history", "History",
        "query History($first: Int, $after: String) { history(first: $first, after: $after) "
        "{ totalCount pageInfo { hasNextPage endCursor } edges { node { at durationPlayed "
        "track { id title } } } } }",
        variables=lambda c: {}, result=connection_page("history", shapes.snake),
        summary="What you played, newest first", tag=PREDICTIONS_TAG,
        response=list_of(
            obj(
                {
                    "at": shapes.DATETIME,
                    "duration_played": NUM,
                    "track": obj({"id": STR, "title": STR}),
                }
            )
        ),
        page="history",
    ),
    Route("GET", "/stats", "Stats",
        stats_document("Stats"), variables=lambda c: {}, result=field_at("collectionStats"),
        summary="Catalogue statistics", tag=PREDICTIONS_TAG, response=STATS,
    ),
)
# fmt: on
