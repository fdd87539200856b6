"""The tempo's building blocks on made-up novelty curves: the harmonic change, the pulse
and the tatum whose powers of two are the beat candidates."""

import numpy as np
import pytest

from workers import _audio_rhythm

SR, HOP = 22050, 512
FPS = SR / HOP


def _chroma(pitch_classes: list[int | None]) -> np.ndarray:
    """12 x frames: one pitch class sounding per frame, or silence (None)."""
    chroma = np.zeros((12, len(pitch_classes)))
    for frame, pitch in enumerate(pitch_classes):
        if pitch is not None:
            chroma[pitch, frame] = 1.0
            chroma[(pitch + 7) % 12, frame] = 0.3  # a fifth above, as a harmonic would
    return chroma


def test_harmonic_change_marks_a_new_note_and_nothing_else() -> None:
    change = _audio_rhythm.harmonic_change(_chroma([0, 0, 0, 2, 2, 2]))
    assert change[3] == pytest.approx(1.0)
    assert np.delete(change, 3) == pytest.approx(np.zeros(5), abs=1e-12)


def test_harmonic_change_next_to_silence_is_no_change() -> None:
    change = _audio_rhythm.harmonic_change(_chroma([None, None, 4, 4, None, 9]))
    assert change == pytest.approx(np.zeros(6), abs=1e-12)


def test_a_flat_curve_adds_nothing_to_the_pulse() -> None:
    envelope = np.random.default_rng(1).random(200)
    assert _audio_rhythm.pulse(envelope, np.zeros(200)) == pytest.approx(envelope / envelope.std())


def _even_notes(period_frames: float, seconds: float = 30.0) -> np.ndarray:
    """An onset envelope with an equal onset every `period_frames`: a reel of even
    sixteenths on one instrument, no accent anywhere."""
    envelope = np.zeros(round(seconds * FPS))
    for at in np.arange(0.0, envelope.size - 1, period_frames):
        envelope[int(at)] += 1.0 - (at - int(at))
        envelope[int(at) + 1] += at - int(at)
    return envelope


@pytest.mark.parametrize("beat_bpm", [96.0, 117.0, 138.0])
def test_the_candidates_are_the_sixteenth_times_powers_of_two(beat_bpm: float) -> None:
    sixteenth = FPS * 60.0 / beat_bpm / 4
    envelope = _even_notes(sixteenth)
    found = _audio_rhythm.periodicity(envelope, np.zeros_like(envelope), SR, HOP)
    # The tatum is the sixteenth or (a sixteenth of under five frames) the eighth...
    assert round(found.tatum / sixteenth) in (1, 2)
    assert found.tatum / sixteenth == pytest.approx(round(found.tatum / sixteenth), rel=0.002)
    # ...so the beat, four sixteenths, is a candidate; three or five sixteenths never are.
    in_sixteenths = found.lags / sixteenth
    assert np.any(np.isclose(in_sixteenths, 4.0, rtol=0.002))
    assert not np.any(np.isclose(in_sixteenths, 3.0, rtol=0.1))
    assert not np.any(np.isclose(in_sixteenths, 5.0, rtol=0.1))
