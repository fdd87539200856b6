"""The catalogue standardisation: fitted statistics, normalisation, JSON and layout checks."""

import dataclasses
import json

import numpy as np
import numpy.typing as npt
import pytest

from music.embedding import LAYOUT_HASH
from music.scaler_artifact import ScalerArtifact, compatible
from workers.embedding_scaler import fit, transform
from workers.similarity import validate

DIMS = 64
CONSTANT_DIM = 5


def _catalogue(n: int = 200, seed: int = 0) -> npt.NDArray[np.float64]:
    """Raw vectors whose dimensions differ wildly in centre and spread, one constant."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-3.0, 3.0, DIMS)
    spreads = rng.uniform(0.01, 5.0, DIMS)
    raw = centres + spreads * rng.standard_normal((n, DIMS))
    raw[:, CONSTANT_DIM] = 0.7
    return raw


def test_fit_standardises_every_column() -> None:
    raw = _catalogue()
    artifact = fit(raw, version=3, fitted_at_ms=1234)
    standard = (raw - np.asarray(artifact.mean)) / np.asarray(artifact.scale)

    varying = np.arange(DIMS) != CONSTANT_DIM
    np.testing.assert_allclose(standard.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(standard[:, varying].std(axis=0), 1.0, rtol=1e-9)
    assert artifact.scale[CONSTANT_DIM] == 1.0  # sklearn's choice for zero variance, kept
    np.testing.assert_allclose(standard[:, CONSTANT_DIM], 0.0, atol=1e-12)
    assert (artifact.version, artifact.fitted_at_ms, artifact.n_samples) == (3, 1234, 200)
    assert compatible(artifact)


def test_transform_is_standardise_then_unit_norm() -> None:
    raw = _catalogue()
    artifact = fit(raw, version=1)
    vectors = transform(artifact, raw)

    standard = (raw - np.asarray(artifact.mean)) / np.asarray(artifact.scale)
    expected = standard / np.linalg.norm(standard, axis=1, keepdims=True)
    assert vectors.dtype == np.float32 and vectors.shape == raw.shape
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    validate(vectors, [str(i) for i in range(len(raw))], DIMS)  # what similarity accepts
    # Cosine similarity of the standardised vectors is now a dot product.
    cosine = standard[0] @ standard[1] / np.linalg.norm(standard[0]) / np.linalg.norm(standard[1])
    assert float(vectors[0] @ vectors[1]) == pytest.approx(cosine, abs=1e-6)


def test_transform_one_vector_keeps_its_shape() -> None:
    raw = _catalogue()
    artifact = fit(raw, version=1)
    one = transform(artifact, raw[7])
    assert one.shape == (DIMS,) and one.dtype == np.float32
    np.testing.assert_array_equal(one, transform(artifact, raw[7:8])[0])


def test_without_artifact_only_normalises() -> None:
    raw = _catalogue()[:10]
    vectors = transform(None, raw)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)


def test_a_vector_without_direction_stays_finite() -> None:
    raw = _catalogue()
    artifact = fit(raw, version=1)
    zero = transform(None, np.zeros(DIMS))
    at_mean = transform(artifact, np.asarray(artifact.mean))
    for vector in (zero, at_mean):
        assert np.isfinite(vector).all()
        np.testing.assert_array_equal(vector, 0.0)


def test_json_round_trip_is_identical() -> None:
    raw = _catalogue()
    artifact = fit(raw, version=2)
    text = artifact.to_json()
    json.loads(text)  # plain JSON
    again = ScalerArtifact.from_json(text)
    assert again == artifact
    np.testing.assert_array_equal(transform(again, raw), transform(artifact, raw))


def test_a_changed_layout_is_detected() -> None:
    artifact = fit(_catalogue(), version=1)
    stale = ScalerArtifact.from_json(dataclasses.replace(artifact, layout_hash="0" * 64).to_json())
    assert compatible(artifact)
    assert not compatible(stale)
    with pytest.raises(ValueError, match="another embedding layout"):
        transform(stale, _catalogue()[:1])
    assert artifact.layout_hash == LAYOUT_HASH


@pytest.mark.parametrize(
    "raw",
    [
        np.zeros((1, DIMS)),  # one vector has no variance
        np.zeros((0, DIMS)),
        np.zeros((5, DIMS - 1)),
        np.zeros(DIMS),
        np.full((3, DIMS), np.nan),
    ],
)
def test_fit_refuses_bad_input(raw: npt.NDArray[np.float64]) -> None:
    with pytest.raises(ValueError):
        fit(raw, version=1)


def test_transform_refuses_bad_shapes() -> None:
    with pytest.raises(ValueError):
        transform(None, np.zeros((2, 3)))
    with pytest.raises(ValueError):
        transform(None, np.full(DIMS, np.inf))


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"kind": "genre_model"}),
        json.dumps({"kind": "embedding_scaler", "version": 1}),
        json.dumps(
            {
                "kind": "embedding_scaler",
                "version": 1,
                "fitted_at_ms": 0,
                "n_samples": 2,
                "layout_hash": "x",
                "mean": [0.0, 1.0],
                "scale": [1.0, 0.0],  # a zero scale would divide by zero
            }
        ),
        json.dumps(
            {
                "kind": "embedding_scaler",
                "version": "1",
                "fitted_at_ms": 0,
                "n_samples": 2,
                "layout_hash": "x",
                "mean": [0.0],
                "scale": [1.0],
            }
        ),
    ],
)
def test_from_json_refuses_malformed_artifacts(text: str) -> None:
    with pytest.raises(ValueError):
        ScalerArtifact.from_json(text)
