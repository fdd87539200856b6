"""The genre classifier, trained on real analyses of three kinds of generated music."""

import dataclasses
import json
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pytest

from music.embedding import EMBEDDING_DIMS
from music.genre_artifact import GenreModel, compatible
from music.keys import Mode
from tests import audio_fixtures
from workers.analysis import analyze_signal, embedding, warm_up
from workers.genre_classifier import MIN_PER_GENRE, fit_pipeline, predict, predict_proba, train

SR = 22050
SECONDS = 5.0
TRAIN_SEEDS = range(6)
HELD_OUT_SEED = 6
KEYS: tuple[tuple[str, Mode], ...] = audio_fixtures.CHORD_KEYS


def _peak(y: npt.NDArray[np.float64], peak: float) -> npt.NDArray[np.float32]:
    return (y * (peak / float(np.max(np.abs(y))))).astype(np.float32)


def techno(seed: int) -> npt.NDArray[np.float32]:
    """Fast clicks over bright (high-passed) noise, loud."""
    bpm = 126.0 + 3.0 * seed
    noise = np.diff(np.random.default_rng(seed).standard_normal(round(SECONDS * SR)), prepend=0)
    clicks = audio_fixtures.click_track(bpm, SECONDS, SR).astype(np.float64)
    return _peak(clicks + (0.1 + 0.02 * seed) * noise, 0.9)


def ambient(seed: int) -> npt.NDArray[np.float32]:
    """Slow, soft chords: a chord every 2.5 s, quiet, no beat."""
    key, mode = KEYS[seed % len(KEYS)]
    chords = audio_fixtures.chord_progression(key, mode, SECONDS, SR, chord_seconds=2.5)
    return _peak(chords.astype(np.float64), 0.12 + 0.01 * seed)


def pop(seed: int) -> npt.NDArray[np.float32]:
    """Mid-tempo chords on a drum beat."""
    key, mode = KEYS[(seed + 3) % len(KEYS)]
    return audio_fixtures.mixture(96.0 + 4.0 * seed, key, mode, SECONDS, SR)


GENRES: dict[str, Callable[[int], npt.NDArray[np.float32]]] = {
    "techno": techno,
    "ambient": ambient,
    "pop": pop,
}


def _embed(signal: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return embedding(analyze_signal(signal, SR))


@pytest.fixture(scope="module", autouse=True)
def _warm() -> Iterator[None]:
    warm_up()
    yield


@pytest.fixture(scope="module")
def catalogue() -> tuple[npt.NDArray[np.float32], list[str]]:
    """Six analysed tracks per genre, each with its own seed, tempo or key."""
    labels = [genre for genre in GENRES for _ in TRAIN_SEEDS]
    X = np.stack([_embed(make(seed)) for make in GENRES.values() for seed in TRAIN_SEEDS])
    return X, labels


@pytest.fixture(scope="module")
def held_out() -> dict[str, npt.NDArray[np.float32]]:
    """One new track per genre, never seen in training."""
    return {genre: _embed(make(HELD_OUT_SEED)) for genre, make in GENRES.items()}


@pytest.fixture(scope="module")
def model(catalogue: tuple[npt.NDArray[np.float32], list[str]]) -> GenreModel:
    X, labels = catalogue
    return train(X, labels, version=1, trained_at_ms=42)


def test_held_out_accuracy_is_well_above_chance(model: GenreModel) -> None:
    assert model.classes == ("ambient", "pop", "techno")
    assert (model.n_train, model.n_test) == (13, 5)  # ceil(0.25 * 18) held out
    assert model.accuracy >= 0.8  # chance is 1/3
    assert model.macro_f1 >= 0.8
    assert model.dropped == ()
    assert (model.version, model.trained_at_ms) == (1, 42)
    assert compatible(model)


def test_new_tracks_get_their_genre(
    model: GenreModel, held_out: dict[str, npt.NDArray[np.float32]]
) -> None:
    for genre, vector in held_out.items():
        prediction = predict(model, vector)
        assert prediction.genre == genre
        assert prediction.confidence > 0.5
        assert set(prediction.probabilities) == set(model.classes)
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
        assert prediction.confidence == max(prediction.probabilities.values())


def test_numpy_prediction_equals_the_sklearn_pipeline(
    model: GenreModel,
    catalogue: tuple[npt.NDArray[np.float32], list[str]],
    held_out: dict[str, npt.NDArray[np.float32]],
) -> None:
    X, labels = catalogue
    pipeline = fit_pipeline(X, labels)
    assert tuple(pipeline.classes_) == model.classes
    new = np.stack(list(held_out.values()))
    for vectors in (X, new):
        np.testing.assert_allclose(
            predict_proba(model, vectors), pipeline.predict_proba(vectors), atol=1e-6
        )


def test_two_genres_use_the_same_softmax(
    catalogue: tuple[npt.NDArray[np.float32], list[str]],
) -> None:
    X, labels = catalogue
    mask = np.array([g != "pop" for g in labels])
    two = [g for g in labels if g != "pop"]
    binary = train(X[mask], two, version=1)
    assert binary.classes == ("ambient", "techno") and len(binary.coef) == 2
    np.testing.assert_allclose(
        predict_proba(binary, X), fit_pipeline(X[mask], two).predict_proba(X), atol=1e-6
    )


def test_json_round_trip_predicts_the_same(
    model: GenreModel, held_out: dict[str, npt.NDArray[np.float32]]
) -> None:
    text = model.to_json()
    assert "pickle" not in text and json.loads(text)["kind"] == "genre_model"
    again = GenreModel.from_json(text)
    assert again == model
    for vector in held_out.values():
        assert predict(again, vector) == predict(model, vector)


def test_rare_genres_are_dropped_and_reported(
    catalogue: tuple[npt.NDArray[np.float32], list[str]],
) -> None:
    X, labels = catalogue
    rare = MIN_PER_GENRE - 1
    with_rare = train(np.vstack([X, X[:rare]]), [*labels, *["jazz"] * rare], version=2)
    assert with_rare.dropped == (("jazz", rare),)
    assert "jazz" not in with_rare.classes
    assert GenreModel.from_json(with_rare.to_json()).dropped == (("jazz", rare),)


def test_refuses_too_little_data(catalogue: tuple[npt.NDArray[np.float32], list[str]]) -> None:
    X, labels = catalogue
    with pytest.raises(ValueError, match="at least 2 genres"):
        train(X[:6], labels[:6], version=1)  # one genre
    with pytest.raises(ValueError, match="at least 2 genres"):
        # Two genres, but one has too few examples to keep: one genre is left.
        train(X[:8], labels[:8], version=1)
    with pytest.raises(ValueError, match="at least 8 examples"):
        train(X[3:9], labels[3:9], version=1)  # 3 techno + 3 ambient


@pytest.mark.parametrize(
    "mangle",
    [
        lambda X, y: (X[:, :10], y),  # not an embedding
        lambda X, y: (X, y[:-1]),  # one label short
        lambda X, y: (np.where(np.arange(len(X))[:, None] == 0, np.nan, X), y),
        lambda X, y: (X, ["", *y[1:]]),
    ],
)
def test_refuses_malformed_input(
    catalogue: tuple[npt.NDArray[np.float32], list[str]],
    mangle: Callable[
        [npt.NDArray[np.float32], list[str]], tuple[npt.NDArray[np.float32], list[str]]
    ],
) -> None:
    X, labels = mangle(*catalogue)
    with pytest.raises(ValueError):
        train(X, labels, version=1)


def test_refuses_a_model_for_another_layout(model: GenreModel) -> None:
    stale = dataclasses.replace(model, layout_hash="0" * 64)
    assert not compatible(stale)
    with pytest.raises(ValueError, match="another embedding layout"):
        predict(stale, np.zeros(EMBEDDING_DIMS))


def test_from_json_refuses_malformed_models(model: GenreModel) -> None:
    data = json.loads(model.to_json())
    for broken in (
        {**data, "kind": "embedding_scaler"},
        {**data, "intercept": data["intercept"][:-1]},
        {**data, "coef": [row[:-1] for row in data["coef"]]},
        {k: v for k, v in data.items() if k != "classes"},
        {**data, "accuracy": "high"},
    ):
        with pytest.raises(ValueError):
            GenreModel.from_json(json.dumps(broken))
    with pytest.raises(ValueError):
        GenreModel.from_json("{")


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1])
def test_refuses_a_hold_out_of_nothing_or_everything(
    catalogue: tuple[npt.NDArray[np.float32], list[str]], test_size: float
) -> None:
    with pytest.raises(ValueError, match="test_size"):
        train(*catalogue, version=1, test_size=test_size)
