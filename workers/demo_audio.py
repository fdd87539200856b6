"""Short synthesised audio for the demo catalogue, so that analysis has something to hear.

Each track gets a few seconds of its own: a drum pattern at its tempo and a I-IV-V-I
progression in its key, voiced with its artist's timbre (the number and weight of the
harmonics, the attack), so that an artist's tracks sound alike and similarity edges
appear between them. Deterministic: the same track always gets the same bytes.
"""

import hashlib
import io
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 22_050
SECONDS = 6.0
Signal = npt.NDArray[np.float64]

# Per artist, in DEMO order: (harmonics, harmonic decay, attack in s, drum level).
TIMBRES = [
    (3, 0.5, 0.04, 0.25),  # soft, jazzy
    (6, 0.7, 0.01, 0.35),
    (2, 0.4, 0.08, 0.15),
    (10, 0.85, 0.002, 0.8),  # bright, electronic
    (8, 0.8, 0.005, 0.7),
    (4, 0.6, 0.003, 0.0),  # keyboard, no drums
    (9, 0.8, 0.02, 0.6),
    (5, 0.65, 0.03, 0.5),
]
PROGRESSION = (0, 5, 7, 0)  # I IV V I, in semitones above the tonic


def _tone(hz: float, t: Signal, harmonics: int, decay: float) -> Signal:
    out = np.zeros_like(t)
    for k in range(1, harmonics + 1):
        if hz * k < SAMPLE_RATE / 2:
            out += decay ** (k - 1) * np.sin(2 * np.pi * hz * k * t)
    return out


def _envelope(n: int, attack: float) -> Signal:
    env = np.ones(n)
    rise = max(1, int(attack * SAMPLE_RATE))
    env[:rise] = np.linspace(0, 1, rise)
    env *= np.exp(-np.linspace(0, 2.0, n))
    return env


def synthesise(tempo: float, tonic: int, minor: bool, artist: int) -> Signal:
    """`SECONDS` of mono audio at `tempo` BPM in the key `tonic` (0 = C) major or minor."""
    harmonics, decay, attack, drums = TIMBRES[artist % len(TIMBRES)]
    n = int(SECONDS * SAMPLE_RATE)
    out = np.zeros(n)
    chord_len = n // len(PROGRESSION)
    t = np.arange(chord_len) / SAMPLE_RATE
    for i, step in enumerate(PROGRESSION):
        root = 48 + tonic + step  # MIDI, around C3
        chord_third = 3 if minor and step != 7 else 4  # i iv V i in minor, I IV V I in major
        notes = (root, root + chord_third, root + 7, root - 12)
        chord = sum(_tone(440 * 2 ** ((m - 69) / 12), t, harmonics, decay) for m in notes)
        out[i * chord_len : (i + 1) * chord_len] += chord * _envelope(chord_len, attack)
    beat = int(SAMPLE_RATE * 60 / tempo)
    if drums > 0:
        kick_t = np.arange(int(0.12 * SAMPLE_RATE)) / SAMPLE_RATE
        kick = np.sin(2 * np.pi * 55 * kick_t) * np.exp(-kick_t * 30)
        rng = np.random.default_rng(int(tempo * 100) + tonic)
        hat_len = int(0.03 * SAMPLE_RATE)
        hat = rng.standard_normal(hat_len) * np.exp(-np.arange(hat_len) / 80)
        for start in range(0, n - len(kick), beat):
            out[start : start + len(kick)] += drums * 4 * kick
            off = start + beat // 2
            if off + len(hat) < n:
                out[off : off + len(hat)] += drums * 0.6 * hat
    peak = float(np.max(np.abs(out))) or 1.0
    return 0.8 * out / peak


def wav_bytes(signal: Signal) -> bytes:
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def track_sound(index: int, artist: int) -> tuple[float, int, bool]:
    """Tempo, tonic and mode of the demo's `index`-th track: spread over 70-170 BPM and
    the twelve keys, an artist's tracks in neighbouring keys and tempi."""
    tempo = 70.0 + (artist * 13 + index * 3) % 100
    tonic = (artist * 5 + index * 7) % 12
    minor = (artist + index) % 3 == 0
    return tempo, tonic, minor


def write_demo_file(media_dir: Path, content: bytes) -> tuple[Path, str]:
    """Store `content` as the uploads are stored (`<sha[:2]>/<sha[2:4]>/<sha>.wav`)."""
    sha = hashlib.sha256(content).hexdigest()
    path = media_dir / sha[:2] / sha[2:4] / f"{sha}.wav"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)
    return path, sha
