"""The tempo's building blocks on made-up novelty curves: the harmonic change, the pulse,
the tatum and its refinement, and the beat candidates at metrical ratios of the tatum."""

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
def test_the_candidates_are_the_tatum_at_metrical_ratios(beat_bpm: float) -> None:
    sixteenth = FPS * 60.0 / beat_bpm / 4
    envelope = _even_notes(sixteenth)
    found = _audio_rhythm.periodicity(envelope, np.zeros_like(envelope), SR, HOP)
    # The tatum is the sixteenth or (a sixteenth of under five frames) the eighth...
    assert round(found.tatum / sixteenth) in (1, 2)
    assert found.tatum / sixteenth == pytest.approx(round(found.tatum / sixteenth), rel=0.002)
    # ...so the beat, four sixteenths, is a candidate; five sixteenths, no metrical level
    # of it, never is.
    in_sixteenths = found.lags / sixteenth
    assert np.any(np.isclose(in_sixteenths, 4.0, rtol=0.002))
    assert not np.any(np.isclose(in_sixteenths, 5.0, rtol=0.1))
    # Nothing marks three sixteenths (a candidate when the tatum is the sixteenth): the
    # model reads the even sixteenths in twos and fours.
    rhythm = _audio_rhythm.analyse(envelope, np.zeros_like(envelope), SR, HOP)
    beats = 60.0 * FPS / rhythm.tempo_bpm / sixteenth
    assert min(abs(beats - level) for level in (2.0, 4.0, 8.0)) < 0.02 * beats


def test_the_refinement_does_not_move_the_tatum_to_another_metrical_level() -> None:
    # A chorale's autocorrelation: the beat (40 frames) and its multiples, and a stronger
    # peak at three quarters of it. The grid found the beat; its first search looks
    # within a tenth of it, so the peak at 30 frames, another metrical level, is not it.
    ac = np.zeros(600)
    for k in range(1, 15):
        ac[40 * k - 1 : 40 * k + 2] = (0.2, 0.3, 0.2)
    ac[29:32] = (0.4, 0.6, 0.4)
    ac[0] = 1.0
    assert _audio_rhythm._refine(ac, 41.0, FPS) == pytest.approx(40.0, abs=0.05)
    # A grid estimate a few percent off is still pulled onto the peak.
    assert _audio_rhythm._refine(ac, 38.5, FPS) == pytest.approx(40.0, abs=0.05)


@pytest.mark.parametrize("beat_bpm", [100.0, 116.0, 132.0])
def test_a_jig_is_read_at_its_dotted_quarter(beat_bpm: float) -> None:
    # 6/8: running eighths, the bar's downbeat strongest, the second dotted quarter next.
    # The evaluation set has no compound metre; a candidate at 2/3 of the beat (a quarter
    # note, two eighths) must not win here.
    eighth = FPS * 60.0 / beat_bpm / 3
    envelope = np.zeros(round(30 * FPS))
    for i, at in enumerate(np.arange(0.0, envelope.size - 2, eighth)):
        accent = 1.0 if i % 6 == 0 else 0.7 if i % 3 == 0 else 0.4
        envelope[int(at)] += accent * (1.0 - (at - int(at)))
        envelope[int(at) + 1] += accent * (at - int(at))
    rhythm = _audio_rhythm.analyse(envelope, np.zeros_like(envelope), SR, HOP)
    assert rhythm.tempo_bpm == pytest.approx(beat_bpm, rel=0.01)


@pytest.mark.parametrize("frames", [100, 2_000, 20_000])
def test_one_click_in_silence_has_a_tempo_in_range_and_no_confidence(frames: int) -> None:
    # No periodicity at all: the autocorrelation falls steadily, and the refinement once
    # chased its falling edge for ever (a worker hung on a file holding one clap).
    envelope = np.zeros(frames)
    envelope[frames // 3] = 1.0
    rhythm = _audio_rhythm.analyse(envelope, np.zeros_like(envelope), SR, HOP)
    assert _audio_rhythm.MIN_BPM <= rhythm.tempo_bpm <= _audio_rhythm.MAX_BPM
    assert rhythm.tempo_confidence == pytest.approx(0.0, abs=0.05)


def test_the_refinement_keeps_the_grid_period_when_there_is_no_peak() -> None:
    ac = np.linspace(1.0, 0.0, 2_000)  # falls steadily: no peak anywhere
    assert _audio_rhythm._refine(ac, 20.0, FPS) == 20.0
