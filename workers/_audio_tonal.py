"""Key and mode from chroma: the Krumhansl-Schmuckler method.

The track's pitch-class distribution is correlated (Pearson) with a major and a minor key
profile rotated to each of the 12 tonics; the best of the 24 is the key.

The distribution comes from a constant-Q transform, not the analysis STFT: at 22,050 Hz a
2,048-point STFT has 10.8 Hz bins, wider than a semitone below 180 Hz, so the bass, which
says most about the key, smears over two or three pitch classes. The CQT here has 36 bins
per octave from C1 (6 octaves) at a 4,096-sample hop (0.19 s: a key is one value for the
whole excerpt, so time resolution buys nothing), costs about 0.035 CPU s per minute of
audio, and its chroma frames (each normalised to its loudest class) are averaged.

Profiles, measured on the evaluation set (bench/accuracy.py, MIREX-weighted score, the
CQT distribution): Temperley's 2007 Kostka-Payne pitch-class frequencies by default;
Albrecht-Shanahan's, Temperley's 2001 and Krumhansl-Kessler's probe-tone ratings (1982)
scored lower and are kept for measuring.
"""

from dataclasses import dataclass

import librosa
import numpy as np
import numpy.typing as npt

from music.keys import PITCH_CLASSES, Mode

KRUMHANSL_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
TEMPERLEY_MAJOR = (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0)
TEMPERLEY_MINOR = (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0)
TEMPERLEY_2007_MAJOR = (
    0.748,
    0.060,
    0.488,
    0.082,
    0.670,
    0.460,
    0.096,
    0.715,
    0.104,
    0.366,
    0.057,
    0.400,
)
TEMPERLEY_2007_MINOR = (
    0.712,
    0.084,
    0.474,
    0.618,
    0.049,
    0.460,
    0.105,
    0.747,
    0.404,
    0.067,
    0.133,
    0.330,
)
ALBRECHT_MAJOR = (
    0.238,
    0.006,
    0.111,
    0.006,
    0.137,
    0.094,
    0.016,
    0.214,
    0.009,
    0.080,
    0.008,
    0.081,
)
ALBRECHT_MINOR = (
    0.220,
    0.006,
    0.104,
    0.123,
    0.019,
    0.103,
    0.012,
    0.214,
    0.062,
    0.022,
    0.061,
    0.052,
)
PROFILES = {
    "temperley2007": (TEMPERLEY_2007_MAJOR, TEMPERLEY_2007_MINOR),
    "albrecht": (ALBRECHT_MAJOR, ALBRECHT_MINOR),
    "temperley": (TEMPERLEY_MAJOR, TEMPERLEY_MINOR),
    "krumhansl": (KRUMHANSL_MAJOR, KRUMHANSL_MINOR),
}
KEY_HOP = 4096
KEY_BINS_PER_OCTAVE = 36
KEY_OCTAVES = 6
KEY_FMIN_HZ = 32.703  # C1: six octaves reach B6 (1,976 Hz)
KEY_MIN_SECONDS = 4.0


@dataclass(frozen=True)
class KeyEstimate:
    """`confidence` is the winning Pearson correlation clipped to 0-1: near 1 for plainly
    tonal music, below ~0.5 for weakly tonal or atonal material (drums alone, noise),
    whose key should not be trusted."""

    key: str
    mode: Mode
    confidence: float
    correlations: npt.NDArray[np.float64]  # (24,): 12 major tonics C..B, then 12 minor


def pitch_distribution(
    y: npt.NDArray[np.float32], sr: int, tuning: float
) -> npt.NDArray[np.float64]:
    """The pitch-class distribution of a mono signal: CQT chroma, averaged over frames."""
    # The CQT halves the rate once per octave: under ~4 s the lowest octave is shorter
    # than its FFT. Silence padded on does not move the mean of normalised frames' shape.
    if y.size < KEY_MIN_SECONDS * sr:
        y = np.pad(y, (0, int(KEY_MIN_SECONDS * sr) - y.size))
    cqt = np.abs(
        librosa.cqt(
            y,
            sr=sr,
            hop_length=KEY_HOP,
            fmin=KEY_FMIN_HZ,
            n_bins=KEY_OCTAVES * KEY_BINS_PER_OCTAVE,
            bins_per_octave=KEY_BINS_PER_OCTAVE,
            tuning=tuning,
            res_type="soxr_lq",  # the octave-by-octave downsampling: chroma needs no more
        )
    )
    chroma = librosa.feature.chroma_cqt(C=cqt, sr=sr, bins_per_octave=KEY_BINS_PER_OCTAVE)
    return np.asarray(chroma.mean(axis=1), dtype=np.float64)


def _templates(profile: str) -> npt.NDArray[np.float64]:
    major, minor = PROFILES[profile]
    rows = [np.roll(major, tonic) for tonic in range(12)]
    rows += [np.roll(minor, tonic) for tonic in range(12)]
    return np.asarray(rows, dtype=np.float64)


def estimate_key(
    distribution: npt.NDArray[np.float64], profile: str = "temperley2007"
) -> KeyEstimate:
    """The best of the 24 major and minor keys for a 12-bin pitch-class distribution."""
    templates = _templates(profile)
    x = distribution - distribution.mean()
    t = templates - templates.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(t, axis=1) * np.linalg.norm(x)
    correlations = (t @ x) / norms if norms.all() else np.zeros(24)
    best = int(np.argmax(correlations))
    mode: Mode = "major" if best < 12 else "minor"
    return KeyEstimate(
        key=PITCH_CLASSES[best % 12],
        mode=mode,
        confidence=float(np.clip(correlations[best], 0.0, 1.0)),
        correlations=np.asarray(correlations, dtype=np.float64),
    )
