"""Audio in, knowledge out: tempo, key, loudness and timbre of one track.

One decode (all channels, resampled once to 22,050 Hz), one STFT (2048-sample frames,
512-sample hop: 93 ms and 23 ms) and every feature derived from it: the mel spectrogram
from its power, MFCCs and the onset envelope from the log-mel, chroma from the same power,
and the spectral descriptors from its magnitude. The onset envelope and the chroma's
frame-to-frame change, summed, give the tempo by one autocorrelation (see
`_audio_rhythm`); the key comes from a second, long STFT at a quarter of the rate, which
resolves the bass's semitones (see `_audio_tonal`). Loudness is measured per channel
before the downmix, as BS.1770 defines it. A naive pipeline that calls librosa once per
feature recomputes the STFT six times and a tempogram per frame; this one runs several
times faster (bench/analysis.py).

22,050 Hz keeps the spectral descriptors comparable with the literature (which mostly
uses librosa's defaults) and costs a quarter of the time at 44.1 kHz; 11,025 Hz would halve
it again but cut the centroid, rolloff and bandwidth off at 5.5 kHz.
"""

import math
import os
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import librosa
import numpy as np
import numpy.typing as npt

from music.embedding import EMBEDDING_DIMS, EMBEDDING_LAYOUT
from music.keys import Mode, camelot, open_key
from workers import _audio_loudness, _audio_rhythm, _audio_spectral, _audio_tonal
from workers._audio_embedding import embedding
from workers.audio_format import MAX_SECONDS, AnalysisError, AnalysisErrorCode, sniff_format

__all__ = [
    "EMBEDDING_DIMS",
    "EMBEDDING_LAYOUT",
    "AnalysisError",
    "AnalysisErrorCode",
    "AudioFeatures",
    "analyze_file",
    "analyze_signal",
    "embedding",
    "model_inputs",
    "sniff_format",
    "warm_up",
]

ANALYSIS_VERSION = 5  # bump when a feature's definition changes, so stored ones are redone
SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 128
N_MFCC = 13
MAX_CHANNELS = 16  # more "channels" than this is a (samples, channels) array, transposed
MIN_SECONDS = 1.0  # shorter than this, a tempo or a key would be a guess
SILENCE_DBFS = -60.0  # a file whose loudest sample is below this is silent
# Float formats (WAV, AIFF-C) may go past full scale, a few dB in a mix with headroom;
# 60 dB past it is not audio but a broken or crafted file, and at 1e17 the STFT
# overflows float32 (an IndexError deep in numpy, retried as if transient).
MAX_PEAK_DBFS = 60.0
TUNING_FRAME_STEP = 16  # tuning is one global value: every 16th frame (0.37 s) is plenty


@dataclass(frozen=True)
class AudioFeatures:
    """What the analysis knows about a track. Levels in dBFS/LUFS/LU, frequencies in Hz,
    rates per second (zero-crossing rate: per sample). `energy` and `danceability` are
    heuristic estimates on 0-1 (see `_energy` and `_danceability`), not measurements."""

    analysis_version: int
    duration_seconds: float
    tempo_bpm: float
    tempo_confidence: float
    key: str
    mode: Mode
    key_confidence: float
    camelot: str
    open_key: str
    loudness_db: float
    peak_db: float
    integrated_lufs: float | None
    loudness_range_lu: float | None
    dynamic_range_db: float
    energy: float
    danceability: float
    spectral_centroid_hz: float
    spectral_rolloff_hz: float
    spectral_bandwidth_hz: float
    spectral_flatness: float
    zero_crossing_rate: float
    onset_rate: float
    mfcc_mean: tuple[float, ...]
    mfcc_std: tuple[float, ...]
    chroma_mean: tuple[float, ...]
    chroma_std: tuple[float, ...]
    contrast_mean: tuple[float, ...]
    contrast_std: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (lists for the statistics), snake_case keys."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def analyze_file(path: str | os.PathLike[str], max_seconds: float = MAX_SECONDS) -> AudioFeatures:
    """Analyse an audio file, any format FFmpeg decodes; raises AnalysisError
    (INVALID_AUDIO, SILENT_AUDIO, UNSUPPORTED_FORMAT) for anything that is not analysable
    audio. Only the first APOLLONIA_ANALYSIS_MAX_SECONDS (600) are analysed;
    `duration_seconds` is still the whole file's."""
    # PyAV (FFmpeg's libraries) loads on the first decode, not with this module.
    from workers._audio_decode import decode

    decoded = decode(path, SR, max_seconds)
    return _analyze(decoded.channels, decoded.duration_seconds)


def analyze_signal(y: npt.ArrayLike, sr: int) -> AudioFeatures:
    """Analyse samples already in memory: mono (samples,) or channels-first (channels,
    samples), as librosa lays them out, at any rate. Non-finite samples raise
    AnalysisError(INVALID_AUDIO); an array in another layout is a caller's bug and raises
    ValueError."""
    channels = np.atleast_2d(np.asarray(y, dtype=np.float32))
    if channels.ndim != 2 or channels.shape[0] > MAX_CHANNELS:
        raise ValueError(f"expected (samples,) or (channels, samples), got {channels.shape}")
    if not np.isfinite(channels).all():
        raise AnalysisError(AnalysisErrorCode.INVALID_AUDIO, "The samples are not finite.")
    if sr != SR:
        channels = librosa.resample(channels, orig_sr=sr, target_sr=SR, res_type="soxr_hq")
    return _analyze(np.asarray(channels, dtype=np.float32))


def _analyze(
    channels: npt.NDArray[np.float32], whole_seconds: float | None = None
) -> AudioFeatures:
    duration = channels.shape[1] / SR
    if duration < MIN_SECONDS:
        raise AnalysisError(
            AnalysisErrorCode.INVALID_AUDIO, f"Shorter than {MIN_SECONDS:g} s.", seconds=duration
        )
    peak = max(float(channels.max()), -float(channels.min()))
    peak_db = 20.0 * math.log10(peak) if peak > 0 else -math.inf
    if peak_db < SILENCE_DBFS:
        raise AnalysisError(
            AnalysisErrorCode.SILENT_AUDIO, peak_db=round(peak_db, 1) if peak > 0 else None
        )
    if peak_db > MAX_PEAK_DBFS:
        raise AnalysisError(
            AnalysisErrorCode.INVALID_AUDIO,
            f"Samples reach {peak_db:.0f} dB past full scale.",
            peak_db=round(peak_db, 1),
        )
    loudness = _audio_loudness.measure(channels, SR)
    y = channels.mean(axis=0) if channels.shape[0] > 1 else channels[0]

    magnitude = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    power = magnitude * magnitude
    log_mel = _log_mel(power)
    tuning = _tuning(power)
    chroma_energy = _chroma_energy(power, tuning)
    rhythm = _audio_rhythm.analyse(
        _envelope(log_mel), _audio_rhythm.harmonic_change(chroma_energy), SR, HOP
    )

    chroma = librosa.util.normalize(chroma_energy, norm=np.inf, axis=0)
    key = _audio_tonal.estimate_key(_key_features(y, tuning))

    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=N_MFCC)
    spectral = _audio_spectral.describe(magnitude, power, SR, N_FFT)
    frame_rms = librosa.feature.rms(S=magnitude, frame_length=N_FFT)[0]
    loudness_db = 10.0 * math.log10(max(float(np.mean(np.square(y, dtype=np.float64))), 1e-20))
    return AudioFeatures(
        analysis_version=ANALYSIS_VERSION,
        duration_seconds=max(duration, whole_seconds or 0.0),
        tempo_bpm=rhythm.tempo_bpm,
        tempo_confidence=rhythm.tempo_confidence,
        key=key.key,
        mode=key.mode,
        key_confidence=key.confidence,
        camelot=camelot(key.key, key.mode),
        open_key=open_key(key.key, key.mode),
        loudness_db=loudness_db,
        peak_db=peak_db,
        integrated_lufs=loudness.integrated_lufs,
        loudness_range_lu=loudness.range_lu,
        dynamic_range_db=_audio_spectral.dynamic_range_db(frame_rms),
        energy=_energy(loudness_db, rhythm.onset_rate, spectral.centroid_hz),
        danceability=_danceability(rhythm),
        spectral_centroid_hz=spectral.centroid_hz,
        spectral_rolloff_hz=spectral.rolloff_hz,
        spectral_bandwidth_hz=spectral.bandwidth_hz,
        spectral_flatness=spectral.flatness,
        zero_crossing_rate=_audio_spectral.zero_crossing_rate(y),
        onset_rate=rhythm.onset_rate,
        mfcc_mean=_floats(mfcc.mean(axis=1)),
        mfcc_std=_floats(mfcc.std(axis=1)),
        chroma_mean=_floats(chroma.mean(axis=1)),
        chroma_std=_floats(chroma.std(axis=1)),
        contrast_mean=spectral.contrast_mean,
        contrast_std=spectral.contrast_std,
    )


def _tuning(power: npt.NDArray[np.float32]) -> float:
    with warnings.catch_warnings():
        # Nothing pitched to measure (drums alone): librosa warns and assumes A440.
        warnings.filterwarnings("ignore", "Trying to estimate tuning", UserWarning)
        return float(librosa.estimate_tuning(S=power[:, ::TUNING_FRAME_STEP], sr=SR, n_fft=N_FFT))


def _key_features(y: npt.NDArray[np.float32], tuning: float) -> npt.NDArray[np.float64]:
    return _audio_tonal.key_features(_audio_tonal.semitone_spectrum(y, SR, tuning))


def model_inputs(
    path: str | os.PathLike[str],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """What the key and tempo models read of a file, by the analysis' own steps: the key
    features, the onset envelope and the chroma's harmonic change (for
    bench/train_models.py)."""
    from workers._audio_decode import decode

    channels = decode(path, SR).channels
    y = channels.mean(axis=0) if channels.shape[0] > 1 else channels[0]
    power = np.square(np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)))
    tuning = _tuning(power)
    change = _audio_rhythm.harmonic_change(_chroma_energy(power, tuning))
    return _key_features(y, tuning), _envelope(_log_mel(power)), change


def _chroma_energy(power: npt.NDArray[np.float32], tuning: float) -> npt.NDArray[np.float32]:
    chroma = librosa.feature.chroma_stft(S=power, sr=SR, n_fft=N_FFT, tuning=tuning, norm=None)
    return np.asarray(chroma, dtype=np.float32)


def _log_mel(power: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    mel = librosa.feature.melspectrogram(S=power, sr=SR, n_mels=N_MELS)
    return np.asarray(librosa.power_to_db(mel), dtype=np.float32)


def _envelope(log_mel: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    envelope = librosa.onset.onset_strength(S=log_mel, sr=SR, hop_length=HOP)
    return np.asarray(envelope, dtype=np.float64)


def _floats(values: npt.NDArray[np.floating]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _unit(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _energy(loudness_db: float, onset_rate: float, centroid_hz: float) -> float:
    """Heuristic energy, 0-1: half loudness (RMS -40 dBFS -> 0, -8 dBFS -> 1), a quarter
    onset density (0 -> 0, 8 onsets/s -> 1), a quarter brightness (spectral centroid on a
    log scale, 500 Hz -> 0, 4 kHz -> 1). Loud, busy, bright music rates high; a quiet solo
    piano low. Uncalibrated against listeners: use it to rank, not as a measurement."""
    loud = _unit(loudness_db, -40.0, -8.0)
    busy = _unit(onset_rate, 0.0, 8.0)
    bright = _unit(math.log2(max(centroid_hz, 1.0)), math.log2(500.0), math.log2(4000.0))
    return 0.5 * loud + 0.25 * busy + 0.25 * bright


def _danceability(rhythm: _audio_rhythm.Rhythm) -> float:
    """Heuristic danceability, 0-1: pulse clarity (how periodic the onsets are) scaled by
    0.4 + 0.3 * beat strength (onsets on the beat stand out) + 0.3 * tempo fit (a bell on
    a log scale around 120 BPM, half-height about 0.6 octave away). Without a pulse it is
    0 whatever the tempo estimate says. Uncalibrated: it ranks a steady four-to-the-floor
    beat above rubato or beatless music, no more."""
    fit = math.exp(-0.5 * (math.log2(rhythm.tempo_bpm / 120.0) / 0.5) ** 2)
    return rhythm.tempo_confidence * (0.4 + 0.3 * rhythm.beat_strength + 0.3 * fit)


def warm_up() -> float:
    """Run the whole analysis once on two seconds of generated audio and return the seconds
    it took. librosa's beat tracker and peak picker are numba functions compiled on first
    call (about 8 s); a worker calls this once at start-up so that no job pays for it.
    librosa caches the compiled code on disk (`cache=True`) next to its sources, or under
    NUMBA_CACHE_DIR when that is set: point it at a persistent, writable directory (a
    volume in a container whose site-packages is read-only) and later starts load the
    machine code in well under a second instead of compiling again."""
    import time

    started = time.perf_counter()
    t = np.arange(2 * SR) / SR
    beat = (np.sin(2 * np.pi * 440.0 * t) * np.exp(-(t % 0.5) / 0.05)).astype(np.float32)
    analyze_signal(beat, SR)
    return time.perf_counter() - started
