"""The genre classifier in the graph: what it learns from, the versions it has, the one in
use, and the genres it predicts for tracks nobody has labelled.

Versions are `Model` nodes of kind "genre" (graph/models.py) whose artefact is the JSON of
`workers.genre_classifier.GenreModel` and whose metrics are its hold-out scores.
"""

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

from graph import ids, models
from graph.engine import GraphEngine, Row
from graph.names import name_key
from graph.queries import genre_model as q
from music.embedding import EMBEDDING_DIMS
from music.errors import DomainError
from music.genre_artifact import GenreModel, compatible

KIND = "genre"
PAGE = 5000
WRITE_BATCH = 1000


class NoModelError(DomainError):
    """No genre model is deployed (or the deployed one no longer fits the analysis)."""

    code = "NO_MODEL"


async def _pages(engine: GraphEngine, query: str) -> AsyncIterator[list[Row]]:
    after = ""
    while True:
        rows = await engine.read("genre_pages", query, {"after": after, "first": PAGE})
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


def _usable(row: Row) -> bool:
    """A vector of the current layout (an older analysis is left until it is redone)."""
    return row["raw"] is not None and len(row["raw"]) == EMBEDDING_DIMS


async def training_data(engine: GraphEngine) -> tuple[list[str], list[list[float]], list[str]]:
    """Ids, raw embeddings and genre names of the analysed tracks with a human genre.

    A track with several genres is labelled with the one most tracks share (ties by name):
    a classifier with one label per example learns the catalogue's main genres, and the
    same vector under two labels would only teach it to hesitate."""
    found: list[tuple[str, list[float], list[str]]] = []
    async for page in _pages(engine, q.TRAINING_PAGE_QUERY):
        found.extend((r["id"], list(r["raw"]), list(r["genres"])) for r in page if _usable(r))
    counts = Counter(genre for _, _, genres in found for genre in set(genres))
    labels = [min(set(genres), key=lambda g: (-counts[g], g)) for _, _, genres in found]
    return [i for i, _, _ in found], [raw for _, raw, _ in found], labels


async def unlabelled(engine: GraphEngine) -> AsyncIterator[list[tuple[str, list[float]]]]:
    """The analysed tracks with no genre at all, as (id, raw embedding), page by page."""
    async for page in _pages(engine, q.UNLABELLED_PAGE_QUERY):
        batch = [(r["id"], list(r["raw"])) for r in page if _usable(r)]
        if batch:
            yield batch


async def write_predictions(
    engine: GraphEngine, predictions: Sequence[tuple[str, str, float]], version: int
) -> int:
    """Write `(track id, genre name, confidence)` as IN_GENRE edges with source "model",
    onto tracks that still have no genre; returns how many were written."""
    rows = [
        {
            "id": track_id,
            "key": name_key(genre),
            "name": genre,
            "genre_id": ids.new_id("Genre"),
            "confidence": float(confidence),
        }
        for track_id, genre, confidence in predictions
    ]
    batches = [
        {"rows": rows[i : i + WRITE_BATCH], "version": version}
        for i in range(0, len(rows), WRITE_BATCH)
    ]
    result = await engine.write_batches("genre_predictions", q.WRITE_PREDICTIONS_QUERY, batches)
    return sum(int(r["written"]) for r in result)


async def predicted_genres(engine: GraphEngine, track_ids: Sequence[str]) -> list[Row]:
    """The model's genre edges on these tracks: `{id, genre, confidence, version}`."""
    return await engine.read(
        "predicted_genres", q.PREDICTED_GENRES_QUERY, {"ids": list(dict.fromkeys(track_ids))}
    )


def model_row(model: Row) -> Row:
    """A stored version as the GraphQL `GenreModel` reads it (metrics flattened)."""
    metrics: dict[str, Any] = model.get("metrics") or {}
    return {
        "version": model["version"],
        "accuracy": float(metrics.get("accuracy", 0.0)),
        "macro_f1": float(metrics.get("macro_f1", 0.0)),
        "train_tracks": int(metrics.get("train_tracks", 0)),
        "test_tracks": int(metrics.get("test_tracks", 0)),
        "classes": list(metrics.get("classes", [])),
        "created_at": model["created_at"],
        "deployed": bool(model.get("deployed")),
    }


async def list_versions(engine: GraphEngine) -> list[Row]:
    """Every genre model version, newest first."""
    return [model_row(m) for m in await models.list_models(engine, KIND)]


async def deploy(engine: GraphEngine, version: int) -> Row:
    """Put `version` in use; NOT_FOUND when there is no such version."""
    return model_row(await models.deploy(engine, KIND, version))


async def deployed(engine: GraphEngine) -> GenreModel:
    """The classifier in use; NO_MODEL when none is deployed or it was trained on an
    embedding layout the analysis no longer produces."""
    found = await models.deployed(engine, KIND)
    if found is None:
        raise NoModelError("No genre model is deployed; train one first.")
    model = GenreModel.from_json(found[1])
    if not compatible(model):
        raise NoModelError(
            "The deployed genre model was trained on an older analysis; train a new one.",
            version=model.version,
        )
    return model
