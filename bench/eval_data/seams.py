"""Issue #12's seam fix applied to an evaluation set rendered before it: which pieces were
looped over a seam that shifts the beat and bar grid (an excerpt that is not a whole
number of bars, most often for a pickup), and their audio rendered again as build.py now
renders it (`_loop`: each repeat padded to whole bars), with the tempo and instruments of
the first render (the sidecar .json) so that only the seams change.

The excerpt is found again from the truth row and the sidecar: the corpus file's score(s)
in the piece's metre, cut by build.py's `_excerpt` at the sidecar's tempo, whose old loop
gives exactly the FLAC's length in samples and whose key is the truth's (a folk
collection holds hundreds of tunes; the build's shuffled draw is not replayed, and a
piece that matches several tunes is only re-rendered when none of them needs it).

    .venv/bin/python -m bench.eval_data.seams --data data/eval             # list them
    .venv/bin/python -m bench.eval_data.seams --data data/eval --render    # and render

`--render` also marks the sidecars of the pieces whose audio is already right, so that
`make eval-data` keeps them; the analysers' caches (results-*.json) keep their rows for
the re-rendered files: delete those rows, or run bench.accuracy with `--fresh`.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf  # type: ignore[import-untyped]

from bench.eval_data.build import (
    LOOP,
    SECONDS,
    SR,
    TRUTH,
    Piece,
    _bar_quarters,
    _excerpt,
    _loop,
    _meter,
    _orchestrate,
    _render,
    _truth_key,
    read_truth,
)


@dataclass
class Found:
    piece: Piece
    excerpt: object
    quarters: float
    bpm: float
    texture: str
    frames: int  # of the FLAC as it is

    @property
    def bars(self) -> float:
        return self.quarters / _bar_quarters(self.piece.meter)

    @property
    def changes(self) -> bool:
        """Whether the fixed loop differs from the one in the FLAC."""
        samples, repeats = _loop(self.quarters, self.bpm, self.piece.meter)
        return samples * repeats != self.frames


def _old_frames(quarters: float, bpm: float) -> int:
    """The samples build.py wrote before the fix: whole repeats of the notated length."""
    seconds = quarters * 60.0 / bpm
    return round(seconds * SR) * max(1, round(SECONDS / seconds))


def find(piece: Piece, folder: Path) -> list[Found]:
    """The excerpts of the corpus that the piece's FLAC may have been rendered from: none
    when it is not a render of this truth row, several when tunes of one collection share
    the metre, key and length."""
    from music21 import corpus, stream

    audio = folder / f"{piece.id}.flac"
    drawn = json.loads(audio.with_suffix(".json").read_text())
    bpm, texture = float(drawn["tempo_bpm"]), str(drawn["texture"])
    frames = int(sf.info(str(audio)).frames)
    parsed = corpus.parse(piece.corpus_path)
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    found = []
    for score in scores:
        if _meter(score) != piece.meter:
            continue
        try:
            excerpt = _excerpt(score, bpm)
            if excerpt is None:
                continue
            quarters = float(excerpt.parts[0].duration.quarterLength)  # type: ignore[attr-defined]
            samples, repeats = _loop(quarters, bpm, piece.meter)
            fixed = drawn.get("loop") == LOOP
            if frames != (samples * repeats if fixed else _old_frames(quarters, bpm)):
                continue
            if _truth_key(excerpt) != piece.key:
                continue
        except Exception:  # music21 fails on odd scores in many ways, as in build.py
            continue
        found.append(Found(piece, excerpt, quarters, bpm, texture, frames))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/eval"))
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--render", action="store_true", help="render the affected again")
    parser.add_argument("--only", nargs="+", help="these piece ids only")
    args = parser.parse_args()
    pieces = [p for p in read_truth(args.truth) if (args.data / f"{p.id}.flac").is_file()]
    if args.only:
        pieces = [p for p in pieces if p.id in args.only]
    affected, unmatched = 0, 0
    for piece in pieces:
        found = find(piece, args.data)
        if not found or (len(found) > 1 and any(f.changes for f in found)):
            unmatched += 1
            print(f"{piece.id}: {len(found)} matching excerpts, left as it is", file=sys.stderr)
            continue
        # Tunes of one collection that share metre, key and length: which one was drawn
        # does not matter when none of them changes.
        f = found[0]
        sidecar = (args.data / f"{piece.id}.flac").with_suffix(".json")
        samples, repeats = _loop(f.quarters, f.bpm, piece.meter)
        if f.changes:
            affected += 1
            print(
                f"{piece.id}\t{piece.split}\t{piece.meter}\t{f.quarters:g} quarters"
                f"\t{f.bars:.3f} bars\t{f.frames / SR:.2f} s -> {samples * repeats / SR:.2f} s"
                f"\t{repeats} repeats",
                flush=True,
            )
        if args.render and f.changes:
            _orchestrate(f.excerpt, f.texture, f.bpm)
            _render(f.excerpt, args.data / f"{piece.id}.flac", f.quarters, f.bpm, piece.meter)
        if args.render:
            drawn = {"tempo_bpm": f.bpm, "texture": f.texture, "loop": LOOP}
            sidecar.write_text(json.dumps(drawn))
    print(f"{affected} of {len(pieces)} pieces looped off the bar grid; {unmatched} not found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
