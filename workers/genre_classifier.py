"""A genre classifier on analysed tracks, trained with scikit-learn, deployed as JSON.

Features are the raw embedding (`workers._audio_embedding`): it already summarises
rhythm, key, loudness and timbre in 64 numbers, and using the raw vector (not the
catalogue-standardised one) keeps the model independent of `embedding_scaler` versions.
The model is a StandardScaler and a multinomial logistic regression (sklearn's
LogisticRegression is multinomial for more than two classes): linear, so it trains in
milliseconds on a catalogue and its probabilities are a softmax anyone can recompute.

Evaluation: a stratified hold-out (`test_size`, default a quarter) gives the accuracy
and macro-F1 reported with the model (macro so a small genre counts as much as a large
one); then the deployed model is refitted on every example, since with a few dozen tracks
per genre each one matters.

Minimum data: a genre needs MIN_PER_GENRE examples (one to hold out, two to learn
from); genres below that are dropped and listed in `GenreModel.dropped` rather than
refusing the whole catalogue for one stray tag. After that, at least two genres and
MIN_TOTAL examples must remain, otherwise `train` raises ValueError (VALIDATION_ERROR).

Storage is JSON, not a pickle (it lives as a string property on a graph node and a
pickle runs code when loaded): the fitted scaler and regression parameters are stored as
plain numbers and `predict_proba` recomputes the pipeline's output with numpy.
"""

import math
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from music.embedding import EMBEDDING_DIMS
from music.genre_artifact import GenreModel, Prediction, compatible

MIN_PER_GENRE = 3
MIN_TOTAL = 8
MAX_ITER = 5000  # lbfgs on standardised features converges in far fewer; this never binds


def fit_pipeline(X: npt.ArrayLike, labels: Sequence[str]) -> Pipeline:
    """The sklearn estimator `train` deploys, fitted on (X, labels) as given. Deterministic
    (lbfgs has no randomness), so the same data gives the same parameters."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=MAX_ITER)).fit(
        np.asarray(X, dtype=np.float64), list(labels)
    )


def train(
    X: npt.ArrayLike,
    labels: Sequence[str],
    version: int,
    *,
    test_size: float = 0.25,
    seed: int = 0,
    trained_at_ms: int | None = None,
) -> GenreModel:
    """Train on raw embeddings X (n, EMBEDDING_DIMS) labelled with genre names.

    Genres with fewer than MIN_PER_GENRE examples are dropped (listed in `dropped`);
    ValueError when fewer than two genres or MIN_TOTAL examples remain, or the input is
    malformed. The hold-out holds at least as many examples as there are genres, which a
    stratified split needs."""
    matrix = np.asarray(X, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != EMBEDDING_DIMS:
        raise ValueError(f"expected X of shape (n, {EMBEDDING_DIMS}), got {matrix.shape}")
    if len(labels) != matrix.shape[0]:
        raise ValueError(f"{matrix.shape[0]} embeddings but {len(labels)} labels")
    if not np.isfinite(matrix).all():
        raise ValueError("embeddings must be finite")
    if any(not isinstance(g, str) or not g.strip() for g in labels):
        raise ValueError("every label must be a non-empty genre name")
    if not 0.0 < test_size < 1.0:
        raise ValueError("test_size must be between 0 and 1")

    counts = Counter(labels)
    dropped = tuple(sorted((g, n) for g, n in counts.items() if n < MIN_PER_GENRE))
    keep = np.array([counts[g] >= MIN_PER_GENRE for g in labels], dtype=bool)
    matrix, kept = matrix[keep], [g for g, k in zip(labels, keep, strict=True) if k]
    n_classes = len(set(kept))
    if n_classes < 2:
        raise ValueError(
            f"training needs at least 2 genres with {MIN_PER_GENRE} or more examples each, "
            f"got {n_classes}"
        )
    if len(kept) < MIN_TOTAL:
        raise ValueError(f"training needs at least {MIN_TOTAL} examples, got {len(kept)}")

    n_test = max(math.ceil(test_size * len(kept)), n_classes)
    X_train, X_test, y_train, y_test = train_test_split(
        matrix, kept, test_size=n_test, stratify=kept, random_state=seed
    )
    predicted = fit_pipeline(X_train, y_train).predict(X_test)
    deployed = fit_pipeline(matrix, kept)
    scaler, regression = deployed[0], deployed[-1]
    coef = np.asarray(regression.coef_, dtype=np.float64)
    intercept = np.asarray(regression.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # binary: sigmoid(w.x + b) == softmax([-z/2, z/2])[1]
        coef, intercept = (
            np.vstack([-coef / 2, coef / 2]),
            np.concatenate([-intercept / 2, intercept / 2]),
        )
    return GenreModel(
        version=version,
        trained_at_ms=trained_at_ms if trained_at_ms is not None else int(time.time() * 1000),
        classes=tuple(str(c) for c in regression.classes_),
        accuracy=float(accuracy_score(y_test, predicted)),
        macro_f1=float(f1_score(y_test, predicted, average="macro", zero_division=0)),
        n_train=len(y_train),
        n_test=len(y_test),
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(float(v) for v in scaler.scale_),
        coef=tuple(tuple(float(v) for v in row) for row in coef),
        intercept=tuple(float(v) for v in intercept),
        dropped=dropped,
    )


def predict_proba(model: GenreModel, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Class probabilities, columns in `model.classes` order: (n, k) for X (n, d), (k,) for
    one vector. The same numbers as the sklearn pipeline's predict_proba, from JSON alone."""
    if not compatible(model):
        raise ValueError(
            f"genre model version {model.version} was trained on another embedding layout"
        )
    array = np.asarray(X, dtype=np.float64)
    single = array.ndim == 1
    matrix = array[None, :] if single else array
    if matrix.ndim != 2 or matrix.shape[1] != len(model.mean):
        raise ValueError(f"expected vectors of {len(model.mean)} values, got {array.shape}")
    standard = (matrix - np.asarray(model.mean)) / np.asarray(model.scale)
    logits = standard @ np.asarray(model.coef).T + np.asarray(model.intercept)
    logits -= logits.max(axis=1, keepdims=True)  # softmax is shift-invariant; exp can't overflow
    exp = np.exp(logits)
    probabilities: npt.NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
    return probabilities[0] if single else probabilities


def predict(model: GenreModel, x: npt.ArrayLike) -> Prediction:
    """The genre of one raw embedding."""
    probabilities = predict_proba(model, np.asarray(x, dtype=np.float64).reshape(-1))
    best = int(np.argmax(probabilities))
    return Prediction(
        genre=model.classes[best],
        confidence=float(probabilities[best]),
        probabilities={c: float(p) for c, p in zip(model.classes, probabilities, strict=True)},
    )
