"""The raw embedding of analysed features, laid out as `music.embedding.EMBEDDING_LAYOUT`
(whose docstring says why each dimension is scaled as it is).
"""

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from music.embedding import EMBEDDING_DIMS
from music.keys import camelot_number

if TYPE_CHECKING:
    from workers.analysis import AudioFeatures


def _circle(fraction: float) -> tuple[float, float]:
    angle = 2.0 * math.pi * fraction
    return math.sin(angle), math.cos(angle)


def _affine(
    values: tuple[float, ...], centre: tuple[float, float, float], scale: tuple[float, float, float]
) -> npt.NDArray[np.float64]:
    """(value - centre) / scale, with c0 and c1 (overall level and spectral tilt, far larger
    than the rest) given their own centre and scale and every later coefficient the third."""
    n = len(values)
    centres = np.array([centre[0], centre[1], *([centre[2]] * (n - 2))])[:n]
    scales = np.array([scale[0], scale[1], *([scale[2]] * (n - 2))])[:n]
    return np.asarray((np.asarray(values) - centres) / scales)


def embedding(features: "AudioFeatures") -> npt.NDArray[np.float32]:
    """The 64-dimensional float32 vector of `features`, laid out as EMBEDDING_LAYOUT."""
    lufs = features.integrated_lufs
    head = [
        *_circle(math.log2(features.tempo_bpm)),
        features.tempo_confidence,
        *_circle((camelot_number(features.key, features.mode) - 1) / 12.0),
        1.0 if features.mode == "major" else -1.0,
        features.key_confidence,
        features.energy,
        features.danceability,
        (features.loudness_db + 20.0) / 10.0,
        ((lufs if lufs is not None else features.loudness_db) + 14.0) / 10.0,
        (features.loudness_range_lu or 0.0) / 10.0,
        features.dynamic_range_db / 20.0,
        math.log2(max(features.spectral_centroid_hz, 1.0) / 2000.0),
        math.log2(max(features.spectral_rolloff_hz, 1.0) / 4000.0),
        math.log2(max(features.spectral_bandwidth_hz, 1.0) / 2000.0),
        (math.log10(max(features.spectral_flatness, 1e-10)) + 3.0) / 2.0,
        features.zero_crossing_rate * 10.0,
        features.onset_rate / 4.0,
    ]
    mfcc_mean = _affine(features.mfcc_mean, (-250.0, 100.0, 0.0), (150.0, 50.0, 20.0))
    mfcc_std = _affine(features.mfcc_std, (0.0, 0.0, 0.0), (50.0, 40.0, 15.0))
    vector = np.concatenate(
        [
            head,
            mfcc_mean,
            mfcc_std,
            np.asarray(features.chroma_mean),
            (np.asarray(features.contrast_mean) - 30.0) / 10.0,
        ]
    ).astype(np.float32)
    if vector.shape != (EMBEDDING_DIMS,):
        raise ValueError(f"embedding has {vector.size} dimensions, expected {EMBEDDING_DIMS}")
    return vector


def partial_embedding(values: Mapping[str, Any]) -> npt.NDArray[np.float64]:
    """The embedding of features given through the API (GraphQL field names, as stored),
    NaN where they say nothing: loudness range, MFCC spreads, chroma and spectral contrast
    never come that way, and any feature may be left out. The caller fills the gaps with
    the catalogue's mean (0 once standardised), so a partly described track sits where
    its known features put it and nowhere in particular on the rest."""
    nan = math.nan

    def get(name: str) -> float:
        value = values.get(name)
        return nan if value is None else float(value)

    tempo = get("tempo")
    key, mode = values.get("key"), values.get("mode")
    loudness, lufs = get("loudness"), get("lufs")
    head = [
        *(_circle(math.log2(tempo)) if tempo == tempo and tempo > 0 else (nan, nan)),
        get("tempo_confidence"),
        *(_circle((camelot_number(key, mode) - 1) / 12.0) if key and mode else (nan, nan)),
        (1.0 if mode == "major" else -1.0) if mode else nan,
        get("key_confidence"),
        get("energy"),
        get("danceability"),
        (loudness + 20.0) / 10.0,
        ((lufs if lufs == lufs else loudness) + 14.0) / 10.0,
        nan,
        get("dynamic_range") / 20.0,
        *(
            math.log2(max(v, 1.0) / ref) if v == v else nan
            for v, ref in (
                (get("spectral_centroid"), 2000.0),
                (get("spectral_rolloff"), 4000.0),
                (get("spectral_bandwidth"), 2000.0),
            )
        ),
        (math.log10(max(get("spectral_flatness"), 1e-10)) + 3.0) / 2.0
        if values.get("spectral_flatness") is not None
        else nan,
        get("zero_crossing_rate") * 10.0,
        get("onset_rate") / 4.0,
    ]
    mfcc = values.get("mfcc_mean")
    mfcc_mean = (
        _affine(tuple(float(v) for v in mfcc), (-250.0, 100.0, 0.0), (150.0, 50.0, 20.0))
        if mfcc is not None and len(mfcc) == 13
        else np.full(13, nan)
    )
    rest = np.full(EMBEDDING_DIMS - len(head) - 13, nan)
    return np.concatenate([np.asarray(head, dtype=np.float64), mfcc_mean, rest])
