"""The audio features of a track: one table from which storage, validation and the REST
shapes are derived. Adding a feature is one row here plus its field in
schema/analysis.graphql (tests/test_feature_table.py holds the two together).

Names are snake_case, as resolvers receive GraphQL's camelCase fields. Bounds are what a
client may store through `setAudioFeatures` (inclusive); analysis stays well inside them.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from music.errors import ValidationError
from music.keys import MODES, PITCH_CLASSES

Kind = Literal["number", "string", "numbers"]


@dataclass(frozen=True)
class Feature:
    name: str
    kind: Kind
    unit: str
    description: str
    bounds: tuple[float, float] | None = None
    # Derived from other features (Camelot and Open Key from key and mode), never taken
    # from a client.
    derived: bool = False
    required: bool = False


FEATURES: tuple[Feature, ...] = (
    Feature("tempo", "number", "BPM", "Beats per minute.", (20.0, 300.0), required=True),
    Feature("tempo_confidence", "number", "0-1", "How sure the tempo estimate is.", (0.0, 1.0)),
    Feature("key", "string", "", "Tonic, spelled with sharps: C, C#, D … B."),
    Feature("mode", "string", "", "major or minor."),
    Feature("camelot", "string", "", "Camelot code, e.g. 8A for A minor.", derived=True),
    Feature("open_key", "string", "", "Open Key code, e.g. 1m for A minor.", derived=True),
    Feature("key_confidence", "number", "0-1", "How sure the key estimate is.", (0.0, 1.0)),
    Feature("loudness", "number", "dBFS", "RMS level.", (-120.0, 10.0)),
    Feature("lufs", "number", "LUFS", "Integrated loudness (EBU R128).", (-120.0, 10.0)),
    Feature("energy", "number", "0-1", "A heuristic estimate, not a measurement.", (0.0, 1.0)),
    Feature(
        "danceability", "number", "0-1", "A heuristic estimate, not a measurement.", (0.0, 1.0)
    ),
    Feature("spectral_centroid", "number", "Hz", "Brightness.", (0.0, 100_000.0)),
    Feature("spectral_rolloff", "number", "Hz", "85% energy roll-off.", (0.0, 100_000.0)),
    Feature("spectral_bandwidth", "number", "Hz", "Spread around the centroid.", (0.0, 100_000.0)),
    Feature("spectral_flatness", "number", "0-1", "Noise-likeness.", (0.0, 1.0)),
    Feature("zero_crossing_rate", "number", "0-1", "Sign changes per sample.", (0.0, 1.0)),
    Feature("onset_rate", "number", "1/s", "Note onsets per second.", (0.0, 100.0)),
    Feature("dynamic_range", "number", "dB", "Peak-to-loudness spread.", (0.0, 200.0)),
    Feature("mfcc_mean", "numbers", "", "Mean MFCCs (timbre), when the analysis stored them."),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)

# Inclusive bounds of the numeric features a client may store.
FEATURE_BOUNDS: dict[str, tuple[float, float]] = {
    f.name: f.bounds for f in FEATURES if f.bounds is not None
}

MAX_MFCC = 40


def camel_case(name: str) -> str:
    """The GraphQL spelling of a snake_case name: `open_key` -> `openKey`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def finite_number(value: float, field: str) -> float:
    """`value` as a float; a ValidationError naming `field` if it is NaN or infinite."""
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(f"'{field}' must be a finite number.", field=field)
    return number


def clean_features(values: Mapping[str, Any], spell: Callable[[str], str] = str) -> dict[str, Any]:
    """The features of `values` (snake_case keys) checked against the table: numbers
    finite and within bounds, tempo given, key and mode together and known. Every
    feature not given is None; derived ones (Camelot, Open Key) are not taken.

    `spell` names a feature in error messages and `field`: resolvers give the GraphQL
    argument's path (`input.tempo`), others keep the feature's own name."""
    clean: dict[str, Any] = dict.fromkeys(FEATURE_NAMES)
    for name, (low, high) in FEATURE_BOUNDS.items():
        value = values.get(name)
        if value is None:
            continue
        field = spell(name)
        number = finite_number(value, field)
        if not low <= number <= high:
            raise ValidationError(f"'{field}' must be between {low:g} and {high:g}.", field=field)
        clean[name] = number
    if clean["tempo"] is None:
        raise ValidationError(f"'{spell('tempo')}' is required.", field=spell("tempo"))
    key, mode = values.get("key"), values.get("mode")
    if (key is None) != (mode is None):
        message = f"'{spell('key')}' and '{spell('mode')}' go together."
        raise ValidationError(message, field=spell("key"))
    if key is not None:
        if key not in PITCH_CLASSES:
            message = f"'{spell('key')}' must be one of {', '.join(PITCH_CLASSES)}."
            raise ValidationError(message, field=spell("key"))
        if mode not in MODES:
            message = f"'{spell('mode')}' must be major or minor."
            raise ValidationError(message, field=spell("mode"))
        clean |= {"key": key, "mode": mode}
    mfcc = values.get("mfcc_mean")
    if mfcc is not None:
        field = spell("mfcc_mean")
        if not 1 <= len(mfcc) <= MAX_MFCC:
            raise ValidationError(f"'{field}' must hold 1 to {MAX_MFCC} values.", field=field)
        clean["mfcc_mean"] = [finite_number(v, field) for v in mfcc]
    return clean
