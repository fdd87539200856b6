"""The catalogue-fitted standardisation of raw embeddings, stored as plain JSON.

Why standardise: the raw embedding (`workers._audio_embedding`) keeps each dimension
roughly within -3..3 by fixed affine maps, but its spread still differs between
dimensions and between catalogues (a techno label's tempo dimensions barely move while its
MFCCs do). Cosine similarity weighs a dimension by its spread, so the one that varies most
would decide what "similar" means. Rescaling every dimension to zero mean and unit
variance over the catalogue gives each one the same say; the L2 normalisation that
follows makes cosine similarity a dot product (what `workers.similarity` expects).

Why versioned: a vector standardised with one fit is not comparable with one from
another. A rebuild fits a new artifact with the next version and re-embeds every track
with it; tracks store `embedding_version`, so a search never mixes vectors from two fits.
The artifact also records a hash of EMBEDDING_LAYOUT: when the raw layout changes, an old
artifact describes dimensions that no longer exist and `transform` refuses it.

The artifact is JSON, not a pickle: it is stored as a string property on a graph node,
and loading a pickle from a database would run whatever code it holds.
"""

import time

import numpy as np
import numpy.typing as npt
from sklearn.preprocessing import StandardScaler

from music.embedding import EMBEDDING_DIMS
from music.scaler_artifact import ScalerArtifact, compatible

Vectors = npt.NDArray[np.float32]

# Below this norm a vector has no direction to keep; it stays (near) zero instead of being
# blown up into noise by the division.
_MIN_NORM = 1e-12


def fit(raw: npt.ArrayLike, version: int, *, fitted_at_ms: int | None = None) -> ScalerArtifact:
    """Fit the standardisation on the catalogue's raw embeddings, shape (n, EMBEDDING_DIMS).

    A dimension that never varies gets scale 1 (sklearn's choice, kept): it then stays 0
    after centring instead of becoming a division by zero. At least two vectors are needed,
    since one has no variance to measure."""
    matrix = _matrix(raw)
    if matrix.shape[0] < 2:
        raise ValueError(f"fitting needs at least 2 embeddings, got {matrix.shape[0]}")
    scaler = StandardScaler().fit(matrix)
    return ScalerArtifact(
        version=version,
        fitted_at_ms=fitted_at_ms if fitted_at_ms is not None else int(time.time() * 1000),
        n_samples=int(matrix.shape[0]),
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(float(v) for v in scaler.scale_),
    )


def transform(artifact: ScalerArtifact | None, raw: npt.ArrayLike) -> Vectors:
    """Standardise with `artifact`, then L2-normalise each row: float32, the shape of `raw`
    ((n, EMBEDDING_DIMS) or (EMBEDDING_DIMS,)).

    With no artifact (the catalogue has not been fitted yet) the raw vector is only
    normalised; its fixed affine maps keep it usable meanwhile. A vector with no direction
    (all zeros, or exactly the catalogue mean) stays zero rather than becoming NaN."""
    array = np.asarray(raw, dtype=np.float64)
    single = array.ndim == 1
    matrix = _matrix(array[None, :] if single else array)
    if artifact is not None:
        if not compatible(artifact):
            raise ValueError(
                f"scaler artifact version {artifact.version} was fitted on another "
                "embedding layout; refit it"
            )
        matrix = (matrix - np.asarray(artifact.mean)) / np.asarray(artifact.scale)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = (matrix / np.maximum(norms, _MIN_NORM)).astype(np.float32)
    return unit[0] if single else unit


def _matrix(raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
    matrix = np.asarray(raw, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != EMBEDDING_DIMS:
        raise ValueError(f"expected shape (n, {EMBEDDING_DIMS}), got {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("embeddings must be finite")
    return matrix
