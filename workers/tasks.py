"""What the jobs do: analyse a track, rebuild the similarity graph.

Every handler is idempotent: features and vectors are overwritten, edges are replaced or
MERGEd, so a retried or redelivered job leaves the graph as one clean run would.
"""

import asyncio
import logging
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from events import PROCESSING_UPDATE, TRACK_UPDATED
from graph import analysis, analysis_store, models, similarity
from graph import genre_models as graph_genre
from graph.genre_models import NoModelError
from graph.queries import analysis_store as store_queries
from music.errors import DomainError
from music.features import clean_features
from music.scaler_artifact import ScalerArtifact
from music.scaler_artifact import compatible as scaler_compatible
from workers import embedding_scaler, genre_classifier
from workers._audio_embedding import partial_embedding
from workers.analysis import AudioFeatures, analyze_file, embedding
from workers.jobs import JobContext, handler
from workers.similarity import top_k

log = logging.getLogger("apollonia.tasks")

SCALER = "scaler"
DEFAULT_K = 10
DEFAULT_MIN_SCORE = 0.5


def feature_values(f: AudioFeatures) -> dict[str, Any]:
    """The analysis as music.features.clean_features checks it (snake_case names)."""
    return {
        "tempo": f.tempo_bpm,
        "tempo_confidence": f.tempo_confidence,
        "key": f.key,
        "mode": f.mode,
        "key_confidence": f.key_confidence,
        "loudness": f.loudness_db,
        "lufs": f.integrated_lufs,
        "energy": f.energy,
        "danceability": f.danceability,
        "spectral_centroid": f.spectral_centroid_hz,
        "spectral_rolloff": f.spectral_rolloff_hz,
        "spectral_bandwidth": f.spectral_bandwidth_hz,
        "spectral_flatness": f.spectral_flatness,
        "zero_crossing_rate": f.zero_crossing_rate,
        "onset_rate": f.onset_rate,
        "dynamic_range": f.dynamic_range_db,
        "mfcc_mean": list(f.mfcc_mean),
    }


async def current_scaler(ctx: JobContext) -> ScalerArtifact | None:
    found = await models.deployed(ctx.engine, SCALER)
    if found is None:
        return None
    artifact = ScalerArtifact.from_json(found[1])
    return artifact if scaler_compatible(artifact) else None


def _k(ctx: JobContext) -> tuple[int, float]:
    settings = ctx.settings
    return (
        int(getattr(settings, "similarity_k", DEFAULT_K)),
        float(getattr(settings, "similarity_min_score", DEFAULT_MIN_SCORE)),
    )


async def _processing(
    ctx: JobContext, track_id: str, stage: str, progress: float, **extra: Any
) -> None:
    await ctx.progress(progress, stage)
    await ctx.publish(
        f"processing.{track_id}",
        PROCESSING_UPDATE,
        {
            "track_id": track_id,
            "media_id": track_id,
            "job_id": ctx.job["id"],
            "stage": stage,
            "progress": progress,
            "message": extra.get("message"),
            "completed": extra.get("completed", False),
            "failed": extra.get("failed", False),
        },
    )


async def link_track(ctx: JobContext, track_id: str, vector: Any) -> int:
    """Write one track's top-k SIMILAR_TO edges both ways, found through the vector index
    (no scan of the catalogue), and trim its neighbours back to their k best."""
    k, min_score = _k(ctx)
    found = await analysis_store.nearest(ctx.engine, track_id, vector, k)
    kept = [(other, score) for other, score in found if score >= min_score]
    out = [{"source": track_id, "target": other, "score": score} for other, score in kept]
    back = [{"source": other, "target": track_id, "score": score} for other, score in kept]
    await similarity.replace_edges(ctx.engine, [track_id], out, "vector_index")
    if back:
        await similarity.write_edges(ctx.engine, back, "vector_index")
        await analysis_store.trim_edges(ctx.engine, [other for other, _ in kept], k)
    for other, _ in kept:
        await ctx.publish(f"similarity.{other}", "similarity.updated", {"track_id": other})
    return len(out)


async def _analysis_failed(ctx: JobContext, error: DomainError | None) -> None:
    track_id = ctx.job["track_id"]
    code = error.code if error is not None else "INTERNAL"
    message = error.message if error is not None else "The analysis failed."
    await analysis_store.set_status(ctx.engine, [track_id], "FAILED", code, message)
    await _processing(ctx, track_id, "failed", 1.0, message=message, failed=True)


@handler("analyze", on_failure=_analysis_failed)
async def analyze(ctx: JobContext) -> dict[str, Any]:
    track_id = ctx.job["track_id"]
    path = await analysis_store.track_file(ctx.engine, track_id)
    await analysis_store.set_status(ctx.engine, [track_id], "ANALYZING")
    await _processing(ctx, track_id, "analyzing", 0.1)
    started = time.perf_counter()
    features = await asyncio.to_thread(analyze_file, path)
    raw = embedding(features)
    scaler = await current_scaler(ctx)
    vector = embedding_scaler.transform(scaler, raw)
    props = analysis.feature_props(clean_features(feature_values(features)))
    await analysis_store.store(
        ctx.engine,
        track_id,
        props,
        raw.tolist(),
        vector.tolist(),
        scaler.version if scaler else 0,
        features.duration_seconds,
    )
    genre = await _classify(ctx, track_id, raw)
    await _processing(ctx, track_id, "similarity", 0.8)
    neighbours = await link_track(ctx, track_id, vector.tolist())
    await _processing(ctx, track_id, "completed", 1.0, completed=True)
    await ctx.publish(f"similarity.{track_id}", "similarity.updated", {"track_id": track_id})
    await ctx.publish(TRACK_UPDATED, TRACK_UPDATED, {"track_id": track_id})
    return {
        "trackId": track_id,
        "tempo": round(features.tempo_bpm, 2),
        "key": features.key,
        "mode": features.mode,
        "camelot": features.camelot,
        "neighbours": neighbours,
        "predictedGenre": genre,
        "seconds": round(time.perf_counter() - started, 3),
    }


async def _classify(ctx: JobContext, track_id: str, raw: Any) -> str | None:
    """With a genre model deployed, a track that has no genre gets the predicted one
    (IN_GENRE {source: "model"}); a genre a person gave is never replaced."""
    try:
        model = await graph_genre.deployed(ctx.engine)
    except NoModelError:
        return None
    prediction = genre_classifier.predict(model, np.asarray(raw, dtype=np.float64))
    written = await graph_genre.write_predictions(
        ctx.engine, [(track_id, prediction.genre, prediction.confidence)], model.version
    )
    return prediction.genre if written else None


def fill_and_scale(
    raw: npt.NDArray[np.float64], scaler: ScalerArtifact | None
) -> npt.NDArray[np.float64]:
    """A partial raw vector standardised like the catalogue's, its unknown dimensions at
    the catalogue mean (0), L2-normalised."""
    scaled = (raw - np.asarray(scaler.mean)) / np.asarray(scaler.scale) if scaler else raw
    filled = np.nan_to_num(scaled, nan=0.0)
    norm = float(np.linalg.norm(filled))
    return filled / norm if norm > 0 else filled


@handler("embed_features")
async def embed_features(ctx: JobContext) -> dict[str, Any]:
    """Features given through the API (setAudioFeatures) place a track in the similarity
    graph like an analysed one, from what they describe. A track whose embedding came
    from its audio or was given directly keeps it."""
    track_id = ctx.job["track_id"]
    [row] = await analysis.analysis_by_track(ctx.engine, [track_id])
    state = await analysis_store.embedding_state(ctx.engine, track_id)
    if row is None or row["features"] is None or state["kept"]:
        return {"trackId": track_id, "embedded": False}
    scaler = await current_scaler(ctx)
    vector = fill_and_scale(partial_embedding(row["features"]), scaler)
    if not vector.any():
        return {"trackId": track_id, "embedded": False}
    stored = await analysis_store.store_feature_embedding(
        ctx.engine, track_id, vector.tolist(), scaler.version if scaler else 0
    )
    if not stored:  # a vector was given or analysed since the check above: it stays
        return {"trackId": track_id, "embedded": False}
    neighbours = await link_track(ctx, track_id, vector.tolist())
    await ctx.publish(f"similarity.{track_id}", "similarity.updated", {"track_id": track_id})
    return {"trackId": track_id, "embedded": True, "neighbours": neighbours}


@handler("link_similarity")
async def link_similarity(ctx: JobContext) -> dict[str, Any]:
    """Edges for a track whose audio embedding was given through the API, as an analysed
    track gets them."""
    track_id = ctx.job["track_id"]
    [vector] = await analysis.embeddings_by_track(ctx.engine, [(track_id, "audio")])
    if vector is None or not any(vector):
        return {"trackId": track_id, "neighbours": 0}
    neighbours = await link_track(ctx, track_id, vector)
    await ctx.publish(f"similarity.{track_id}", "similarity.updated", {"track_id": track_id})
    return {"trackId": track_id, "neighbours": neighbours}


async def _collect(ctx: JobContext, query: str, column: str) -> tuple[list[str], list[Any]]:
    ids: list[str] = []
    values: list[Any] = []
    async for page in analysis_store.pages(ctx.engine, query, column):
        ids.extend(r["id"] for r in page)
        values.extend(r[column] for r in page)
    return ids, values


async def _reembed_from_features(ctx: JobContext, scaler: ScalerArtifact) -> None:
    """Tracks placed by API-given features are placed again with the new scaler."""
    ids, _ = await _collect(ctx, store_queries.FEATURE_EMBEDDED_PAGE_QUERY, "source")
    for start in range(0, len(ids), analysis_store.PAGE):
        batch = ids[start : start + analysis_store.PAGE]
        rows = []
        found = await analysis.analysis_by_track(ctx.engine, batch)
        for track_id, row in zip(batch, found, strict=True):
            if row is not None and row["features"] is not None:
                vector = fill_and_scale(partial_embedding(row["features"]), scaler)
                rows.append({"id": track_id, "vector": vector.tolist()})
        await analysis_store.set_embeddings(ctx.engine, rows, scaler.version, from_features=True)


@handler("rebuild_similarity")
async def rebuild_similarity(ctx: JobContext) -> dict[str, Any]:
    """Refit the scaler on the catalogue's raw vectors (a new version), re-embed every
    analysed track, then recompute every track's top-k and replace its edges in batches
    (each batch deletes and writes in one transaction, so no track is ever without)."""
    k, min_score = _k(ctx)
    started = time.perf_counter()
    ids, raws = await _collect(ctx, store_queries.RAW_EMBEDDINGS_PAGE_QUERY, "raw")
    await ctx.progress(0.1, "fitting")
    version = None
    if len(ids) >= 2:
        version = await models.next_version(ctx.engine, SCALER)
        scaler = embedding_scaler.fit(np.asarray(raws, dtype=np.float64), version)
        vectors = embedding_scaler.transform(scaler, np.asarray(raws, dtype=np.float64))
        rows = [{"id": i, "vector": v} for i, v in zip(ids, vectors.tolist(), strict=True)]
        await analysis_store.set_embeddings(ctx.engine, rows, version)
        await _reembed_from_features(ctx, scaler)
        metrics = {"samples": len(ids)}
        await models.save(ctx.engine, SCALER, version, scaler.to_json(), metrics, deploy=True)
    await ctx.progress(0.4, "searching")
    ids, stored = await _collect(ctx, store_queries.EMBEDDINGS_PAGE_QUERY, "vector")
    if not ids:  # nothing analysed yet (an empty library): nothing to link
        seconds = round(time.perf_counter() - started, 3)
        return {
            "tracks": 0,
            "edges": 0,
            "method": None,
            "scalerVersion": version,
            "seconds": seconds,
        }
    matrix = np.asarray(stored, dtype=np.float32).reshape(len(ids), -1)
    norms = np.linalg.norm(matrix, axis=1)
    usable = norms > 0  # a zero vector points nowhere: it gets no edges
    matrix = matrix[usable] / norms[usable, None]
    ids = [i for i, ok in zip(ids, usable.tolist(), strict=True) if ok]
    edges, method = await asyncio.to_thread(top_k, matrix, ids, k, min_score)
    await ctx.progress(0.7, "writing")
    written = await similarity.replace_edges(ctx.engine, ids, edges, method)
    return {
        "tracks": len(ids),
        "edges": written,
        "method": method,
        "scalerVersion": version,
        "seconds": round(time.perf_counter() - started, 3),
    }
