"""`apollonia demo`: a small catalogue so that a newcomer has something to query, and
to hear: each track gets a few seconds of synthesised audio (workers/demo_audio.py) that
the analysis jobs turn into features and similarity edges."""

from pathlib import Path
from typing import Any

from graph import catalog, catalog_writes, media_files
from graph.engine import GraphEngine
from graph.names import name_key
from workers import demo_audio

# (artist, album, year, genres, [(title, seconds)])
DEMO: list[tuple[str, str, int, list[str], list[tuple[str, int]]]] = [
    (
        "Miles Davis",
        "Kind of Blue",
        1959,
        ["Jazz", "Modal Jazz"],
        [
            ("So What", 562),
            ("Freddie Freeloader", 586),
            ("Blue in Green", 337),
            ("All Blues", 693),
            ("Flamenco Sketches", 566),
        ],
    ),
    (
        "John Coltrane",
        "Blue Train",
        1957,
        ["Jazz", "Hard Bop"],
        [
            ("Blue Train", 643),
            ("Moment's Notice", 550),
            ("Locomotion", 434),
            ("I'm Old Fashioned", 478),
            ("Lazy Bird", 427),
        ],
    ),
    (
        "Nina Simone",
        "Little Girl Blue",
        1959,
        ["Jazz", "Soul"],
        [
            ("Mood Indigo", 215),
            ("Don't Smoke in Bed", 216),
            ("He Needs Me", 213),
            ("Little Girl Blue", 260),
            ("My Baby Just Cares for Me", 217),
        ],
    ),
    (
        "Daft Punk",
        "Discovery",
        2001,
        ["Electronic", "House"],
        [
            ("One More Time", 320),
            ("Aerodynamic", 212),
            ("Digital Love", 301),
            ("Harder, Better, Faster, Stronger", 224),
            ("Something About Us", 232),
            ("Face to Face", 240),
        ],
    ),
    (
        "Kraftwerk",
        "Trans-Europe Express",
        1977,
        ["Electronic", "Krautrock"],
        [
            ("Europe Endless", 581),
            ("The Hall of Mirrors", 476),
            ("Showroom Dummies", 370),
            ("Trans-Europe Express", 400),
            ("Metal on Metal", 131),
        ],
    ),
    (
        "Radiohead",
        "OK Computer",
        1997,
        ["Rock", "Alternative"],
        [
            ("Airbag", 284),
            ("Paranoid Android", 383),
            ("Subterranean Homesick Alien", 267),
            ("Exit Music (For a Film)", 264),
            ("Let Down", 299),
            ("Karma Police", 264),
            ("No Surprises", 228),
            ("Lucky", 259),
        ],
    ),
    (
        "Glenn Gould",
        "Bach: The Goldberg Variations",
        1981,
        ["Classical", "Baroque"],
        [
            ("Aria", 184),
            ("Variation 1", 66),
            ("Variation 2", 52),
            ("Variation 3", 74),
            ("Variation 13", 171),
            ("Variation 25", 379),
            ("Aria da capo", 221),
        ],
    ),
    (
        "Massive Attack",
        "Mezzanine",
        1998,
        ["Electronic", "Trip Hop"],
        [
            ("Angel", 379),
            ("Risingson", 298),
            ("Teardrop", 330),
            ("Inertia Creeps", 356),
            ("Dissolved Girl", 366),
        ],
    ),
]


def demo_inputs() -> list[dict[str, Any]]:
    """The demo tracks as CreateTrackInput dicts."""
    return [
        {
            "title": title,
            "artist_names": [artist],
            "album_title": album,
            "year": year,
            "genres": genres,
            "duration": float(seconds),
            "track_number": number,
            "disc_number": 1,
            "tags": ["demo"],
        }
        for artist, album, year, genres, tracks in DEMO
        for number, (title, seconds) in enumerate(tracks, start=1)
    ]


def demo_file_props(media_dir: Path) -> list[dict[str, Any]]:
    """One synthesised file per demo track, in demo_inputs() order: its track props."""
    props = []
    for artist, (_, _, _, _, tracks) in enumerate(DEMO):
        for index in range(len(tracks)):
            tempo, tonic, minor = demo_audio.track_sound(index, artist)
            content = demo_audio.wav_bytes(demo_audio.synthesise(tempo, tonic, minor, artist))
            path, sha = demo_audio.write_demo_file(media_dir, content)
            props.append(
                {
                    "file_path": str(path),
                    "content_hash": sha,
                    "file_size": len(content),
                    "format": "wav",
                    "analysis_status": "QUEUED",
                    "missing": False,
                }
            )
    return props


async def load_demo(engine: GraphEngine, media_dir: Path | None = None) -> tuple[int, list[str]]:
    """Load the demo catalogue once, with audio under `media_dir` when given. Returns
    how many tracks were added (0 if loaded before) and the ids of the tracks that got
    audio and so need analysing (a catalogue loaded without audio by an older version
    gets its audio now)."""
    inputs = demo_inputs()
    props = demo_file_props(media_dir) if media_dir is not None else [{}] * len(inputs)
    first_album = DEMO[0][1]
    if not await catalog.albums_count(engine, None, name_key(first_album), None, None):
        rows = await catalog_writes.create_tracks(
            engine, [{**i, "file_props": p} for i, p in zip(inputs, props, strict=True)]
        )
        return len(rows), [row["id"] for row in rows] if media_dir is not None else []
    if media_dir is None:
        return 0, []
    by_title = {i["title"]: p for i, p in zip(inputs, props, strict=True)}
    return 0, await media_files.attach_demo_files(engine, by_title)
