"""Audio analysis: real-time factor on one core, ours against a naive librosa pipeline.

Run from the repository root:

    .venv/bin/python bench/analysis.py                 # 180 s, WAV 44.1 kHz stereo
    .venv/bin/python bench/analysis.py --seconds 600 --format flac

What it does:

1. Pins every thread pool to one thread (OMP, OpenBLAS, MKL, numba) before numpy loads:
   a worker process analyses one file per core.
2. Generates a drums-and-chords track (120 BPM, C major) and writes it as a 44.1 kHz stereo
   file, as a catalogue's files are.
3. Warms both pipelines up (numba compiles librosa's beat tracker on first call, ~8 s; a
   worker pays that once at start-up through `warm_up()`), then times each on the file
   with `time.process_time()`, best of `--repeat`: audio seconds analysed per CPU second.
   Both include decoding the file.
4. The naive baseline is what one writes from librosa's tutorials: `librosa.load`, then
   `beat_track(y)`, `chroma_stft(y)`, `mfcc(y)`, each spectral feature from `y`,
   `onset_detect(y)` and `rms(y)`, every one computing its own STFT; its key is the
   Krumhansl-Schmuckler correlation of the mean chroma.
5. Accuracy of both on the generated set: tempo within 2% (octave errors counted
   separately) on click tracks and mixtures, and key + mode on chord progressions and
   mixtures.
"""

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

# One core: set before numpy, numba and their BLAS read them.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["NUMBA_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import librosa
import numpy as np

from bench.accuracy import krumhansl_key
from tests import audio_fixtures
from workers import analysis
from workers._audio_decode import decode

TEMPO_TOLERANCE = 0.02


def naive(path_or_signal: str | np.ndarray, sr: int = 22050) -> tuple[float, str, str]:
    """The baseline: every feature from the signal, as separate librosa calls."""
    if isinstance(path_or_signal, str):
        y, _ = librosa.load(path_or_signal, sr=sr, mono=True)
    else:
        y = path_or_signal
    with warnings.catch_warnings():
        # On beatless material (chords alone) librosa's tracker finds tempo 0 and its numba
        # kernel casts the resulting NaN period: a RuntimeWarning, and tempo 0 is returned.
        warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
        tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr)
    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13)
    librosa.feature.spectral_centroid(y=y, sr=sr)
    librosa.feature.spectral_rolloff(y=y, sr=sr)
    librosa.feature.spectral_bandwidth(y=y, sr=sr)
    librosa.feature.spectral_flatness(y=y)
    librosa.feature.spectral_contrast(y=y, sr=sr)
    librosa.feature.zero_crossing_rate(y)
    librosa.feature.rms(y=y)
    librosa.onset.onset_detect(y=y, sr=sr)
    key, mode = krumhansl_key(chroma.mean(axis=1))[0].split()
    return float(np.atleast_1d(tempo)[0]), key, mode


def ours(path_or_signal: str | np.ndarray, sr: int = 22050) -> tuple[float, str, str]:
    if isinstance(path_or_signal, str):
        features = analysis.analyze_file(path_or_signal)
    else:
        features = analysis.analyze_signal(path_or_signal, sr)
    return features.tempo_bpm, features.key, features.mode


def cpu_seconds(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def tempo_verdict(found: float, truth: float) -> str:
    for factor, name in ((1.0, "ok"), (2.0, "octave"), (0.5, "octave"), (3.0, "other")):
        if abs(found - truth * factor) <= TEMPO_TOLERANCE * truth * factor:
            return name
    return "wrong"


def accuracy(pipeline: Callable[[np.ndarray, int], tuple[float, str, str]]) -> str:
    tempo_set = audio_fixtures.click_set() + audio_fixtures.mixture_set()
    key_set = audio_fixtures.chord_set() + audio_fixtures.mixture_set()
    verdicts = [tempo_verdict(pipeline(f.signal, f.sr)[0], f.bpm or 0.0) for f in tempo_set]
    keys = [pipeline(f.signal, f.sr)[1:] == (f.key, f.mode) for f in key_set]
    return (
        f"tempo {verdicts.count('ok')}/{len(verdicts)} within 2% "
        f"({verdicts.count('octave')} octave errors), "
        f"key+mode {sum(keys)}/{len(keys)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--format", choices=("wav", "flac", "mp3"), default="wav")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        signal = audio_fixtures.mixture(120.0, "C", "major", args.seconds, 44100)
        path = audio_fixtures.write(Path(tmp) / f"track.{args.format}", signal, 44100, True)
        del signal
        compile_s = analysis.warm_up()
        naive(audio_fixtures.click_track(120.0, 5.0), 22050)
        print(f"warm-up (numba compilation or cache load, excluded below): {compile_s:.1f} s")
        decode_s = cpu_seconds(lambda: decode(path, 22050), args.repeat)
        ours_s = cpu_seconds(lambda: ours(str(path)), args.repeat)
        naive_s = cpu_seconds(lambda: naive(str(path)), args.repeat)

    print(f"file: {args.seconds:g} s, {args.format}, 44.1 kHz stereo, one core")
    print(f"  decode + resample alone: {decode_s:.3f} CPU s")
    for name, seconds in (("ours", ours_s), ("naive librosa", naive_s)):
        print(f"  {name:14s} {seconds:.3f} CPU s  {args.seconds / seconds:7.1f}x real time")
    print(f"  ratio: ours is {naive_s / ours_s:.2f}x the naive baseline")
    print("accuracy on the generated set:")
    print(f"  ours           {accuracy(ours)}")
    print(f"  naive librosa  {accuracy(naive)}")


if __name__ == "__main__":
    main()
