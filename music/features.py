"""The audio features of a track: one table from which storage, validation and the REST
shapes are derived. Adding a feature is one row here plus its field in
schema/analysis.graphql (tests/test_feature_table.py holds the two together).

Names are snake_case, as resolvers receive GraphQL's camelCase fields. Bounds are what a
client may store through `setAudioFeatures` (inclusive); analysis stays well inside them.
"""

from dataclasses import dataclass
from typing import Literal

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
