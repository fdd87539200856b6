"""Key and mode: pitch-class distributions from a long, low-rate STFT, scored against the
24 keys by a small linear model.

The distribution: the bass, which says most about the key, needs semitone resolution
down to C1 (a semitone is 1.9 Hz there), which the analysis STFT (10.8 Hz bins at
22,050 Hz) lacks. Nothing above B6 matters for pitch classes either, so the signal is
resampled to a quarter of the rate (5,512.5 Hz) and analysed with 8,192-point frames
(0.67 Hz bins, 1.5 s) at a 0.37 s hop: a key is one value for the whole excerpt, so time
resolution buys nothing. Each FFT bin is shared between its two nearest tuned semitones
(C1-B6, 72 of them); that costs about 0.05 CPU s per three minutes of audio, against
0.12 for the constant-Q transform it replaces.

From the semitones come two chroma vectors: all six octaves and the bass (C1-B2), each
frame log-compressed and scaled to its loudest class, then averaged, and each taken
relative to its mean (a flat distribution, weak evidence of any key, scores low). Each
key's score is a weight vector per mode dotted with those vectors rotated to the key's
tonic (so every key is scored the same way); the scores' softmax is the key's
probability, and `KeyEstimate.confidence` the winner's. The weights
(workers/key_model.json) start from Temperley's 2007 Kostka-Payne profiles (a plain
Krumhansl-Schmuckler correlation) and were fitted on the `tune` half of the evaluation
set only (bench/train_models.py); the fit left the bass nearly unweighted.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import librosa
import numpy as np
import numpy.typing as npt

from music.keys import PITCH_CLASSES, Mode

Array = npt.NDArray[np.float64]

TEMPERLEY_2007_MAJOR = (0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400)  # fmt: skip  # noqa: E501
TEMPERLEY_2007_MINOR = (0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330)  # fmt: skip  # noqa: E501

KEY_RATE_DIVISOR = 4  # 22,050 Hz -> 5,512.5 Hz: B6 (1,976 Hz) is well below Nyquist
KEY_N_FFT = 8192
KEY_HOP = 2048
LOWEST_MIDI = 24  # C1, 32.7 Hz
SEMITONES = 72  # C1-B6
BASS_SEMITONES = 24  # C1-B2
KEY_MIN_SECONDS = 2.0  # one frame is 1.5 s at the key's rate
COMPRESSION = 100.0  # log(1 + 100 x): soft notes count, loud ones do not swamp them
MODEL_FILE = Path(__file__).with_name("key_model.json")


@dataclass(frozen=True)
class KeyEstimate:
    """`confidence` is the model's probability of the winning key (0-1): near 1 when one
    key stands out, low when neighbours on the circle of fifths or the relative key score
    nearly as well, or when nothing is tonal (drums alone, noise)."""

    key: str
    mode: Mode
    confidence: float
    probabilities: Array  # (24,): 12 major tonics C..B, then 12 minor


@dataclass(frozen=True)
class KeyModel:
    """One weight row per mode over the rotated feature blocks, and the minor keys' bias."""

    major: Array  # (blocks * 12,)
    minor: Array
    minor_bias: float

    @classmethod
    def from_json(cls, text: str) -> "KeyModel":
        data = json.loads(text)
        if data.get("kind") != "key_model":
            raise ValueError("not a key model")
        major = np.asarray(data["major"], dtype=np.float64)
        minor = np.asarray(data["minor"], dtype=np.float64)
        if major.shape != (24,) or minor.shape != (24,):
            raise ValueError("a key model has 24 weights per mode")
        return cls(major, minor, float(data["minor_bias"]))

    @classmethod
    def from_profiles(cls, major: tuple[float, ...], minor: tuple[float, ...]) -> "KeyModel":
        """A plain profile correlation: the profiles standardised, no weight on the bass."""
        return cls(
            np.concatenate([_standardise(np.asarray(major)), np.zeros(12)]),
            np.concatenate([_standardise(np.asarray(minor)), np.zeros(12)]),
            0.0,
        )


@cache
def default_model() -> KeyModel:
    """The fitted model shipped with the code (workers/key_model.json)."""
    return KeyModel.from_json(MODEL_FILE.read_text())


@cache
def _semitone_weights(sr: float, tuning: float) -> npt.NDArray[np.float32]:
    """(SEMITONES, bins): each FFT bin split between its two nearest tuned semitones."""
    freqs = np.fft.rfftfreq(KEY_N_FFT, 1.0 / sr)
    with np.errstate(divide="ignore"):
        pitch = 69.0 + 12.0 * np.log2(freqs / 440.0) - tuning
    semitones = np.arange(LOWEST_MIDI, LOWEST_MIDI + SEMITONES)
    weights = np.maximum(0.0, 1.0 - np.abs(pitch[None, :] - semitones[:, None]))
    return np.asarray(weights, dtype=np.float32)


def semitone_spectrum(
    y: npt.NDArray[np.float32], sr: int, tuning: float
) -> npt.NDArray[np.float32]:
    """(SEMITONES, frames) power of a mono signal per tuned semitone, C1 upwards."""
    key_sr = sr / KEY_RATE_DIVISOR
    low = np.asarray(librosa.resample(y, orig_sr=sr, target_sr=key_sr, res_type="soxr_lq"))
    if low.size < KEY_MIN_SECONDS * key_sr:
        low = np.pad(low, (0, int(KEY_MIN_SECONDS * key_sr) - low.size))
    spectrum = np.abs(librosa.stft(low, n_fft=KEY_N_FFT, hop_length=KEY_HOP, center=False))
    # Cached per tuning rounded to a hundredth of a semitone (librosa's own resolution).
    weights = _semitone_weights(key_sr, round(float(tuning), 2))
    used = np.flatnonzero(weights.any(axis=0))
    return np.asarray(weights[:, used] @ np.square(spectrum[used]), dtype=np.float32)


def _chroma(semitones: npt.NDArray[np.float32], count: int, loudest: float) -> Array:
    compressed = np.log1p(COMPRESSION * semitones[:count] / loudest)
    chroma = compressed.reshape(count // 12, 12, -1).sum(axis=0)
    peaks = chroma.max(axis=0, keepdims=True)
    chroma = chroma / np.where(peaks > 0, peaks, 1.0)
    return np.asarray(chroma.mean(axis=1), dtype=np.float64)


def _standardise(values: Array) -> Array:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def _contrast(chroma: Array) -> Array:
    """Each class relative to the mean: independent of level, but a flat distribution
    (weak tonal evidence) gives small values, so the model's scores spread less."""
    mean = float(chroma.mean())
    return chroma / mean - 1.0 if mean > 0 else np.zeros_like(chroma)


def key_features(semitones: npt.NDArray[np.float32]) -> Array:
    """(2, 12): the chroma of all octaves, then of the bass, relative to their means."""
    loudest = float(semitones.max())
    if loudest <= 0:
        return np.zeros((2, 12))
    return np.stack(
        [
            _contrast(_chroma(semitones, SEMITONES, loudest)),
            _contrast(_chroma(semitones, BASS_SEMITONES, loudest)),
        ]
    )


def rotations(features: Array) -> Array:
    """(12, blocks * 12): the feature blocks rotated so that each tonic comes first."""
    return np.stack([np.roll(features, -tonic, axis=1).ravel() for tonic in range(12)])


def estimate_key(features: Array, model: KeyModel | None = None) -> KeyEstimate:
    """The most probable of the 24 major and minor keys given `key_features`."""
    model = model or default_model()
    rotated = rotations(features)
    scores = np.concatenate([rotated @ model.major, rotated @ model.minor + model.minor_bias])
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    best = int(np.argmax(probabilities))
    mode: Mode = "major" if best < 12 else "minor"
    return KeyEstimate(
        key=PITCH_CLASSES[best % 12],
        mode=mode,
        confidence=float(probabilities[best]),
        probabilities=np.asarray(probabilities, dtype=np.float64),
    )
