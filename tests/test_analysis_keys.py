"""Key notation: the Camelot and Open Key tables are what DJs compare by eye."""

import pytest

from music import keys

# The wheels as printed by Mixed In Key and Traktor, hour by hour.
CAMELOT_WHEEL = [
    ("1A", "G#", "minor"), ("1B", "B", "major"),
    ("2A", "D#", "minor"), ("2B", "F#", "major"),
    ("3A", "A#", "minor"), ("3B", "C#", "major"),
    ("4A", "F", "minor"), ("4B", "G#", "major"),
    ("5A", "C", "minor"), ("5B", "D#", "major"),
    ("6A", "G", "minor"), ("6B", "A#", "major"),
    ("7A", "D", "minor"), ("7B", "F", "major"),
    ("8A", "A", "minor"), ("8B", "C", "major"),
    ("9A", "E", "minor"), ("9B", "G", "major"),
    ("10A", "B", "minor"), ("10B", "D", "major"),
    ("11A", "F#", "minor"), ("11B", "A", "major"),
    ("12A", "C#", "minor"), ("12B", "E", "major"),
]  # fmt: skip
OPEN_KEY_WHEEL = [
    ("1m", "A", "minor"), ("1d", "C", "major"),
    ("2m", "E", "minor"), ("2d", "G", "major"),
    ("3m", "B", "minor"), ("3d", "D", "major"),
    ("4m", "F#", "minor"), ("4d", "A", "major"),
    ("5m", "C#", "minor"), ("5d", "E", "major"),
    ("6m", "G#", "minor"), ("6d", "B", "major"),
    ("7m", "D#", "minor"), ("7d", "F#", "major"),
    ("8m", "A#", "minor"), ("8d", "C#", "major"),
    ("9m", "F", "minor"), ("9d", "G#", "major"),
    ("10m", "C", "minor"), ("10d", "D#", "major"),
    ("11m", "G", "minor"), ("11d", "A#", "major"),
    ("12m", "D", "minor"), ("12d", "F", "major"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "key", "mode"), CAMELOT_WHEEL)
def test_camelot(code: str, key: str, mode: keys.Mode) -> None:
    assert keys.camelot(key, mode) == code
    assert keys.from_camelot(code) == (key, mode)


@pytest.mark.parametrize(("code", "key", "mode"), OPEN_KEY_WHEEL)
def test_open_key(code: str, key: str, mode: keys.Mode) -> None:
    assert keys.open_key(key, mode) == code


def test_the_two_wheels_are_the_same_circle_shifted_by_seven_hours() -> None:
    for key in keys.PITCH_CLASSES:
        for mode in ("major", "minor"):
            camelot_hour = keys.camelot_number(key, mode)
            open_hour = int(keys.open_key(key, mode)[:-1])
            assert camelot_hour == (open_hour + 6) % 12 + 1


def test_relative_keys_share_an_hour_and_fifths_are_neighbours() -> None:
    assert keys.camelot_number("A", "minor") == keys.camelot_number("C", "major")
    assert keys.camelot_number("G", "major") == keys.camelot_number("C", "major") + 1
    assert keys.compatible("8A") == ("8A", "8B", "9A", "7A")
    assert keys.compatible("12B") == ("12B", "12A", "1B", "11B")
    assert keys.compatible("1A") == ("1A", "1B", "2A", "12A")


def test_flats_are_spelled_as_sharps() -> None:
    assert keys.normalise_key("Bb") == "A#"
    assert keys.normalise_key("eb") == "D#"
    assert keys.camelot("Db", "major") == "3B"
    with pytest.raises(ValueError):
        keys.normalise_key("H")
    with pytest.raises(ValueError):
        keys.from_camelot("13A")
