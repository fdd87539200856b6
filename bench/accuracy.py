"""How right are the keys and tempi? Apollonia against a naive librosa pipeline, and
Essentia as an anchor when it is installed, on the evaluation set (bench/eval_data).

    make eval-data                          # once: renders the set into data/eval/
    .venv/bin/python -m bench.accuracy      # the table, on the whole set and on each half

Per analyser: the MIREX-weighted key score (mir_eval.key.weighted_score: 1 exact, 0.5 a
fifth, 0.3 relative, 0.2 parallel), the exact key rate, tempo within 4%, octave-tolerant
tempo (within 4% of the truth, its double or its half), the confusions, and how accuracy
rises with confidence (the top and bottom thirds by keyConfidence / tempoConfidence).
Results per analyser are cached in data/eval/results-<name>.json by file; `--fresh`
recomputes them (always do for Apollonia after a change of the analysis).

Essentia is AGPL: a benchmark anchor only, never a dependency of Apollonia; install it
by hand (`pip install essentia`) to see its row.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.eval_data.build import TRUTH, Piece, read_truth

Estimate = dict[str, Any]  # key ("C# minor"), tempo, key_confidence, tempo_confidence
KRUMHANSL_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def apollonia(path: Path) -> Estimate:
    from workers.analysis import analyze_file

    f = analyze_file(path)
    return {
        "key": f"{f.key} {f.mode}",
        "tempo": f.tempo_bpm,
        "key_confidence": f.key_confidence,
        "tempo_confidence": f.tempo_confidence,
    }


def naive_librosa(path: Path) -> Estimate:
    """The baseline of issue #12: chroma_cqt averaged, Krumhansl-Schmuckler; beat_track."""
    import librosa

    y, sr = librosa.load(str(path), sr=22050, mono=True)
    key, confidence = krumhansl_key(librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1))
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    return {
        "key": key,
        "tempo": float(np.atleast_1d(tempo)[0]),
        "key_confidence": confidence,
        "tempo_confidence": None,
    }


def krumhansl_key(chroma: np.ndarray) -> tuple[str, float]:
    """The Krumhansl-Schmuckler key of a 12-bin chroma ("C# minor") and its correlation."""
    scores = []
    for profile in (KRUMHANSL_MAJOR, KRUMHANSL_MINOR):
        for tonic in range(12):
            scores.append(float(np.corrcoef(chroma, np.roll(profile, tonic))[0, 1]))
    best = int(np.argmax(scores))
    return f"{NAMES[best % 12]} {'major' if best < 12 else 'minor'}", scores[best]


def essentia_anchor(path: Path) -> Estimate:
    """Essentia 2.1's KeyExtractor (the `shaath` profile, its best on this kind of set)
    and RhythmExtractor2013 (multifeature), at the 44.1 kHz they are tuned for."""
    import essentia.standard as es  # type: ignore[import-not-found]

    audio = es.MonoLoader(filename=str(path), sampleRate=44100)()
    key, scale, strength = es.KeyExtractor(profileType="shaath")(audio)
    bpm, _, confidence, _, _ = es.RhythmExtractor2013(method="multifeature")(audio)
    return {
        "key": f"{key} {scale}",
        "tempo": float(bpm),
        "key_confidence": float(strength),
        "tempo_confidence": float(confidence),
    }


ANALYSERS: dict[str, Callable[[Path], Estimate]] = {
    "apollonia": apollonia,
    "naive-librosa": naive_librosa,
    "essentia": essentia_anchor,
}


def _available(name: str) -> bool:
    if name != "essentia":
        return True
    try:
        import essentia.standard  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def run(name: str, pieces: list[Piece], folder: Path, fresh: bool) -> dict[str, Estimate]:
    cache = folder / f"results-{name}.json"
    results: dict[str, Estimate] = {}
    if cache.is_file() and not fresh:
        results = json.loads(cache.read_text())
    started, cpu = time.perf_counter(), time.process_time()
    for done, piece in enumerate(pieces):
        if piece.id not in results:
            results[piece.id] = ANALYSERS[name](folder / f"{piece.id}.flac")
            if done % 10 == 9:  # a long run that is stopped keeps what it measured
                cache.write_text(json.dumps(results, indent=0))
    spent = time.process_time() - cpu
    cache.write_text(json.dumps(results, indent=0))
    if spent > 1:
        print(f"{name}: {time.perf_counter() - started:.0f} s, {spent:.0f} CPU s", file=sys.stderr)
    return results


def _tempo_ok(found: float, truth: float, factors: tuple[float, ...] = (1.0,)) -> bool:
    return any(abs(found - truth * f) <= 0.04 * truth * f for f in factors)


@dataclass
class Scores:
    weighted: float
    exact: float
    tempo: float
    tempo_octave: float
    confusion: dict[str, int]
    key_thirds: tuple[float, float] | None
    tempo_thirds: tuple[float, float] | None


def _thirds(confidence: list[float | None], correct: list[float]) -> tuple[float, float] | None:
    if any(c is None for c in confidence) or len(correct) < 6:
        return None
    order = np.argsort(np.asarray(confidence, dtype=float))
    third = len(order) // 3
    values = np.asarray(correct)
    return float(values[order[-third:]].mean()), float(values[order[:third]].mean())


def score(pieces: list[Piece], results: dict[str, Estimate]) -> Scores:
    import mir_eval

    kinds = {1.0: "exact", 0.5: "fifth", 0.3: "relative", 0.2: "parallel", 0.0: "other"}
    confusion = dict.fromkeys(kinds.values(), 0) | {"double": 0, "half": 0}
    weights, tempo_ok, octave_ok = [], [], []
    for piece in pieces:
        found = results[piece.id]
        weight = float(mir_eval.key.weighted_score(piece.key, found["key"]))
        weights.append(weight)
        confusion[kinds[weight]] += 1
        ok = _tempo_ok(found["tempo"], piece.tempo_bpm)
        tempo_ok.append(float(ok))
        octave_ok.append(float(_tempo_ok(found["tempo"], piece.tempo_bpm, (0.5, 1.0, 2.0))))
        if not ok and _tempo_ok(found["tempo"], 2 * piece.tempo_bpm):
            confusion["double"] += 1
        if not ok and _tempo_ok(found["tempo"], 0.5 * piece.tempo_bpm):
            confusion["half"] += 1
    exact = [float(w == 1.0) for w in weights]
    return Scores(
        weighted=float(np.mean(weights)),
        exact=float(np.mean(exact)),
        tempo=float(np.mean(tempo_ok)),
        tempo_octave=float(np.mean(octave_ok)),
        confusion=confusion,
        key_thirds=_thirds([results[p.id]["key_confidence"] for p in pieces], exact),
        tempo_thirds=_thirds([results[p.id]["tempo_confidence"] for p in pieces], tempo_ok),
    )


def _thirds_text(thirds: tuple[float, float] | None) -> str:
    return "-" if thirds is None else f"{thirds[0]:.2f} / {thirds[1]:.2f}"


def table(title: str, pieces: list[Piece], all_results: dict[str, dict[str, Estimate]]) -> None:
    major = sum(p.key.endswith("major") for p in pieces)
    print(f"\n{title}: {len(pieces)} pieces ({major} major, {len(pieces) - major} minor)\n")
    print(
        "| analyser | key, weighted | key exact | tempo within 4% | tempo, octave-tolerant "
        "| key: fifth / relative / parallel / other | tempo: double / half "
        "| key exact, top / bottom third by confidence | tempo, top / bottom third |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, results in all_results.items():
        s = score(pieces, results)
        c = s.confusion
        print(
            f"| {name} | {s.weighted:.3f} | {s.exact:.3f} | {s.tempo:.3f} | {s.tempo_octave:.3f} "
            f"| {c['fifth']} / {c['relative']} / {c['parallel']} / {c['other']} "
            f"| {c['double']} / {c['half']} | {_thirds_text(s.key_thirds)} "
            f"| {_thirds_text(s.tempo_thirds)} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/eval"))
    parser.add_argument("--only", choices=sorted(ANALYSERS), action="append")
    parser.add_argument("--fresh", action="append", default=[], help="recompute this analyser")
    parser.add_argument("--truth", type=Path, default=TRUTH)
    args = parser.parse_args()
    pieces = [p for p in read_truth(args.truth) if (args.data / f"{p.id}.flac").is_file()]
    if not pieces:
        print(f"no evaluation audio in {args.data}: run `make eval-data` first")
        return 1
    names = [n for n in (args.only or ANALYSERS) if _available(n)]
    all_results = {n: run(n, pieces, args.data, n in args.fresh) for n in names}
    table("The whole set", pieces, all_results)
    for half in ("tune", "test"):
        table(f"The {half} half", [p for p in pieces if p.split == half], all_results)
    if "essentia" not in names and not args.only:
        print("\n(Essentia is not installed: `pip install essentia` adds its row.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
