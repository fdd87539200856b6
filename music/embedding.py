"""The layout of the fixed-length vector per track for similarity search (raw, before
standardisation); workers/_audio_embedding.py computes it.

The catalogue-fitted StandardScaler (another module) rescales every dimension to zero mean
and unit variance over the catalogue; until then the fixed affine maps below keep each
dimension roughly within -3..3, so the raw vector already works with cosine similarity and
no one feature (MFCC 0 is in the hundreds) drowns the others.

Circular quantities go on circles. Tempo: the angle is 2*pi*log2(bpm), so 120 and 60 or
240 BPM land on the same point (octave errors and half-time feels cost nothing) while
120 and 121 are 0.075 rad apart. Key: the angle is the hour on the Camelot wheel, so a
key sits next to its fifths and shares its place with its relative minor/major; the mode
dimension then separates the two.

Layout (EMBEDDING_LAYOUT names every dimension):

    0-1    tempo on the octave circle (sin, cos)      2      tempo confidence
    3-4    key on the Camelot circle (sin, cos)       5      mode (+1 major, -1 minor)
    6      key confidence                             7-8    energy, danceability
    9      RMS level (dB + 20) / 10                   10     integrated LUFS (+ 14) / 10
    11     loudness range LU / 10                     12     dynamic range dB / 20
    13-15  log2 of centroid / 2 kHz, rolloff / 4 kHz, bandwidth / 2 kHz
    16     (log10 flatness + 3) / 2                   17     zero-crossing rate * 10
    18     onsets per second / 4
    19-31  MFCC means: (c0 + 250) / 150, (c1 - 100) / 50, the others / 20
    32-44  MFCC stds: c0 / 50, c1 / 40, the others / 15
    45-56  chroma means (C..B, 0-1)                   57-63  (spectral contrast means - 30) / 10
"""

import hashlib

from music.keys import PITCH_CLASSES

EMBEDDING_DIMS = 64

EMBEDDING_LAYOUT: tuple[str, ...] = (
    *("tempo_sin", "tempo_cos", "tempo_confidence", "key_sin", "key_cos", "mode"),
    *("key_confidence", "energy", "danceability", "loudness_db", "integrated_lufs"),
    *("loudness_range_lu", "dynamic_range_db", "log_centroid", "log_rolloff", "log_bandwidth"),
    *("log_flatness", "zero_crossing_rate", "onset_rate"),
    *(f"mfcc_mean_{i}" for i in range(13)),
    *(f"mfcc_std_{i}" for i in range(13)),
    *(f"chroma_mean_{p}" for p in PITCH_CLASSES),
    *(f"contrast_mean_{i}" for i in range(7)),
)

# Artifacts (scaler fits, genre models) record it: one made for another layout is refused.
LAYOUT_HASH = hashlib.sha256("\n".join(EMBEDDING_LAYOUT).encode()).hexdigest()
