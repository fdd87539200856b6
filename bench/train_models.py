"""Fit the key and tempo models (workers/key_model.json, workers/tempo_model.json): the
key on the `tune` half of the evaluation set, the tempo on the `tune` half and the extra
training pieces of bench/eval_data/truth-train.csv (181 pieces from corpus files that no
piece of the set comes from).

    make eval-data                            # once: renders the set into data/eval/
    .venv/bin/python -m bench.train_models    # writes both models

Both are conditional logits (a softmax over candidates that share one weight vector,
fitted by maximum likelihood with L-BFGS and an L2 penalty chosen by five-fold
cross-validation inside the training pieces):

- key (workers/_audio_tonal.py): the 24 keys are the candidates, one weight vector per
  mode over the key features rotated to the key's tonic, and a bias for minor. The
  penalty pulls the weights towards the standardised Temperley 2007 profiles: with 80
  pieces, the data may correct the profiles, not replace them.
- tempo (workers/_audio_rhythm.py): the tatum found times each of `TATUM_MULTIPLES`
  are the candidates, scored over `OCTAVE_FEATURES` (standardised for the fit, the
  scaling folded into the stored weights); a candidate outside MIN_BPM-MAX_BPM, which
  the analysis never chooses, is left out of the softmax. Pieces whose tempo is none of
  the candidates are left out.

The `test` half is never read here: bench/accuracy.py reports on it.
"""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize  # type: ignore[import-untyped]

from bench.eval_data.build import TRAIN_TRUTH, TRUTH, Piece, read_truth
from music.keys import PITCH_CLASSES
from workers import _audio_rhythm, _audio_tonal, analysis
from workers._audio_tonal import KeyModel

Array = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int_]
PENALTIES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
# The softmax's sharpness: the penalty pulls towards the prior (the standardised profiles
# times this), so its scale is chosen by cross-validation too.
PRIOR_SCALES = (1.0, 2.0, 4.0, 8.0)
FOLDS = 5
FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E"}
FPS = analysis.SR / analysis.HOP
RULED_OUT = -1e3  # a softmax score offset no candidate's evidence outweighs


def fit(
    x: Array, truth: Labels, penalty: float, prior: Array, offset: Array | None = None
) -> Array:
    """The weights w maximising the likelihood of softmax(x @ w + offset) at `truth`,
    less penalty * |w - prior|^2; x is (pieces, candidates, features), `offset`
    (pieces, candidates) is 0 for a candidate and -inf-like for one that is ruled out."""
    rows = np.arange(len(truth))
    shift = np.zeros(x.shape[:2]) if offset is None else offset

    def loss(w: Array) -> tuple[float, Array]:
        scores = x @ w + shift
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        value = -float(np.log(p[rows, truth]).sum()) + penalty * float(np.sum((w - prior) ** 2))
        g = p.copy()
        g[rows, truth] -= 1.0
        return value, np.einsum("nc,ncd->d", g, x) + 2 * penalty * (w - prior)

    result = minimize(loss, prior.copy(), jac=True, method="L-BFGS-B")
    return np.asarray(result.x, dtype=np.float64)


def cross_validated(
    x: Array,
    truth: Labels,
    prior: Array,
    penalty: float,
    score: Callable[[Labels], float],
    offset: Array | None = None,
) -> float:
    """`score` of the answers of models fitted without the fold they answer, plus the
    mean log-likelihood of the truth (so that ties in `score` go to the better calibrated
    model, whose probabilities are the confidences)."""
    folds = np.arange(len(truth)) % FOLDS
    shift = np.zeros(x.shape[:2]) if offset is None else offset
    found = np.zeros(len(truth), dtype=int)
    likelihood = 0.0
    for k in range(FOLDS):
        w = fit(x[folds != k], truth[folds != k], penalty, prior, shift[folds != k])
        scores = x[folds == k] @ w + shift[folds == k]
        found[folds == k] = scores.argmax(axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        likelihood += float(log_p[np.arange(log_p.shape[0]), truth[folds == k]].sum())
    return score(found) + 1e-3 * likelihood / len(truth)


def choose(
    x: Array,
    truth: Labels,
    prior: Array,
    score: Callable[[Labels], float],
    offset: Array | None = None,
) -> tuple[float, Array]:
    """The penalty with the best cross-validated `score` (printed), and the weights fitted
    with it on all of `x`."""
    best, best_score = PENALTIES[0], -np.inf
    shift = np.zeros(x.shape[:2]) if offset is None else offset
    print(f"  prior alone: {score(np.asarray((x @ prior + shift).argmax(axis=1))):.3f}")
    for penalty in PENALTIES:
        value = cross_validated(x, truth, prior, penalty, score, shift)
        print(f"  penalty {penalty:g}: {value:.4f}, {FOLDS}-fold within the training pieces")
        if value > best_score:
            best, best_score = penalty, value
    return best, fit(x, truth, best, prior, shift)


def key_index(key: str) -> int:
    """0-11 for major tonics C..B, 12-23 for minor, as the key model orders keys."""
    tonic, mode = key.split()
    pitch = PITCH_CLASSES.index(FLATS.get(tonic, tonic))
    return pitch + (12 if mode == "minor" else 0)


def key_candidates(features: Array) -> Array:
    """(24, 2d + 1): major keys see [rotated, 0, 0], minor keys [0, rotated, 1], so one
    weight vector holds [major weights, minor weights, minor bias]."""
    rotated = _audio_tonal.rotations(features)
    zeros, ones = np.zeros_like(rotated), np.ones((12, 1))
    major = np.concatenate([rotated, zeros, 0 * ones], axis=1)
    minor = np.concatenate([zeros, rotated, ones], axis=1)
    return np.concatenate([major, minor])


def weighted(found: Labels, truth: Labels) -> float:
    """The MIREX weighted key score, from key indices."""
    import mir_eval  # type: ignore[import-untyped]

    names = PITCH_CLASSES

    def name(k: int) -> str:
        return f"{names[k % 12]} {'major' if k < 12 else 'minor'}"

    pairs = zip(found, truth, strict=True)
    return float(np.mean([mir_eval.key.weighted_score(name(t), name(f)) for f, t in pairs]))


def train_key(inputs: list[Array], pieces: list[Piece], out: Path) -> None:
    x = np.stack([key_candidates(f) for f in inputs])
    truth = np.asarray([key_index(p.key) for p in pieces], dtype=np.int_)
    profiles = KeyModel.from_profiles(
        _audio_tonal.TEMPERLEY_2007_MAJOR, _audio_tonal.TEMPERLEY_2007_MINOR
    )
    profile = np.concatenate([profiles.major, profiles.minor, [0.0]])
    best: tuple[float, float, float, Array] | None = None
    for scale in PRIOR_SCALES:
        print(f"key, MIREX weighted score, prior {scale:g} x the profiles:")
        prior = scale * profile
        penalty, w = choose(x, truth, prior, lambda found: weighted(found, truth))
        value = cross_validated(x, truth, prior, penalty, lambda found: weighted(found, truth))
        if best is None or value > best[0]:
            best = (value, scale, penalty, w)
    assert best is not None
    _, scale, penalty, w = best
    d = profiles.major.size
    model = {
        "kind": "key_model",
        "trained_on": f"bench/eval_data, tune half ({len(pieces)} pieces)",
        "prior_scale": scale,
        "penalty": penalty,
        "blocks": ["chroma", "bass chroma"],
        "major": [round(float(v), 4) for v in w[:d]],
        "minor": [round(float(v), 4) for v in w[d : 2 * d]],
        "minor_bias": round(float(w[2 * d]), 4),
    }
    out.write_text(json.dumps(model, indent=1) + "\n")
    print(f"  penalty {penalty:g}: {out}")


def train_tempo(inputs: list[tuple[Array, Array]], pieces: list[Piece], out: Path) -> None:
    """`inputs`: per piece, the onset envelope and the harmonic change."""
    rows, offsets, truth, kept = [], [], [], 0
    for (envelope, change), piece in zip(inputs, pieces, strict=True):
        found = _audio_rhythm.periodicity(envelope, change, analysis.SR, analysis.HOP)
        valid = _audio_rhythm.in_range(found.lags, FPS)
        bpm = 60.0 * FPS / found.lags
        right = [
            i
            for i in range(bpm.size)
            if valid[i] and abs(bpm[i] - piece.tempo_bpm) <= 0.04 * piece.tempo_bpm
        ]
        if right:
            rows.append(found.octave_features)
            offsets.append(np.where(valid, 0.0, RULED_OUT))
            truth.append(right[0])
            kept += 1
    x, labels = np.stack(rows), np.asarray(truth, dtype=np.int_)
    offset = np.stack(offsets)
    # Standardised over the candidates in range; those out of it (a 10 BPM beat) would
    # dominate the scaling, and their scores are moot: they read as the mean.
    mean, scale = x[offset == 0].mean(axis=0), x[offset == 0].std(axis=0)
    scale[scale == 0] = 1.0
    x[offset != 0] = mean
    print(f"tempo, share right ({kept} of {len(pieces)} pieces have a right candidate):")
    penalty, w = choose(
        (x - mean) / scale,
        labels,
        np.zeros(x.shape[2]),
        lambda found: float(np.mean(found == labels)),
        offset,
    )
    # (x - mean) / scale @ w == x @ (w / scale) less a constant, which a softmax ignores.
    model = {
        "kind": "tempo_model",
        "trained_on": (
            f"bench/eval_data: the tune half and truth-train.csv ({kept} of {len(pieces)} pieces)"
        ),
        "penalty": penalty,
        "features": list(_audio_rhythm.OCTAVE_FEATURES),
        "weights": [round(float(v), 4) for v in w / scale],
    }
    out.write_text(json.dumps(model, indent=1) + "\n")
    print(f"  penalty {penalty:g}: {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/eval"))
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--train-data", type=Path, default=Path("data/eval-train"))
    parser.add_argument("--train-truth", type=Path, default=TRAIN_TRUTH)
    args = parser.parse_args()
    pieces = [
        p
        for p in read_truth(args.truth)
        if p.split == "tune" and (args.data / f"{p.id}.flac").is_file()
    ]
    extra = [
        p for p in read_truth(args.train_truth) if (args.train_data / f"{p.id}.flac").is_file()
    ]
    if not pieces:
        print(f"no evaluation audio in {args.data}: run `make eval-data` first")
        return 1
    if not extra:
        print(f"no training audio in {args.train_data}: run `make eval-data` first")
        return 1
    inputs = [analysis.model_inputs(args.data / f"{p.id}.flac") for p in pieces]
    train_key([i[0] for i in inputs], pieces, _audio_tonal.MODEL_FILE)
    inputs += [analysis.model_inputs(args.train_data / f"{p.id}.flac") for p in extra]
    train_tempo([(i[1], i[2]) for i in inputs], pieces + extra, _audio_rhythm.MODEL_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
