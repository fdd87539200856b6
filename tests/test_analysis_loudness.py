"""BS.1770-4 loudness and EBU Tech 3342 loudness range against the standards' own cases."""

import numpy as np
import pytest

from workers import _audio_loudness


def _sine(dbfs: float, seconds: float, sr: int, hz: float = 997.0) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_k_weighting_at_48k_is_the_standards_table() -> None:
    shelf, highpass = _audio_loudness.k_weighting(48000)
    assert shelf == pytest.approx(
        [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241,
         0.73248077421585], abs=1e-9,
    )  # fmt: skip
    assert highpass == pytest.approx(
        [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], abs=1e-9
    )


@pytest.mark.parametrize("sr", [22050, 44100, 48000])
def test_ebu_3341_case_1_stereo_sine_at_minus_23(sr: int) -> None:
    """A 1 kHz sine at -23 dBFS in both channels reads -23.0 LUFS (+-0.1 LU)."""
    tone = _sine(-23.0, 20.0, sr)
    measured = _audio_loudness.measure(np.stack([tone, tone]), sr)
    assert measured.integrated_lufs == pytest.approx(-23.0, abs=0.1)


def test_gating_ignores_silence_and_a_quiet_passage() -> None:
    """Silence falls under the absolute gate (-70 LUFS), a passage 40 dB down under the
    relative one (10 LU below the ungated level); only the three blocks straddling the
    edge of the tone, partly filled, still count (a few hundredths of a LU)."""
    sr = 22050
    tone = _sine(-20.0, 10.0, sr)
    alone = _audio_loudness.measure(tone[None], sr).integrated_lufs
    padded = np.concatenate([tone, np.zeros(10 * sr, np.float32), _sine(-60.0, 10.0, sr)])
    gated = _audio_loudness.measure(padded[None], sr).integrated_lufs
    assert alone == pytest.approx(-23.0, abs=0.1)
    assert gated == pytest.approx(alone, abs=0.1)
    assert _audio_loudness.measure(np.zeros((1, 5 * sr), np.float32), sr).integrated_lufs is None


def test_ebu_3342_loudness_range_of_two_levels() -> None:
    """20 s at -20 dBFS then 20 s at -30 dBFS: a loudness range of 10 LU (+-1)."""
    sr = 22050
    tone = np.concatenate([_sine(-20.0, 20.0, sr), _sine(-30.0, 20.0, sr)])
    measured = _audio_loudness.measure(np.stack([tone, tone]), sr)
    assert measured.range_lu == pytest.approx(10.0, abs=1.0)
    steady = _audio_loudness.measure(_sine(-20.0, 20.0, sr)[None], sr)
    assert steady.range_lu == pytest.approx(0.0, abs=0.1)
