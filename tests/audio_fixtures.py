"""Test audio made with numpy, so the analysis is checked against a known truth (BPM, key,
mode) without shipping recordings.

Every generator is deterministic (a seeded RNG for noise), returns float32 mono in [-1, 1]
and takes the sample rate, so the same material can be rendered at 44.1 kHz (the rate real
files have, which exercises resampling) or at the analysis rate.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf  # type: ignore[import-untyped]

from music.keys import PITCH_CLASSES, Mode

Signal = npt.NDArray[np.float32]


# Scale degrees (semitones above the tonic) of the chord roots, and chord qualities.
MAJOR_PROGRESSION = ((0, "maj"), (5, "maj"), (7, "maj"), (0, "maj"))  # I-IV-V-I
MINOR_PROGRESSION = ((0, "min"), (5, "min"), (7, "maj"), (0, "min"))  # i-iv-V-i
TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7)}

CLICK_BPMS = (90.0, 120.0, 128.0, 140.0, 174.0)
CHORD_KEYS: tuple[tuple[str, Mode], ...] = (
    ("C", "major"),
    ("G", "major"),
    ("F#", "major"),
    ("A#", "major"),
    ("A", "minor"),
    ("E", "minor"),
    ("C", "minor"),
    ("F#", "minor"),
)


@dataclass(frozen=True)
class Fixture:
    """One generated track and the truth it was made from (None where not applicable)."""

    name: str
    signal: Signal
    sr: int
    bpm: float | None = None
    key: str | None = None
    mode: Mode | None = None


def _midi_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69.0) / 12.0))


def _seconds(sr: int, seconds: float) -> npt.NDArray[np.float64]:
    return np.arange(round(seconds * sr), dtype=np.float64) / sr


def _place(out: npt.NDArray[np.float64], event: npt.NDArray[np.float64], start: int) -> None:
    end = min(len(out), start + len(event))
    if start < end:
        out[start:end] += event[: end - start]


def _normalise(y: npt.NDArray[np.float64], peak: float = 0.8) -> Signal:
    top = float(np.max(np.abs(y))) if y.size else 0.0
    scaled = y * (peak / top) if top > 0 else y
    return scaled.astype(np.float32)


def click_track(bpm: float, seconds: float = 30.0, sr: int = 22050) -> Signal:
    """A metronome: a 1.5 kHz blip with a noise transient on every beat, the downbeat of
    each 4/4 bar a little louder and higher, as a click track in a DAW sounds."""
    out = np.zeros(round(seconds * sr))
    rng = np.random.default_rng(int(bpm * 10))
    t = _seconds(sr, 0.04)
    decay = np.exp(-t / 0.008)
    period = 60.0 / bpm
    beat = 0
    while beat * period < seconds:
        freq, gain = (2000.0, 1.0) if beat % 4 == 0 else (1500.0, 0.7)
        blip = np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal(t.size)
        _place(out, gain * blip * decay, round(beat * period * sr))
        beat += 1
    return _normalise(out)


def _kick(sr: int) -> npt.NDArray[np.float64]:
    t = _seconds(sr, 0.25)
    freq = 50.0 + 90.0 * np.exp(-t / 0.03)  # a pitch sweep from 140 Hz down to 50 Hz
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.09)


def _noise_hit(
    sr: int, seconds: float, tau: float, rng: np.random.Generator, highpass: bool
) -> npt.NDArray[np.float64]:
    t = _seconds(sr, seconds)
    noise = rng.standard_normal(t.size)
    if highpass:  # a first difference tilts the noise towards the top octave, like a hi-hat
        noise = np.diff(noise, prepend=0.0)
    return noise * np.exp(-t / tau)


def drum_loop(bpm: float, seconds: float = 30.0, sr: int = 22050) -> Signal:
    """A four-on-the-floor-ish pattern: kick on 1 and 3, snare on 2 and 4, hi-hat on every
    eighth note (the off-beat ones quieter)."""
    out = np.zeros(round(seconds * sr))
    rng = np.random.default_rng(int(bpm * 100))
    kick, period = _kick(sr), 60.0 / bpm
    eighth = 0
    while eighth * period / 2 < seconds:
        start = round(eighth * period / 2 * sr)
        if eighth % 2 == 0:
            beat = eighth // 2
            if beat % 2 == 0:
                _place(out, 1.0 * kick, start)
            else:
                _place(out, 0.5 * _noise_hit(sr, 0.2, 0.05, rng, highpass=False), start)
        gain = 0.18 if eighth % 2 == 0 else 0.1
        _place(out, gain * _noise_hit(sr, 0.06, 0.012, rng, highpass=True), start)
        eighth += 1
    return _normalise(out)


def _tone(hz: float, seconds: float, sr: int, harmonics: int = 8) -> npt.NDArray[np.float64]:
    """A harmonic-rich tone (sawtooth-like partials 1/k), with a soft attack and release so
    chord changes do not click."""
    t = _seconds(sr, seconds)
    y = np.zeros_like(t)
    for k in range(1, harmonics + 1):
        if hz * k < sr / 2:
            y += np.sin(2 * np.pi * hz * k * t) / k
    ramp = min(t.size // 4, round(0.02 * sr))
    envelope = np.ones_like(t)
    if ramp:
        envelope[:ramp] = np.linspace(0.0, 1.0, ramp)
        envelope[-ramp:] = np.linspace(1.0, 0.0, ramp)
    return y * envelope * np.exp(-t / (4 * seconds))


def chord_progression(
    key: str,
    mode: Mode,
    seconds: float = 16.0,
    sr: int = 22050,
    chord_seconds: float = 2.0,
) -> Signal:
    """I-IV-V-I (major) or i-iv-V-i (minor) in `key`, repeated: each chord a bass note on
    the root plus a close triad an octave and a half above, all harmonic-rich tones."""
    tonic = PITCH_CLASSES.index(key)
    progression = MAJOR_PROGRESSION if mode == "major" else MINOR_PROGRESSION
    out = np.zeros(round(seconds * sr))
    n_chords = int(np.ceil(seconds / chord_seconds))
    for i in range(n_chords):
        degree, quality = progression[i % len(progression)]
        root = 48 + (tonic + degree) % 12  # C3..B3
        notes: Sequence[float] = [root - 12] + [root + 12 + s for s in TRIADS[quality]]
        chord = sum(_tone(_midi_hz(n), chord_seconds, sr) for n in notes)
        _place(out, np.asarray(chord), round(i * chord_seconds * sr))
    return _normalise(out, peak=0.6)


def mixture(bpm: float, key: str, mode: Mode, seconds: float = 30.0, sr: int = 22050) -> Signal:
    """Drums and chords together, one chord per 4/4 bar so harmony follows the beat."""
    bar = 4 * 60.0 / bpm
    chords = chord_progression(key, mode, seconds, sr, chord_seconds=bar)
    drums = drum_loop(bpm, seconds, sr)
    return _normalise(0.6 * chords + 0.5 * drums)


def click_set(seconds: float = 30.0, sr: int = 22050) -> list[Fixture]:
    """Click tracks at the BPMs DJs meet most (hip-hop, house, techno, dubstep, drum & bass)."""
    return [Fixture(f"click_{b:g}", click_track(b, seconds, sr), sr, bpm=b) for b in CLICK_BPMS]


def chord_set(seconds: float = 16.0, sr: int = 22050) -> list[Fixture]:
    """Chord progressions in major and minor keys, sharps and naturals."""
    return [
        Fixture(f"chords_{k}_{m}", chord_progression(k, m, seconds, sr), sr, key=k, mode=m)
        for k, m in CHORD_KEYS
    ]


def mixture_set(seconds: float = 30.0, sr: int = 22050) -> list[Fixture]:
    """Drums plus chords, each with a tempo and a key."""
    specs: list[tuple[float, str, Mode]] = [
        (120.0, "C", "major"),
        (128.0, "A", "minor"),
        (90.0, "F#", "minor"),
        (140.0, "G", "major"),
        (174.0, "E", "minor"),
    ]
    return [
        Fixture(f"mix_{b:g}_{k}_{m}", mixture(b, k, m, seconds, sr), sr, bpm=b, key=k, mode=m)
        for b, k, m in specs
    ]


_CODECS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),  # Opus only takes 8, 12, 16, 24 or 48 kHz
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}


def write(path: Path, signal: Signal, sr: int, stereo: bool = False) -> Path:
    """Write `signal` to `path` in the container and codec its suffix names (.wav, .flac,
    .ogg, .opus, .mp3), all through libsndfile; `stereo` duplicates the channel."""
    data = np.stack([signal, signal], axis=1) if stereo else signal
    container, codec = _CODECS[path.suffix]
    sf.write(str(path), data, sr, format=container, subtype=codec)
    return path


# PyAV's wheel bundles FFmpeg with these encoders: (container, codec, rate or None to keep).
# Opus runs at 48 kHz only; Vorbis is FFmpeg's own (experimental) encoder.
_AV_CODECS = {
    ".m4a": ("ipod", "aac", None),
    ".aac": ("adts", "aac", None),
    ".ogg": ("ogg", "vorbis", None),
    ".opus": ("ogg", "libopus", 48000),
    ".aiff": ("aiff", "pcm_s16be", None),
    ".wma": ("asf", "wmav2", None),
    ".mp3": ("mp3", "libmp3lame", None),
    ".flac": ("flac", "flac", None),
    ".wav": ("wav", "pcm_s16le", None),
}


def encode(path: Path, signal: Signal, sr: int, stereo: bool = False) -> Path:
    """Write `signal` to `path` with PyAV (FFmpeg) in the container and codec its suffix
    names: .m4a (AAC), .aac (ADTS), .ogg (Vorbis), .opus, .aiff, .wma, .mp3, .flac, .wav.
    The encoder's own sample format and frame size are used; opus resamples to 48 kHz and
    Vorbis is always stereo."""
    import av

    fmt, codec, rate = _AV_CODECS[path.suffix]
    stereo = stereo or codec == "vorbis"  # FFmpeg's Vorbis encoder writes stereo only
    layout = "stereo" if stereo else "mono"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate or sr, layout=layout)
        if codec in ("wmav2", "vorbis"):
            stream.bit_rate = 128_000
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout=layout, rate=rate or sr
        )
        size = stream.codec_context.frame_size or 1024
        data = np.stack([signal, signal]) if stereo else signal[None, :]
        for start in range(0, data.shape[1], size):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data[:, start : start + size], dtype=np.float32),
                format="fltp",
                layout=layout,
            )
            frame.sample_rate = sr
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    out.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def wav_with_codec_tag(tag: int, seconds: float = 2.0) -> bytes:
    """A well-formed RIFF/WAVE file whose `fmt ` chunk names codec `tag` (1 is PCM), with
    `seconds` of zero bytes as data: a container every reader parses, a codec maybe none
    decodes."""
    import struct

    rate, data = 8000, bytes(round(2 * 8000 * seconds))
    fmt = struct.pack("<HHIIHH", tag, 1, rate, 2 * rate, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body
