"""The similarity embedding: similar rhythm and key rank above different ones."""

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

from music.embedding import EMBEDDING_DIMS, EMBEDDING_LAYOUT
from music.keys import Mode
from tests import audio_fixtures
from workers.analysis import AudioFeatures, analyze_signal, embedding, warm_up


@pytest.fixture(scope="module", autouse=True)
def _warm() -> Iterator[None]:
    warm_up()
    yield


@pytest.fixture(scope="module")
def tracks() -> dict[str, AudioFeatures]:
    specs: dict[str, tuple[float, str, Mode]] = {
        "120_C": (120.0, "C", "major"),
        "121_C": (121.0, "C", "major"),
        "90_F#m": (90.0, "F#", "minor"),
        "120_G": (120.0, "G", "major"),
        "120_F#": (120.0, "F#", "major"),
        "128_Am": (128.0, "A", "minor"),
        "174_Em": (174.0, "E", "minor"),
    }
    return {
        name: analyze_signal(audio_fixtures.mixture(bpm, key, mode, 20.0), 22050)
        for name, (bpm, key, mode) in specs.items()
    }


def _cosine(a: AudioFeatures, b: AudioFeatures) -> float:
    x, y = embedding(a), embedding(b)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def test_shape_and_layout(tracks: dict[str, AudioFeatures]) -> None:
    vector = embedding(tracks["120_C"])
    assert vector.shape == (EMBEDDING_DIMS,) == (64,)
    assert vector.dtype == np.float32 and np.isfinite(vector).all()
    assert len(EMBEDDING_LAYOUT) == len(set(EMBEDDING_LAYOUT)) == EMBEDDING_DIMS
    # No dimension dwarfs the others before the catalogue's scaler exists.
    for features in tracks.values():
        assert np.abs(embedding(features)).max() < 5.0


def test_similar_tempo_and_key_rank_first(tracks: dict[str, AudioFeatures]) -> None:
    query = tracks["120_C"]
    ranked = sorted(
        (name for name in tracks if name != "120_C"),
        key=lambda name: _cosine(query, tracks[name]),
        reverse=True,
    )
    assert ranked[0] == "121_C"
    assert _cosine(query, tracks["121_C"]) > _cosine(query, tracks["90_F#m"])
    # Same tempo: the neighbouring key on the wheel beats the opposite one.
    assert _cosine(query, tracks["120_G"]) > _cosine(query, tracks["120_F#"])


def test_tempo_is_octave_tolerant_and_keys_sit_on_the_camelot_wheel(
    tracks: dict[str, AudioFeatures],
) -> None:
    features = tracks["128_Am"]
    vector = embedding(features)
    tempo = [EMBEDDING_LAYOUT.index("tempo_sin"), EMBEDDING_LAYOUT.index("tempo_cos")]
    for octave in (0.5, 2.0):
        moved = dataclasses.replace(features, tempo_bpm=features.tempo_bpm * octave)
        assert embedding(moved)[tempo] == pytest.approx(vector[tempo], abs=1e-5)
    key = [EMBEDDING_LAYOUT.index("key_sin"), EMBEDDING_LAYOUT.index("key_cos")]
    relative = dataclasses.replace(features, key="C", mode="major")  # 8A and 8B
    assert embedding(relative)[key] == pytest.approx(vector[key], abs=1e-6)
    assert embedding(relative)[EMBEDDING_LAYOUT.index("mode")] == 1.0
    assert vector[EMBEDDING_LAYOUT.index("mode")] == -1.0
