"""Spectral shape and level descriptors from one magnitude spectrogram.

librosa's `spectral_centroid`, `spectral_bandwidth` and `spectral_rolloff` each normalise
the spectrogram again, and the bandwidth raises |f - centroid| to a power bin by bin
(0.26 s for three minutes). With p = 2 the bandwidth is sqrt(E[f^2] - E[f]^2), so centroid
and bandwidth are two matrix-vector products over the same spectrogram; the values equal
librosa's (checked in the tests).
"""

from dataclasses import dataclass

import librosa
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

ROLL_PERCENT = 0.85
ROLLOFF_BLOCK = 32
SILENT_FRAME = 1e-8  # a frame whose magnitudes sum below this is digital silence


@dataclass(frozen=True)
class Spectral:
    """Means over the frames that are not digital silence (Hz, except flatness 0-1)."""

    centroid_hz: float
    rolloff_hz: float
    bandwidth_hz: float
    flatness: float
    contrast_mean: tuple[float, ...]
    contrast_std: tuple[float, ...]


def _mean(values: npt.NDArray[np.floating]) -> float:
    return float(np.mean(values)) if values.size else 0.0


def describe(
    magnitude: npt.NDArray[np.float32], power: npt.NDArray[np.float32], sr: float, n_fft: int
) -> Spectral:
    """Centroid, 85% rolloff, bandwidth (p = 2), flatness (of the power spectrum, as in
    librosa) and 7-band spectral contrast, from the magnitude and its square."""
    total = magnitude.sum(axis=0, dtype=np.float64)
    active = total > SILENT_FRAME
    everything = bool(active.all())
    spectrum = magnitude if everything else magnitude[:, active]  # copy only if needed
    squared = power if everything else power[:, active]
    total = total[active]
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft).astype(np.float32)
    centroid = (freqs @ spectrum) / total
    second_moment = ((freqs * freqs) @ spectrum) / total
    bandwidth = np.sqrt(np.maximum(second_moment - centroid * centroid, 0.0))
    rolloff = freqs[_rolloff_bins(spectrum, ROLL_PERCENT * total)]
    if spectrum.shape[1]:
        flatness = _flatness(squared)
        contrast = librosa.feature.spectral_contrast(S=spectrum, sr=sr, n_fft=n_fft)
    else:
        flatness, contrast = np.zeros(1), np.zeros((7, 1))
    return Spectral(
        centroid_hz=_mean(centroid),
        rolloff_hz=_mean(rolloff),
        bandwidth_hz=_mean(bandwidth),
        flatness=_mean(flatness),
        contrast_mean=tuple(float(v) for v in contrast.mean(axis=1)),
        contrast_std=tuple(float(v) for v in contrast.std(axis=1)),
    )


def _rolloff_bins(spectrum: npt.NDArray[np.float32], threshold: Array) -> npt.NDArray[np.intp]:
    """Per frame, the first bin at which the cumulative magnitude reaches `threshold`.

    A cumulative sum down the whole spectrogram is a strided pass over every bin; summing
    blocks of 32 bins first finds the block where each frame crosses, and only that block
    is summed bin by bin."""
    bins, frames = spectrum.shape
    blocks = bins // ROLLOFF_BLOCK
    if blocks == 0:
        return np.zeros(frames, dtype=np.intp)
    head = spectrum[: blocks * ROLLOFF_BLOCK].reshape(blocks, ROLLOFF_BLOCK, frames)
    before = np.cumsum(head.sum(axis=1, dtype=np.float64), axis=0)  # through each block
    block = np.minimum((before < threshold).sum(axis=0), blocks - 1)
    columns = np.arange(frames)
    start = np.where(block > 0, before[np.maximum(block - 1, 0), columns], 0.0)
    rows = block * ROLLOFF_BLOCK + np.arange(ROLLOFF_BLOCK)[:, None]
    inside = start + np.cumsum(spectrum[rows, columns], axis=0, dtype=np.float64)
    found = block * ROLLOFF_BLOCK + (inside < threshold).sum(axis=0)
    return np.asarray(np.minimum(found, bins - 1), dtype=np.intp)


def _flatness(power: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Geometric over arithmetic mean of each frame's power, floored at 1e-10 as librosa's
    `spectral_flatness(power=2)` does, without squaring the magnitude again."""
    floored = np.maximum(power, np.float32(1e-10))
    geometric = np.exp(np.mean(np.log(floored), axis=0, dtype=np.float64))
    return np.asarray(geometric / np.mean(floored, axis=0, dtype=np.float64))


def zero_crossing_rate(y: npt.NDArray[np.float32]) -> float:
    """Sign changes per sample over the whole signal (zero counts as positive, as in
    librosa): the mean of librosa's framed rate without framing the signal."""
    if y.size < 2:
        return 0.0
    negative = np.signbit(y)
    return float(np.count_nonzero(negative[1:] != negative[:-1]) / (y.size - 1))


def dynamic_range_db(frame_rms: npt.NDArray[np.floating]) -> float:
    """Spread of the short-term level: the 95th minus the 10th percentile of frame RMS in
    dB, over frames within 60 dB of the loudest (so fades and gaps of silence do not
    count). A descriptor of how much the level moves, not a mastering measurement."""
    level = 20.0 * np.log10(np.maximum(np.asarray(frame_rms, dtype=np.float64), 1e-10))
    level = level[level > level.max() - 60.0]
    low, high = np.percentile(level, [10.0, 95.0])
    return float(high - low)
