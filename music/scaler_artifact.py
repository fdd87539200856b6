"""The stored form of one catalogue standardisation fit of raw embeddings (JSON on a
`Model` node). Fitting and applying it is the workers' business (workers/embedding_scaler.py,
which also says why it is versioned); reading and checking it is everyone's.

JSON, not a pickle: it is stored as a string property on a graph node, and loading a pickle
from a database would run whatever code it holds.
"""

import json
from dataclasses import dataclass

from music._json import as_floats, as_int
from music.embedding import EMBEDDING_DIMS, LAYOUT_HASH

KIND = "embedding_scaler"


@dataclass(frozen=True)
class ScalerArtifact:
    """One fit of the catalogue standardisation: subtract `mean`, divide by `scale`."""

    version: int
    fitted_at_ms: int
    n_samples: int
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    layout_hash: str = LAYOUT_HASH

    def to_json(self) -> str:
        """Plain JSON (finite floats only); `from_json` gives back an equal artifact."""
        return json.dumps(
            {
                "kind": KIND,
                "version": self.version,
                "fitted_at_ms": self.fitted_at_ms,
                "n_samples": self.n_samples,
                "layout_hash": self.layout_hash,
                "mean": list(self.mean),
                "scale": list(self.scale),
            },
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str) -> "ScalerArtifact":
        """Parse `to_json` output; ValueError when it is malformed. An artifact for another
        layout still parses (so it can be reported); `compatible` tells it apart."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError("scaler artifact is not valid JSON") from e
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ValueError("not an embedding scaler artifact")
        try:
            artifact = cls(
                version=as_int(data["version"]),
                fitted_at_ms=as_int(data["fitted_at_ms"]),
                n_samples=as_int(data["n_samples"]),
                mean=as_floats(data["mean"]),
                scale=as_floats(data["scale"]),
                layout_hash=str(data["layout_hash"]),
            )
        except KeyError as e:
            raise ValueError(f"scaler artifact lacks {e.args[0]!r}") from e
        if len(artifact.mean) != len(artifact.scale):
            raise ValueError("scaler artifact has mean and scale of different lengths")
        if any(s <= 0.0 for s in artifact.scale):
            raise ValueError("scaler artifact has a non-positive scale")
        return artifact


def compatible(artifact: ScalerArtifact) -> bool:
    """True when `artifact` was fitted on the current embedding layout."""
    return artifact.layout_hash == LAYOUT_HASH and len(artifact.mean) == EMBEDDING_DIMS
