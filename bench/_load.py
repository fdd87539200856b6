"""A synthetic catalogue with a realistic fan-out, and its bulk load.

For N tracks: about N/10 artists and N/10 albums (each album by one artist, about ten
tracks each), 20 genres; every track credits its album's artist and, for about a third
of the tracks, a featured artist too, and has one or two genres.
"""

import random
import time
from collections.abc import Callable
from typing import Any

from graph import catalog_writes
from graph.engine import GraphEngine
from graph.migrations import migrate

GENRES = (
    "Rock",
    "Pop",
    "Jazz",
    "Blues",
    "Classical",
    "Electronic",
    "Hip Hop",
    "Folk",
    "Soul",
    "Reggae",
    "Metal",
    "Punk",
    "Country",
    "Funk",
    "Ambient",
    "House",
    "Techno",
    "Latin",
    "Gospel",
    "Soundtrack",
)
WORDS = (
    "blue",
    "night",
    "river",
    "golden",
    "echo",
    "fire",
    "silent",
    "city",
    "dream",
    "storm",
    "paper",
    "glass",
    "summer",
    "winter",
    "velvet",
    "neon",
    "ghost",
    "harbor",
    "wild",
    "iron",
    "moon",
    "sugar",
    "thunder",
    "lonely",
    "electric",
    "garden",
    "shadow",
    "desert",
    "crystal",
    "ocean",
    "highway",
    "morning",
    "satellite",
    "honey",
    "broken",
    "distant",
    "northern",
    "red",
)
TAGS = ("live", "remaster", "acoustic", "instrumental", "demo", "single", "explicit", "mono")
BATCH = 500  # tracks per create_tracks call: one write transaction each


def catalogue(tracks: int, seed: int = 7) -> list[dict[str, Any]]:
    """`create_tracks` inputs (snake_case keys) for `tracks` tracks, reproducibly."""
    rnd = random.Random(seed)
    artists = max(1, tracks // 10)
    albums = max(1, tracks // 10)
    album_artist = [rnd.randrange(artists) for _ in range(albums)]
    album_year = [rnd.randint(1955, 2025) for _ in range(albums)]
    numbers = [0] * albums

    def title(words: int, serial: int) -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(words)).title() + f" {serial}"

    album_titles = [title(2, j) for j in range(albums)]
    inputs = []
    for i in range(tracks):
        album = rnd.randrange(albums)
        numbers[album] += 1
        names = [f"Artist {album_artist[album]:06d}"]
        if rnd.random() < 0.35:
            names.append(f"Artist {rnd.randrange(artists):06d}")
        inputs.append(
            {
                "title": title(rnd.randint(1, 3), i),
                "artist_names": names,
                "album_title": album_titles[album],
                "genres": rnd.sample(GENRES, 1 if rnd.random() < 0.6 else 2),
                "year": album_year[album],
                "duration": round(rnd.uniform(90.0, 480.0), 1),
                "track_number": numbers[album],
                "tags": rnd.sample(TAGS, rnd.randint(0, 2)),
            }
        )
    return inputs


async def load(
    engine: GraphEngine,
    inputs: list[dict[str, Any]],
    progress: Callable[[int, float], None] | None = None,
) -> float:
    """Import `inputs` with `create_tracks`, BATCH at a time; the seconds it took."""
    started = time.perf_counter()
    for start in range(0, len(inputs), BATCH):
        await catalog_writes.create_tracks(engine, inputs[start : start + BATCH])
        if progress is not None:
            progress(min(start + BATCH, len(inputs)), time.perf_counter() - started)
    return time.perf_counter() - started


async def fresh_catalogue(engine: GraphEngine, tracks: int) -> list[str]:
    """Migrate `engine`'s new graph and import `tracks` tracks of `catalogue`; their ids."""
    await migrate(engine)
    await load(engine, catalogue(tracks))
    rows = await engine.read("bench_ids", "MATCH (t:Track) RETURN t.id AS id")
    return [str(r["id"]) for r in rows]


COUNTS_QUERY = (
    "MATCH (n) WHERE n:Track OR n:Artist OR n:Album OR n:Genre "
    "RETURN labels(n)[0] AS label, count(n) AS n"
)


async def counts(engine: GraphEngine) -> dict[str, int]:
    """Nodes per catalogue label."""
    rows = await engine.read("bench_counts", COUNTS_QUERY)
    return {str(row["label"]): int(row["n"]) for row in rows}
