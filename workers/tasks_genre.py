"""The genre model's work: train a version, predict the genre of audio files (one in the
API process, a batch as a job), and label the tracks nobody has given a genre.

Predictions never store the audio: an uploaded file is received into the media folder's
temp area, analysed, and deleted whatever happens. A batch's files wait for their job in
`<media>/.predict/<batch>/`, which the job removes when it finishes or fails for good.
"""

import asyncio
import re
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ulid import ULID

from graph import genre_models as graph_genre
from graph import models
from graph.engine import GraphEngine
from music.embedding import EMBEDDING_DIMS
from music.errors import DomainError, ValidationError
from music.genre_artifact import GenreModel
from workers import genre_classifier, ingest, webhooks
from workers.analysis import analyze_file, embedding
from workers.jobs import JobContext, handler

PREDICT_DIR = ".predict"
_BATCH_NAME = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def predict_file(model: GenreModel, path: str | Path) -> dict[str, Any]:
    """Analyse one audio file and classify it (CPU-bound: run it in a thread). Raises
    AnalysisError for audio that cannot be analysed."""
    started = time.perf_counter()
    prediction = genre_classifier.predict(model, embedding(analyze_file(path)))
    ranked = sorted(prediction.probabilities.items(), key=lambda item: (-item[1], item[0]))
    return {
        "genre": prediction.genre,
        "confidence": prediction.confidence,
        "probabilities": [{"genre": g, "probability": p} for g, p in ranked],
        "processing_time_ms": round((time.perf_counter() - started) * 1000, 1),
        "model_version": model.version,
    }


async def predict_upload(
    engine: GraphEngine, chunks: AsyncIterator[bytes], media_dir: Path, max_bytes: int
) -> dict[str, Any]:
    """The genre of uploaded bytes, with the deployed model (NO_MODEL without one). The
    bytes are staged (size-capped: FILE_TOO_LARGE), analysed, and always deleted."""
    model = await graph_genre.deployed(engine)
    staged = await ingest.receive(chunks, media_dir, max_bytes)
    try:
        # One analysis at a time per API process: it is CPU-bound and would otherwise
        # starve the event loop's thread of the GIL under a burst of predictions.
        async with _predicting():
            return await asyncio.to_thread(predict_file, model, staged.path)
    finally:
        ingest.discard(staged)


_PREDICTING: dict[int, asyncio.Semaphore] = {}


def _predicting() -> asyncio.Semaphore:
    """The running loop's prediction slot (semaphores belong to one loop)."""
    loop = id(asyncio.get_running_loop())
    return _PREDICTING.setdefault(loop, asyncio.Semaphore(1))


async def stage_batch(
    uploads: Sequence[tuple[str | None, AsyncIterator[bytes]]], media_dir: Path, max_bytes: int
) -> dict[str, Any]:
    """Receive and check a batch's files into a folder of its own; the job's params. A
    refused file is listed with its error (the others still get predictions)."""
    batch = str(ULID())
    folder = media_dir / PREDICT_DIR / batch
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    try:
        for index, (filename, chunks) in enumerate(uploads):
            try:
                staged = await ingest.receive(chunks, media_dir, max_bytes)
                try:
                    fmt = await asyncio.to_thread(ingest.check_audio, staged.path)
                    name = f"{index}.{fmt}"
                    await asyncio.to_thread(staged.path.replace, folder / name)
                finally:
                    ingest.discard(staged)
            except DomainError as e:
                files.append({"filename": filename, "error": _error(e)})
            else:
                files.append({"filename": filename, "file": name})
    except BaseException:
        discard_batch(media_dir, batch)
        raise
    return {"batch": batch, "files": files}


def discard_batch(media_dir: Path, batch: str) -> None:
    """Remove a batch's folder; safe when it is already gone."""
    if _BATCH_NAME.match(batch):
        shutil.rmtree(media_dir / PREDICT_DIR / batch, ignore_errors=True)


def _error(e: DomainError) -> dict[str, str]:
    return {"code": e.code, "message": e.message}


def _media_dir(ctx: JobContext) -> Path:
    return Path(ctx.settings.resolved_media_dir)


async def _batch_failed(ctx: JobContext, error: DomainError | None) -> None:
    discard_batch(_media_dir(ctx), str(ctx.job["params"].get("batch", "")))


@handler("batch_predict", on_failure=_batch_failed)
async def batch_predict(ctx: JobContext) -> dict[str, Any]:
    """Predict the genre of each staged file; the folder goes once all have an answer."""
    params = ctx.job["params"]
    batch = str(params.get("batch", ""))
    if not _BATCH_NAME.match(batch):
        raise ValidationError("The job has no valid batch folder.", field="batch")
    folder = _media_dir(ctx) / PREDICT_DIR / batch
    model = await graph_genre.deployed(ctx.engine)
    files: list[dict[str, Any]] = params.get("files") or []
    results: list[dict[str, Any]] = []
    for done, item in enumerate(files, start=1):
        results.append(await _predict_item(model, folder, item))
        await ctx.progress(done / max(len(files), 1), "predicting")
    await asyncio.to_thread(discard_batch, _media_dir(ctx), batch)
    outcome = {
        "modelVersion": model.version,
        "predicted": sum(1 for r in results if "error" not in r),
        "predictions": results,
    }
    await webhooks.notify(ctx, outcome)
    return outcome


async def _predict_item(model: GenreModel, folder: Path, item: dict[str, Any]) -> dict[str, Any]:
    filename = item.get("filename")
    if "error" in item:
        return {"filename": filename, "error": item["error"]}
    path = folder / str(item.get("file", ""))
    if path.parent != folder or not path.is_file():
        return {
            "filename": filename,
            "error": {"code": "NOT_FOUND", "message": "The file is no longer there."},
        }
    try:
        found = await asyncio.to_thread(predict_file, model, path)
    except DomainError as e:
        return {"filename": filename, "error": _error(e)}
    return {
        "filename": filename,
        "genre": found["genre"],
        "confidence": found["confidence"],
        "probabilities": found["probabilities"],
        "processingTimeMs": found["processing_time_ms"],
        "modelVersion": found["model_version"],
    }


async def _trained_by(ctx: JobContext) -> dict[str, Any] | None:
    """The version this job saved already (a retry after the save must not add one)."""
    for model in await models.list_models(ctx.engine, graph_genre.KIND):
        if model["metrics"].get("job_id") == ctx.job["id"]:
            return model
    return None


def _train_result(model: dict[str, Any]) -> dict[str, Any]:
    row = graph_genre.model_row(model)
    return {
        "version": row["version"],
        "accuracy": row["accuracy"],
        "macroF1": row["macro_f1"],
        "trainTracks": row["train_tracks"],
        "testTracks": row["test_tracks"],
        "classes": row["classes"],
        "dropped": model["metrics"].get("dropped", []),
        "deployed": row["deployed"],
    }


@handler("train_genre_model")
async def train_genre_model(ctx: JobContext) -> dict[str, Any]:
    """Train a new version on every track with a human genre and a raw embedding; it is
    deployed when no usable version is. Too little data fails the job (VALIDATION_ERROR)."""
    saved = await _trained_by(ctx)
    if saved is not None:
        return _train_result(saved)
    await ctx.progress(0.1, "reading")
    _, raws, labels = await graph_genre.training_data(ctx.engine)
    await ctx.progress(0.3, "training")
    version = await models.next_version(ctx.engine, graph_genre.KIND)
    matrix = np.asarray(raws, dtype=np.float64).reshape(-1, EMBEDDING_DIMS)
    try:
        trained = await asyncio.to_thread(genre_classifier.train, matrix, labels, version)
    except ValueError as e:
        raise ValidationError(f"Cannot train a genre model: {e}.") from e
    try:
        await graph_genre.deployed(ctx.engine)
        deploy = False
    except graph_genre.NoModelError:
        deploy = True
    metrics = {
        "accuracy": trained.accuracy,
        "macro_f1": trained.macro_f1,
        "train_tracks": trained.n_train,
        "test_tracks": trained.n_test,
        "classes": list(trained.classes),
        "dropped": [[genre, count] for genre, count in trained.dropped],
        "job_id": ctx.job["id"],
    }
    model = await models.save(
        ctx.engine, graph_genre.KIND, version, trained.to_json(), metrics, deploy=deploy
    )
    return _train_result(model)


@handler("classify_tracks")
async def classify_tracks(ctx: JobContext) -> dict[str, Any]:
    """Give every analysed track without a genre the deployed model's genre (an IN_GENRE
    edge with source "model"); human genres are never touched."""
    model = await graph_genre.deployed(ctx.engine)
    await ctx.progress(0.1, "classifying")
    written, genres = 0, Counter[str]()
    async for batch in graph_genre.unlabelled(ctx.engine):
        probabilities = genre_classifier.predict_proba(model, np.asarray([raw for _, raw in batch]))
        best = probabilities.argmax(axis=1)
        predictions = [
            (track_id, model.classes[b], float(p[b]))
            for (track_id, _), b, p in zip(batch, best.tolist(), probabilities, strict=True)
        ]
        written += await graph_genre.write_predictions(ctx.engine, predictions, model.version)
        genres.update(genre for _, genre, _ in predictions)
    return {"modelVersion": model.version, "labelled": written, "genres": dict(genres)}
