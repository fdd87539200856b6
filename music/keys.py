"""Musical keys and the two notations DJs mix by: Camelot (Mixed In Key) and Open Key
(Traktor).

Both notations number the circle of fifths so that harmonically compatible keys are
neighbours: the same number (relative major/minor), or one step round the wheel (a fifth
up or down). They differ only in where they start: Camelot puts C major at 8B and A minor
at 8A; Open Key puts C major at 1d ("dur") and A minor at 1m ("moll").

Keys are spelled with sharps ("F#", not "Gb"): one spelling per pitch class keeps the
values comparable as strings.
"""

from typing import Literal

Mode = Literal["major", "minor"]
MODES: tuple[Mode, ...] = ("major", "minor")

PITCH_CLASSES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Written out rather than computed: these tables are what users compare against the
# labels in their DJ software, so they should be checkable by eye.
CAMELOT_MAJOR: dict[str, str] = {
    "B": "1B", "F#": "2B", "C#": "3B", "G#": "4B", "D#": "5B", "A#": "6B",
    "F": "7B", "C": "8B", "G": "9B", "D": "10B", "A": "11B", "E": "12B",
}  # fmt: skip
CAMELOT_MINOR: dict[str, str] = {
    "G#": "1A", "D#": "2A", "A#": "3A", "F": "4A", "C": "5A", "G": "6A",
    "D": "7A", "A": "8A", "E": "9A", "B": "10A", "F#": "11A", "C#": "12A",
}  # fmt: skip
OPEN_KEY_MAJOR: dict[str, str] = {
    "C": "1d", "G": "2d", "D": "3d", "A": "4d", "E": "5d", "B": "6d",
    "F#": "7d", "C#": "8d", "G#": "9d", "D#": "10d", "A#": "11d", "F": "12d",
}  # fmt: skip
OPEN_KEY_MINOR: dict[str, str] = {
    "A": "1m", "E": "2m", "B": "3m", "F#": "4m", "C#": "5m", "G#": "6m",
    "D#": "7m", "A#": "8m", "F": "9m", "C": "10m", "G": "11m", "D": "12m",
}  # fmt: skip

# A key the analysis is less sure of than this (`key_confidence`, the key model's
# probability of its answer) is treated as unknown where keys must mix: HARMONIC sonic
# paths charge a step to or from it as a clash. Below one half the model itself rates
# its answer more likely wrong than right; on the tune half of the evaluation set
# (bench/accuracy.py) keys at 0.5-0.7 were exact 14 times in 16, above 0.9 38 in 40, and
# the one below 0.5 was wrong. A key stored without a confidence (set by a client) is
# taken at its word.
MIN_KEY_CONFIDENCE = 0.5

_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E"}


def normalise_key(key: str) -> str:
    """The sharp spelling of a tonic ("Bb" -> "A#"); raises ValueError for anything else."""
    name = key.strip()
    name = name[:1].upper() + name[1:]
    name = _FLATS.get(name, name)
    if name == "E#":
        name = "F"
    elif name == "B#":
        name = "C"
    if name not in PITCH_CLASSES:
        raise ValueError(f"not a key: {key!r}")
    return name


def camelot(key: str, mode: Mode) -> str:
    """Camelot code: `camelot("A", "minor") == "8A"`, `camelot("C", "major") == "8B"`."""
    table = CAMELOT_MAJOR if mode == "major" else CAMELOT_MINOR
    return table[normalise_key(key)]


def open_key(key: str, mode: Mode) -> str:
    """Open Key code: `open_key("A", "minor") == "1m"`, `open_key("C", "major") == "1d"`."""
    table = OPEN_KEY_MAJOR if mode == "major" else OPEN_KEY_MINOR
    return table[normalise_key(key)]


def camelot_number(key: str, mode: Mode) -> int:
    """The hour on the Camelot wheel (1-12): relative keys share it, and a step of one is
    a fifth. The embedding places keys on this circle."""
    return int(camelot(key, mode)[:-1])


def from_camelot(code: str) -> tuple[str, Mode]:
    """The key and mode of a Camelot code ("8A" -> ("A", "minor")); ValueError if unknown."""
    wanted = code.strip().upper()
    tables: tuple[tuple[dict[str, str], Mode], ...] = (
        (CAMELOT_MAJOR, "major"),
        (CAMELOT_MINOR, "minor"),
    )
    for table, mode in tables:
        for key, value in table.items():
            if value == wanted:
                return key, mode
    raise ValueError(f"not a Camelot code: {code!r}")


def compatible(code: str) -> tuple[str, ...]:
    """Camelot codes that mix harmonically with `code`: itself, its relative (same number,
    other letter) and its neighbours a fifth away (number plus or minus one)."""
    key, mode = from_camelot(code)
    number, letter = camelot_number(key, mode), code.strip().upper()[-1]
    other = "A" if letter == "B" else "B"
    up, down = number % 12 + 1, (number - 2) % 12 + 1
    return (f"{number}{letter}", f"{number}{other}", f"{up}{letter}", f"{down}{letter}")


def trusted_camelot(code: str | None, confidence: float | None) -> str | None:
    """`code`, or None when its key's confidence is below MIN_KEY_CONFIDENCE."""
    if code is None or (confidence is not None and confidence < MIN_KEY_CONFIDENCE):
        return None
    return code
