"""The stored form of a trained genre classifier (JSON on a `Model` node) and of its
predictions. Training and predicting belong to the workers (workers/genre_classifier.py);
the graph reads versions and checks that they fit the current embedding layout.

JSON, not a pickle: it lives as a string property on a graph node and a pickle runs code
when loaded; the parameters are plain numbers a softmax can be recomputed from.
"""

import json
from dataclasses import dataclass

from music._json import as_float, as_floats, as_int, as_list
from music.embedding import EMBEDDING_DIMS, LAYOUT_HASH

KIND = "genre_model"


@dataclass(frozen=True)
class Prediction:
    """The most likely genre, its probability and every genre's probability."""

    genre: str
    confidence: float
    probabilities: dict[str, float]


@dataclass(frozen=True)
class GenreModel:
    """A trained classifier: its hold-out scores and the parameters to recompute it.

    `coef` has one row per class, also for two classes (sklearn's single row w becomes
    -w/2 and +w/2, whose softmax is the same sigmoid), so prediction is always a softmax."""

    version: int
    trained_at_ms: int
    classes: tuple[str, ...]
    accuracy: float
    macro_f1: float
    n_train: int
    n_test: int
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    dropped: tuple[tuple[str, int], ...] = ()
    layout_hash: str = LAYOUT_HASH

    def to_json(self) -> str:
        """Plain JSON (finite floats only); `from_json` gives back an equal model."""
        return json.dumps(
            {
                "kind": KIND,
                "version": self.version,
                "trained_at_ms": self.trained_at_ms,
                "classes": list(self.classes),
                "accuracy": self.accuracy,
                "macro_f1": self.macro_f1,
                "n_train": self.n_train,
                "n_test": self.n_test,
                "mean": list(self.mean),
                "scale": list(self.scale),
                "coef": [list(row) for row in self.coef],
                "intercept": list(self.intercept),
                "dropped": [[genre, count] for genre, count in self.dropped],
                "layout_hash": self.layout_hash,
            },
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str) -> "GenreModel":
        """Parse `to_json` output; ValueError when it is malformed or inconsistent."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError("genre model is not valid JSON") from e
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ValueError("not a genre model")
        try:
            model = cls(
                version=as_int(data["version"]),
                trained_at_ms=as_int(data["trained_at_ms"]),
                classes=tuple(str(c) for c in as_list(data["classes"])),
                accuracy=as_float(data["accuracy"]),
                macro_f1=as_float(data["macro_f1"]),
                n_train=as_int(data["n_train"]),
                n_test=as_int(data["n_test"]),
                mean=as_floats(data["mean"]),
                scale=as_floats(data["scale"]),
                coef=tuple(as_floats(row) for row in as_list(data["coef"])),
                intercept=as_floats(data["intercept"]),
                dropped=tuple((str(g), as_int(n)) for g, n in as_list(data["dropped"])),
                layout_hash=str(data["layout_hash"]),
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"genre model is malformed: {e}") from e
        k, d = len(model.classes), len(model.mean)
        if len(model.scale) != d or len(model.intercept) != k or len(model.coef) != k:
            raise ValueError("genre model parameters have inconsistent shapes")
        if any(len(row) != d for row in model.coef) or any(s <= 0.0 for s in model.scale):
            raise ValueError("genre model parameters have inconsistent shapes")
        return model


def compatible(model: GenreModel) -> bool:
    """True when `model` was trained on the current embedding layout."""
    return model.layout_hash == LAYOUT_HASH and len(model.mean) == EMBEDDING_DIMS
