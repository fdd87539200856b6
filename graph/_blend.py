"""How recommendations are scored: strict bounds, closeness to targets, and the blend of
graph proximity, embedding similarity and target closeness. Pure functions.

The weights are part of the API contract (schema/exploration.graphql describes them);
change both together.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from music.keys import PITCH_CLASSES

# The blend, over the parts in use: the vector part needs a seed with an audio
# embedding, the target part a `target`.
WEIGHTS: dict[str, float] = {"graph": 0.4, "vector": 0.3, "target": 0.3}
# Graph proximity, 0-1.
GRAPH_WEIGHTS: dict[str, float] = {
    "similar": 0.5,
    "collections": 0.2,
    "listeners": 0.2,
    "seed": 0.1,
}

# attribute: (lowest, highest, the difference that counts as a full miss)
ATTRIBUTES: dict[str, tuple[float, float, float]] = {
    "tempo": (20.0, 300.0, 50.0),
    "energy": (0.0, 1.0, 1.0),
    "danceability": (0.0, 1.0, 1.0),
    "loudness": (-120.0, 10.0, 30.0),
    "key": (0.0, 11.0, 6.0),
    "mode": (0.0, 1.0, 1.0),
    "duration": (0.0, 86_400.0, 240.0),
}
WHOLE_ATTRIBUTES = frozenset({"key", "mode"})  # the others may be fractional

Attributes = dict[str, float]


def attributes_of(row: Mapping[str, Any]) -> dict[str, float | None]:
    """A candidate's attributes from its CANDIDATES_QUERY row (None: unknown)."""
    found: dict[str, float | None] = {}
    for attribute in ATTRIBUTES:
        value = row.get(attribute)
        if value is None:
            found[attribute] = None
        elif attribute == "key":
            found[attribute] = float(PITCH_CLASSES.index(value)) if value in PITCH_CLASSES else None
        elif attribute == "mode":
            found[attribute] = {"major": 1.0, "minor": 0.0}.get(value)
        else:
            found[attribute] = float(value)
    return found


def within(values: Mapping[str, float | None], low: Attributes, high: Attributes) -> bool:
    """Inside every bound; a track that lacks a bounded attribute is outside."""
    for bounds, inside in ((low, float.__ge__), (high, float.__le__)):
        for attribute, bound in bounds.items():
            value = values.get(attribute)
            if value is None or not inside(value, bound):
                return False
    return True


def miss(attribute: str, value: float | None, target: float) -> float:
    """How far a value is from its target, 0 (on it) to 1 (a full miss or unknown)."""
    if value is None:
        return 1.0
    diff = abs(value - target)
    if attribute == "key":
        diff = min(diff, 12.0 - diff)  # round the circle of pitch classes
    return min(diff / ATTRIBUTES[attribute][2], 1.0)


@dataclass
class Signals:
    """What ties a candidate to the seeds."""

    similar: float = 0.0  # best product of SIMILAR_TO scores along a path from a seed
    hops: int = 0
    collections: int = 0  # shared collections (public, or the caller's)
    listeners: int = 0  # users who played a seed and this track
    seed: str | None = None  # "SEED_ARTIST" or "SEED_GENRE"

    def proximity(self) -> float:
        parts = {
            "similar": self.similar,
            "collections": 1.0 - 0.5**self.collections,
            "listeners": 1.0 - 0.75**self.listeners,
            "seed": 1.0 if self.seed else 0.0,
        }
        return sum(GRAPH_WEIGHTS[name] * value for name, value in parts.items())


def _reason(signal: str, value: float, description: str) -> dict[str, Any]:
    return {"signal": signal, "value": round(value, 4), "description": description}


def score(
    signals: Signals,
    values: Mapping[str, float | None],
    cosine: float | None,
    target: Attributes,
    use_vector: bool,
) -> tuple[float, list[dict[str, Any]]]:
    """The blended score (0-1) of a candidate, and the reasons for it."""
    reasons: list[dict[str, Any]] = []
    if signals.similar > 0:
        text = f"{signals.hops} SIMILAR_TO hop(s) from a seed, strength {signals.similar:.2f}."
        reasons.append(_reason("SIMILAR_TRACK", signals.similar, text))
    if signals.collections:
        text = f"In {signals.collections} collection(s) with a seed."
        reasons.append(_reason("SHARED_COLLECTIONS", signals.collections, text))
    if signals.listeners:
        text = f"Played by {signals.listeners} listener(s) of a seed."
        reasons.append(_reason("SHARED_LISTENERS", signals.listeners, text))
    if signals.seed:
        what = "a seed artist" if signals.seed == "SEED_ARTIST" else "a seed genre"
        reasons.append(_reason(signals.seed, 1.0, f"By or in {what}."))
    parts = {"graph": signals.proximity()}
    if use_vector:
        parts["vector"] = max(cosine or 0.0, 0.0)
        if cosine is not None:
            text = f"Audio embedding cosine {cosine:.2f} with the seeds' centroid."
            reasons.append(_reason("EMBEDDING", cosine, text))
    if target:
        misses = {name: miss(name, values.get(name), aim) for name, aim in target.items()}
        parts["target"] = 1.0 - sum(misses.values()) / len(misses)
        for name, aim in target.items():
            value = values.get(name)
            shown = "unknown" if value is None else f"{value:g}"
            text = f"{name} {shown}, target {aim:g}."
            reasons.append(_reason("TARGET", 1.0 - misses[name], text))
    weight = sum(WEIGHTS[name] for name in parts)
    return sum(WEIGHTS[name] * value for name, value in parts.items()) / weight, reasons
