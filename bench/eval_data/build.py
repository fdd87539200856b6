"""Build the evaluation set: real music with known keys and tempi, rendered here.

Scores come from music21's corpus (openly licensed, installed from PyPI): Bach chorales,
string quartets and keyboard pieces of the classical composers, and folk tunes (the Essen
collection, Ryan's Mammoth Collection). Each is cut to about a minute, given a tempo and
instruments, written as MIDI and rendered by Debian's fluidsynth with the FluidR3 General
MIDI soundfont; the audio goes to `data/eval/` (outside git) and the truth table to
`bench/eval_data/truth.csv` (in git).

The key of each excerpt is music21's Krumhansl-Schmuckler analysis of the excerpt's notes
(symbolic, so free of any audio error), kept only when it agrees with the key signature
written in the score (same sharps or flats) and correlates at 0.75 or more: an excerpt
that modulates away or whose mode is doubtful is skipped. The tempo is the one written
into the MIDI (quarter notes per minute; only 2/4, 3/4 and 4/4 pieces, so the quarter is
the beat), drawn per piece from a range typical of its kind.

    make eval-data                      # or: .venv/bin/python -m bench.eval_data.build
    .venv/bin/python -m bench.eval_data.build --per-mode 90 --out data/eval

The set is balanced over major and minor, and every piece is assigned to the `tune` or
the `test` half by a hash of its id: anything tuned on the set is reported on `test` only.
`--split train --exclude bench/eval_data/truth.csv` (`make eval-train`) renders extra
training pieces instead, all in the `train` split, from corpus files no piece of the set
comes from: bench/eval_data/truth-train.csv, audio in data/eval-train/.
"""

import argparse
import csv
import hashlib
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

TRUTH = Path(__file__).with_name("truth.csv")
# Extra training pieces for the tempo model (`--split train`), drawn from corpus files
# that no piece of TRUTH comes from; never reported on. Audio in data/eval-train/.
TRAIN_TRUTH = Path(__file__).with_name("truth-train.csv")
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SR = 22050
SECONDS = 60.0
MIN_SECONDS = 40.0
MIN_CORRELATION = 0.75
# How _render loops an excerpt, kept in the sidecar: audio looped before issue #12's seam
# fix (whole repeats of the notated length, a pickup shifting the grid) is rendered again.
LOOP = "whole bars"

# (source, corpus selector, tempo range in quarter notes per minute, textures to draw from)
SOURCES = (
    ("chorale", "bach", (60.0, 100.0), ("organ", "strings", "choir", "winds", "piano")),
    ("classical", "haydn", (80.0, 150.0), ("strings", "piano")),
    ("classical", "mozart", (80.0, 150.0), ("strings", "piano")),
    ("classical", "beethoven", (80.0, 150.0), ("strings", "piano")),
    ("classical", "schubert", (70.0, 140.0), ("piano", "strings")),
    ("classical", "schumann_robert", (70.0, 140.0), ("piano",)),
    ("classical", "chopin", (70.0, 140.0), ("piano",)),
    ("classical", "joplin", (75.0, 110.0), ("piano",)),
    ("classical", "handel", (70.0, 130.0), ("strings", "harpsichord")),
    ("classical", "corelli", (70.0, 130.0), ("strings", "harpsichord")),
    ("folk", "essenFolksong", (90.0, 150.0), ("flute", "violin", "guitar", "oboe")),
    ("folk", "ryansMammoth", (90.0, 150.0), ("violin", "flute", "accordion")),
)
# General MIDI programs (0-based) per texture, top part first; the last repeats downwards.
TEXTURES = {
    "organ": (19,),
    "strings": (40, 40, 41, 42),
    "choir": (52,),
    "winds": (73, 68, 71, 70),
    "piano": (0,),
    "harpsichord": (6,),
    "flute": (73,),
    "violin": (40,),
    "guitar": (24,),
    "oboe": (68,),
    "accordion": (21,),
}
MAX_SCORE_BYTES = 60_000
PER_SOURCE = 40  # pieces per corpus selector at most, so no one composer dominates
PER_FILE = 3  # a folk collection holds hundreds of tunes in one file


@dataclass(frozen=True)
class Piece:
    id: str
    source: str
    corpus_path: str
    texture: str
    key: str  # "C major", "F# minor": mir_eval's spelling
    tempo_bpm: float
    meter: str
    seconds: float
    split: str


def _paths(selector: str) -> list[str]:
    from music21 import corpus

    if selector in ("essenFolksong", "ryansMammoth"):
        found = [str(p) for p in corpus.getPaths() if selector in str(p)]
    else:
        found = [str(p) for p in corpus.getComposer(selector)]
    return sorted(found)


def _scores(path: str, rng: random.Random) -> list[object]:
    """The score(s) in a corpus file: an opus (a folk collection) gives a few, drawn."""
    from music21 import corpus, stream

    parsed = corpus.parse(path)
    if isinstance(parsed, stream.Opus):
        scores = list(parsed.scores)
        rng.shuffle(scores)
        return scores[:6]
    return [parsed]


def _meter(score: object) -> str | None:
    from music21 import meter

    signatures = list(score.recurse().getElementsByClass(meter.TimeSignature))  # type: ignore[attr-defined]
    if not signatures:
        return None
    first = signatures[0]
    changes = {s.ratioString for s in signatures}
    if len(changes) > 1 or first.denominator != 4 or first.numerator not in (2, 3, 4):
        return None
    return str(first.ratioString)


def _excerpt(score: object, bpm: float) -> object | None:
    """The first measures that last about SECONDS at `bpm` (a short tune whole)."""
    quarters = SECONDS * bpm / 60.0
    measures = score.parts[0].getElementsByClass("Measure")  # type: ignore[attr-defined]
    total, last = 0.0, None
    for measure in measures:
        total += float(measure.duration.quarterLength)
        last = measure.number
        if total >= quarters:
            break
    if last is None:
        return None
    first = measures[0].number
    return score.measures(first, last)  # type: ignore[attr-defined]


def _truth_key(excerpt: object) -> str | None:
    """The excerpt's key when the note analysis and the key signature agree."""
    from music21 import key

    signatures = list(excerpt.recurse().getElementsByClass(key.KeySignature))  # type: ignore[attr-defined]
    if not signatures or len({s.sharps for s in signatures}) > 1:
        return None  # no signature, or it changes within the excerpt
    analysed = excerpt.analyze("key")  # type: ignore[attr-defined]
    if analysed.mode not in ("major", "minor") or analysed.sharps != signatures[0].sharps:
        return None
    if analysed.correlationCoefficient < MIN_CORRELATION:
        return None
    tonic = analysed.tonic.name.replace("-", "b")
    return f"{tonic} {analysed.mode}"


def _orchestrate(excerpt: object, texture: str, bpm: float) -> None:
    from music21 import instrument, tempo

    programs = TEXTURES[texture]
    # Repeats would make the MIDI longer than the excerpt's notated length: play it once.
    for kind in ("Repeat", "RepeatExpression", "RepeatBracket"):
        for mark in list(excerpt.recurse().getElementsByClass(kind)):  # type: ignore[attr-defined]
            if mark.activeSite is not None:
                mark.activeSite.remove(mark)
    for mark in list(excerpt.recurse().getElementsByClass(tempo.MetronomeMark)):  # type: ignore[attr-defined]
        mark.activeSite.remove(mark)
    parts = list(excerpt.parts)  # type: ignore[attr-defined]
    for index, part in enumerate(parts):
        for old in list(part.recurse().getElementsByClass(instrument.Instrument)):
            old.activeSite.remove(old)
        chosen = instrument.Instrument()
        chosen.midiProgram = programs[min(index, len(programs) - 1)]
        chosen.midiChannel = index if index < 9 else index + 1
        part.insert(0, chosen)
    parts[0].insert(0, tempo.MetronomeMark(number=bpm))


def _bar_quarters(meter_name: str) -> float:
    """A bar's length in quarter notes: 3 in 3/4, 2 in 2/4, 4 in 4/4."""
    numerator, denominator = meter_name.split("/")
    return int(numerator) * 4.0 / int(denominator)


def _loop(quarters: float, bpm: float, meter_name: str) -> tuple[int, int]:
    """How an excerpt of `quarters` is looped to about SECONDS: the samples of one repeat
    and the number of repeats. A looped excerpt is padded to whole bars of its metre: an
    excerpt with a pickup (32.5 quarters of a 2/4 reel) would otherwise shift the beat and
    bar grid by a fraction of a beat at every seam. One that plays once is not padded."""
    bar = _bar_quarters(meter_name)
    padded = math.ceil(quarters / bar - 1e-6) * bar  # 1e-6: float sums of tuplets
    repeats = max(1, round(SECONDS / (padded * 60.0 / bpm)))
    played = padded if repeats > 1 else quarters
    return round(played * 60.0 / bpm * SR), repeats


def _render(excerpt: object, out: Path, quarters: float, bpm: float, meter_name: str) -> float:
    """MIDI through fluidsynth to a mono 22,050 Hz FLAC, a short tune looped to about
    SECONDS: the seconds written. Whole repeats only, each padded to a whole number of bars
    (`_loop`), so the beat and the bar grid run on across the seams; the padding is the
    rest of the last bar before the next repeat's pickup, and holds the render's own
    release of the last notes, then silence."""
    samples, repeats = _loop(quarters, bpm, meter_name)
    with tempfile.TemporaryDirectory() as folder:
        midi, wav = Path(folder) / "x.mid", Path(folder) / "x.wav"
        excerpt.write("midi", fp=str(midi))  # type: ignore[attr-defined]
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-q",
                "-g",
                "0.6",
                "-r",
                str(SR),
                "-F",
                str(wav),
                str(SOUNDFONT),
                str(midi),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        audio, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    assert sr == SR, sr
    y = audio.mean(axis=1)[:samples]
    if y.size < samples:
        y = np.pad(y, (0, samples - y.size))
    y = np.tile(y, repeats)
    peak = float(np.abs(y).max())
    if peak > 0:
        y = y * (0.89 / peak)  # -1 dBFS
    sf.write(str(out), y, sr, format="FLAC", subtype="PCM_16")
    return y.size / sr


def _same(sidecar: Path, drawn: dict[str, object]) -> bool:
    """Whether audio rendered earlier was made with this run's tempo and instruments."""
    try:
        return bool(json.loads(sidecar.read_text()) == drawn)
    except (OSError, ValueError):
        return False


def _split(piece_id: str) -> str:
    return "test" if hashlib.sha256(piece_id.encode()).digest()[0] % 2 else "tune"


def build(
    out: Path,
    per_mode: int,
    seed: int,
    selectors: set[str] | None = None,
    truth: Path = TRUTH,
    per_source: int = PER_SOURCE,
    modes: tuple[str, ...] = ("major", "minor"),
    split: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[Piece]:
    """Render pieces into `out` and write their truth table. `split` puts every piece in
    that split instead of the hash's `tune` or `test`; `exclude` names corpus files (as
    in the truth table's `corpus_path`) not to draw from."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pieces: list[Piece] = []
    counts = {"major": 0, "minor": 0}
    quota = {m: per_mode if m in modes else 0 for m in ("major", "minor")}
    per_source_mode = max(1, per_source // 2)
    started = time.monotonic()
    for source, selector, (slow, fast), textures in SOURCES:
        if selectors is not None and selector not in selectors:
            continue
        taken = {"major": 0, "minor": 0}
        paths = _paths(selector)
        rng.shuffle(paths)
        # Large scores (whole symphonic movements) take music21 many seconds to parse.
        paths = [
            p
            for p in paths
            if Path(p).stat().st_size < MAX_SCORE_BYTES and _relative(p) not in exclude
        ]
        for path in paths[:200]:
            if all(counts[m] >= quota[m] for m in counts) or all(
                taken[m] >= min(per_source_mode, quota[m]) for m in taken
            ):
                break
            try:
                scores = _scores(path, rng)
            except Exception as e:  # a corpus file music21 cannot parse: skip it
                print(f"skip {path}: {type(e).__name__}", file=sys.stderr)
                continue
            from_file = 0
            for number, score in enumerate(scores):
                piece = _piece(score, source, selector, path, number, slow, fast, textures, rng)
                if piece is None:
                    continue
                excerpt, texture, bpm, meter_name, key_name, quarters = piece
                mode = key_name.split()[1]
                if counts[mode] >= quota[mode] or taken[mode] >= per_source_mode:
                    continue
                stem = _relative(path).rsplit(".", 1)[0].replace("/", "-")
                piece_id = f"{stem}-{number}"
                audio = out / f"{piece_id}.flac"
                drawn = {"tempo_bpm": bpm, "texture": texture, "loop": LOOP}
                sidecar = audio.with_suffix(".json")
                try:
                    if audio.is_file() and sidecar.is_file() and _same(sidecar, drawn):
                        seconds = float(sf.info(str(audio)).duration)  # rendered before
                    else:
                        _orchestrate(excerpt, texture, bpm)
                        seconds = _render(excerpt, audio, quarters, bpm, meter_name)
                        sidecar.write_text(json.dumps(drawn))
                except Exception as e:  # music21's MIDI writer or fluidsynth: skip the piece
                    print(f"skip {piece_id}: render failed ({type(e).__name__})", file=sys.stderr)
                    continue
                counts[mode] += 1
                taken[mode] += 1
                pieces.append(
                    Piece(
                        piece_id,
                        source,
                        _relative(path),
                        texture,
                        key_name,
                        round(bpm, 2),
                        meter_name,
                        round(seconds, 2),
                        split or _split(piece_id),
                    )
                )
                write_truth(pieces, truth)  # after each piece: a stopped run keeps its rows
                print(
                    f"{len(pieces):4d} {piece_id:40s} {key_name:10s} {bpm:6.1f} BPM "
                    f"{texture:11s} {time.monotonic() - started:6.0f} s",
                    flush=True,
                )
                from_file += 1
                if from_file >= PER_FILE:  # a few pieces per corpus file at most
                    break
    return pieces


def _piece(
    score: object,
    source: str,
    selector: str,
    path: str,
    number: int,
    slow: float,
    fast: float,
    textures: tuple[str, ...],
    rng: random.Random,
) -> tuple[object, str, float, str, str, float] | None:
    meter_name = _meter(score)
    if meter_name is None:
        return None
    bpm = round(float(np.exp(rng.uniform(np.log(slow), np.log(fast)))), 1)
    try:
        excerpt = _excerpt(score, bpm)
        if excerpt is None:
            return None
        quarters = float(excerpt.parts[0].duration.quarterLength)  # type: ignore[attr-defined]
        if quarters * 60.0 / bpm < MIN_SECONDS / 3:
            return None  # a fragment: even looped it would say little
        key_name = _truth_key(excerpt)
    except Exception as e:  # music21 fails on odd scores in many ways: skip them
        print(f"skip {path}#{number}: {type(e).__name__}", file=sys.stderr)
        return None
    if key_name is None:
        return None
    return excerpt, rng.choice(textures), bpm, meter_name, key_name, quarters


def _relative(path: str) -> str:
    marker = "/corpus/"
    return path[path.index(marker) + len(marker) :] if marker in path else Path(path).name


def write_truth(pieces: list[Piece], path: Path = TRUTH) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(Piece.__dataclass_fields__))
        writer.writeheader()
        for piece in sorted(pieces, key=lambda p: p.id):
            writer.writerow(asdict(piece))


def read_truth(path: Path = TRUTH) -> list[Piece]:
    with open(path, newline="") as f:
        return [
            Piece(**{**row, "tempo_bpm": float(row["tempo_bpm"]), "seconds": float(row["seconds"])})
            for row in csv.DictReader(f)
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/eval"))
    parser.add_argument("--per-mode", type=int, default=90, help="pieces per mode (90)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--sources", help="corpus selectors to build, comma-separated (all)")
    parser.add_argument("--per-source", type=int, default=PER_SOURCE)
    parser.add_argument("--modes", default="major,minor", help="build only these modes")
    parser.add_argument(
        "--split",
        choices=("train",),
        help="put every piece in this split (extra training data, never reported on)",
    )
    parser.add_argument(
        "--exclude",
        type=Path,
        nargs="+",
        default=[],
        help="truth tables whose corpus files are not drawn from",
    )
    parser.add_argument(
        "--merge", type=Path, nargs="+", help="only merge these truth tables into --truth"
    )
    args = parser.parse_args()
    if args.merge:
        merged = {p.id: p for table in args.merge for p in read_truth(table)}
        write_truth(list(merged.values()), args.truth)
        print(f"{len(merged)} pieces in {args.truth}")
        return 0
    if shutil.which("fluidsynth") is None or not SOUNDFONT.is_file():
        print("fluidsynth and fluid-soundfont-gm are needed: bench/eval_data/deps.sh")
        return 1
    selectors = set(args.sources.split(",")) if args.sources else None
    modes = tuple(args.modes.split(","))
    exclude = frozenset(p.corpus_path for table in args.exclude for p in read_truth(table))
    pieces = build(
        args.out,
        args.per_mode,
        args.seed,
        selectors,
        args.truth,
        args.per_source,
        modes,
        args.split,
        exclude,
    )
    write_truth(pieces, args.truth)
    modes = {m: sum(p.key.endswith(m) for p in pieces) for m in ("major", "minor")}
    print(f"{len(pieces)} pieces ({modes['major']} major, {modes['minor']} minor) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
