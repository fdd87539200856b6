"""What a track page reads, by sort order, filter and catalogue size: nodes and queries.

Run from the repository root:

    .venv/bin/python bench/page_reads.py --tracks 1000,100000

For each size: a fresh embedded FalkorDB, the synthetic catalogue of bench/_load.py,
then 10 consecutive 50-track pages (with artists, album and genres, as the API asks)
in every sort order, both directions: unfiltered, filtered on one genre, and on three
years. Prints per page the nodes the index windows read (the `scanned` of
graph/pages.py), the graph queries sent and the median time in this process. Nodes
read and queries are exact counts, unaffected by a busy machine; the times are not.

Then the same walk over one user's data, whose size is fixed whatever the catalogue's:
USER_ITEMS public collections of that user (one holding USER_ITEMS catalogue tracks),
USER_ITEMS plays, and USER_ITEMS extra tracks titled `Zephyr <n>` (so that SEARCH_FIXED
matches that many tracks and nothing else at every size), a collection of BIG_COLLECTION
tracks (--collection-tracks), and a second user's HEAVY_PLAYS plays. Walked: both
collections' tracks, the collections list, both users' histories, and search (the
resolver's offset pages) for SEARCH_FIXED and for SEARCH_COMMON, a title word of
bench/_load.py's whose matches grow with the catalogue; then each list's count, once.
Prints per kind the items, the pages walked, the graph queries per page, the median ms
per page at each size and the growth from the first size to the last.
"""

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _load
from bench._server import scratch_database
from graph import catalog, catalog_writes, collection_store, counts, listening, search, users
from graph.collection_store import Viewer
from graph.engine import Row
from graph.engine.falkordb import FalkorDBEngine
from graph.queries.catalog import PAGE_RELATIONS, TrackFilter

PAGES = 10
SIZE = 50
SORTS = ("TITLE", "CREATED_AT", "YEAR", "DURATION")
FILTERS = {
    "all": TrackFilter(),
    "genre": TrackFilter(genre_keys=["jazz"]),  # 7% of bench/_load.py's tracks
    "years": TrackFilter(year_min=2000, year_max=2002),  # 4%
}

Key = tuple[str, str, str]

# One user's data, the same at every catalogue size.
USER_ITEMS = 500
# A second user who has listened a lot (a scrobbler of a few years): written in bulk.
HEAVY_PLAYS = 100_000
BIG_COLLECTION = 1_000  # tracks in another collection of that user (--collection-tracks)
HEAVY_BATCH = 10_000
HEAVY_PLAYS_QUERY = (
    "MATCH (u:User {id: $user}) UNWIND $rows AS row MATCH (t:Track {id: row.track}) "
    "CREATE (u)-[:PLAYED {at: row.at, duration_played: 60.0}]->(t)"
)
SEARCH_FIXED = "zephyr"  # the titles of the USER_ITEMS extra tracks, and nothing else
SEARCH_COMMON = _load.WORDS[0]  # one of the catalogue's title words
COUNT_REPEATS = 5


class Walk(NamedTuple):
    """A list walked page by page: items seen, pages, graph queries and ms per page."""

    items: int
    pages: int
    queries: float
    ms: float


# A page after a cursor (None: the first): its item count and the next cursor (None: last).
PageFn = Callable[[Any], Awaitable[tuple[int, Any]]]


class CountingEngine(FalkorDBEngine):
    """Counts every read, and the track page queries and the nodes their windows read."""

    scanned = 0
    queries = 0
    reads = 0

    async def read(self, operation: str, query: str, params: Any = None) -> list[Row]:
        rows = await super().read(operation, query, params)
        self.reads += 1
        if operation == "tracks_page":
            self.queries += 1
            if rows and "scanned" in rows[0]:
                self.scanned += int(rows[0]["scanned"])
        return rows


Measured = tuple[dict[Key, tuple[float, float, float]], dict[str, Walk]]


async def measure(tracks: int, big: int) -> Measured:
    with scratch_database("apollonia-page-reads-") as (_, server):
        engine = CountingEngine.from_socket(server.socket_path, "bench")
        assert isinstance(engine, CountingEngine)
        track_ids = await _load.fresh_catalogue(engine, tracks)
        out: dict[Key, tuple[float, float, float]] = {}
        for name, flt in FILTERS.items():
            for sort in SORTS:
                for direction in ("ASC", "DESC"):
                    await catalog.tracks_page(engine, flt, sort, direction, None, SIZE + 1)
                    engine.scanned = engine.queries = 0
                    after = None
                    times: list[float] = []
                    for _ in range(PAGES):
                        started = time.perf_counter()
                        _, keys = await catalog.tracks_page(
                            engine,
                            flt,
                            sort,
                            direction,
                            after,
                            SIZE + 1,
                            PAGE_RELATIONS,
                        )
                        times.append((time.perf_counter() - started) * 1000)
                        if len(keys) <= SIZE:
                            break  # the last page of this list
                        after = keys[SIZE - 1]
                    out[(name, sort, direction)] = (
                        engine.scanned / len(times),
                        engine.queries / len(times),
                        statistics.median(times),
                    )
        walks = await user_pages(engine, track_ids, big)
        await engine.close()
        return out, walks


async def user_data(engine: CountingEngine, track_ids: list[str]) -> tuple[str, str]:
    """Write the fixed-size user data through the product's writes; the user's id and
    that of the collection holding USER_ITEMS tracks."""
    user = await users.create_user(engine, "pages@example.com", "pages", "not-a-hash")
    viewer = Viewer(user["id"], False)
    held = None
    for k in range(USER_ITEMS):
        row = await collection_store.create_collection(
            engine, user["id"], {"name": f"Collection {k:04d}", "public": True}
        )
        held = held or row["id"]
    assert held is not None
    chosen = random.Random(11).sample(track_ids, USER_ITEMS)
    for start in range(0, USER_ITEMS, collection_store.MAX_TRACK_IDS):
        batch = chosen[start : start + collection_store.MAX_TRACK_IDS]
        await collection_store.add_tracks(engine, viewer, held, batch)
    played = datetime.now(UTC) - timedelta(days=1)
    for k, track_id in enumerate(chosen):
        await listening.record_play(engine, user["id"], track_id, played + timedelta(minutes=k))
    extra = [
        {"title": f"{SEARCH_FIXED.title()} {k}", "artist_names": ["Artist 000000"]}
        for k in range(USER_ITEMS)
    ]
    await catalog_writes.create_tracks(engine, extra)
    return user["id"], held


async def heavy_listener(engine: CountingEngine, track_ids: list[str]) -> str:
    """A user with HEAVY_PLAYS plays, one every 3 minutes up to a day ago, written in
    bulk (one query per HEAVY_BATCH, not the product's one write per play)."""
    user = await users.create_user(engine, "heavy@example.com", "heavy", "not-a-hash")
    rnd = random.Random(12)
    last = int((datetime.now(UTC) - timedelta(days=1)).timestamp() * 1000)
    for start in range(0, HEAVY_PLAYS, HEAVY_BATCH):
        rows = [
            {"track": rnd.choice(track_ids), "at": last - k * 180_000}
            for k in range(start, min(start + HEAVY_BATCH, HEAVY_PLAYS))
        ]
        await engine.write("bench_plays", HEAVY_PLAYS_QUERY, {"user": user["id"], "rows": rows})
    return str(user["id"])


async def walk(engine: CountingEngine, page: PageFn) -> Walk:
    """PAGES consecutive pages of SIZE (fewer if the list ends), after one warm-up page."""
    await page(None)
    engine.reads = 0
    cursor, items, times = None, 0, []
    for _ in range(PAGES):
        started = time.perf_counter()
        count, cursor = await page(cursor)
        times.append((time.perf_counter() - started) * 1000)
        items += count
        if cursor is None:
            break
    return Walk(items, len(times), engine.reads / len(times), statistics.median(times))


async def count(engine: CountingEngine, read: Callable[[], Awaitable[int]]) -> Walk:
    """A list's count, read COUNT_REPEATS times (after a warm-up): its value, queries, ms."""
    await read()
    engine.reads = 0
    times = []
    for _ in range(COUNT_REPEATS):
        started = time.perf_counter()
        value = await read()
        times.append((time.perf_counter() - started) * 1000)
    return Walk(value, 1, engine.reads / COUNT_REPEATS, statistics.median(times))


async def user_pages(engine: CountingEngine, track_ids: list[str], big: int) -> dict[str, Walk]:
    """Walk the user's lists and the two searches, as the resolvers read them (SIZE + 1
    rows after a keyset cursor; search re-reads the first offset + SIZE hits)."""
    user_id, held = await user_data(engine, track_ids)
    heavy_id = await heavy_listener(engine, track_ids)
    viewer = Viewer(user_id, False)
    row = await collection_store.create_collection(engine, user_id, {"name": "Everything"})
    chosen = random.Random(13).sample(track_ids, big)
    for start in range(0, big, collection_store.MAX_TRACK_IDS):
        batch = chosen[start : start + collection_store.MAX_TRACK_IDS]
        await collection_store.add_tracks(engine, viewer, row["id"], batch)

    def tracks_of(collection_id: str) -> PageFn:
        async def collection_tracks(after: Any) -> tuple[int, Any]:
            [(rows, keys, _)] = await collection_store.track_pages(
                engine, [(collection_id, after, SIZE + 1)]
            )
            return min(len(rows), SIZE), keys[SIZE - 1] if len(rows) > SIZE else None

        return collection_tracks

    async def collections(after: Any) -> tuple[int, Any]:
        rows, keys = await collection_store.collections_page(engine, viewer, after, SIZE + 1)
        return min(len(rows), SIZE), keys[SIZE - 1] if len(rows) > SIZE else None

    def history_of(user: str) -> PageFn:
        async def history(after: Any) -> tuple[int, Any]:
            rows, keys = await listening.history_page(engine, user, after, SIZE + 1)
            return min(len(rows), SIZE), tuple(keys[SIZE - 1]) if len(rows) > SIZE else None

        return history

    def searching(text: str) -> PageFn:
        async def hits(offset: Any) -> tuple[int, Any]:
            start = offset or 0
            found = (await search.search(engine, text, start + SIZE + 1))[start:]
            return min(len(found), SIZE), start + SIZE if len(found) > SIZE else None

        return hits

    return {
        "collection tracks": await walk(engine, tracks_of(held)),
        f"collection of {big:,}": await walk(engine, tracks_of(row["id"])),
        "collections list": await walk(engine, collections),
        "history": await walk(engine, history_of(user_id)),
        f"history of {HEAVY_PLAYS:,} plays": await walk(engine, history_of(heavy_id)),
        f"search '{SEARCH_FIXED}'": await walk(engine, searching(SEARCH_FIXED)),
        f"search '{SEARCH_COMMON}'": await walk(engine, searching(SEARCH_COMMON)),
        "track_counts": await count(
            engine, lambda: _first(collection_store.track_counts(engine, [held]))
        ),
        "collections_count": await count(
            engine, lambda: _uncached_collections_count(engine, viewer)
        ),
        # Uncounted: a history's count is kept a few seconds (graph/counts.py).
        "history_count": await count(engine, lambda: _uncached_history_count(engine, user_id)),
        "history_count, heavy": await count(
            engine, lambda: _uncached_history_count(engine, heavy_id)
        ),
        f"total '{SEARCH_FIXED}'": await count(engine, lambda: search.total(engine, SEARCH_FIXED)),
        f"total '{SEARCH_COMMON}'": await count(
            engine, lambda: search.total(engine, SEARCH_COMMON)
        ),
    }


async def _uncached_collections_count(
    engine: CountingEngine, viewer: collection_store.Viewer
) -> int:
    counts.forget()  # the read a count costs, not the kept value
    return await collection_store.collections_count(engine, viewer)


async def _uncached_history_count(engine: CountingEngine, user_id: str) -> int:
    counts.forget()
    return await listening.history_count(engine, user_id)


async def _first(values: Awaitable[list[int]]) -> int:
    return (await values)[0]


def print_user_pages(sizes: list[int], walks: dict[int, dict[str, Walk]]) -> None:
    print()
    print(
        f"One user's data at every size: {USER_ITEMS} public collections (one of "
        f"{USER_ITEMS} tracks),\n{USER_ITEMS} plays, {USER_ITEMS} tracks titled "
        f"'{SEARCH_FIXED.title()} <n>'; another user's {HEAVY_PLAYS:,} plays. Pages of "
        f"{SIZE}; a count is one read (ms: median of {COUNT_REPEATS})."
    )
    header = "".join(f"{f'{n:,} tracks':>32}" for n in sizes)
    print(f"{'kind':24}{header}{'growth':>9}")
    print(f"{'':24}" + "".join(f"{'items  pages  queries      ms':>32}" for _ in sizes))
    for kind in walks[sizes[0]]:
        cells = "".join(
            f"{w.items:8d}{w.pages:7d}{w.queries:9.1f}{w.ms:8.2f}"
            for w in (walks[n][kind] for n in sizes)
        )
        growth = walks[sizes[-1]][kind].ms / walks[sizes[0]][kind].ms
        print(f"{kind:24}{cells}{growth:8.2f}x")


async def main(sizes: list[int], big: int) -> None:
    measured = {n: await measure(n, big) for n in sizes}
    results = {n: m[0] for n, m in measured.items()}
    header = "".join(f"{f'{n:,} tracks':>28}" for n in sizes)
    print(f"{'filter':7}{'sort':11}{'dir':5}{header}")
    print(f"{'':23}" + "".join(f"{'nodes  queries       ms':>28}" for _ in sizes))
    for key in results[sizes[0]]:
        cells = "".join(
            f"{results[n][key][0]:13.1f}{results[n][key][1]:8.1f}{results[n][key][2]:7.2f}"
            for n in sizes
        )
        print(f"{key[0]:7}{key[1]:11}{key[2]:5}{cells}")
    print_user_pages(sizes, {n: m[1] for n, m in measured.items()})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", default="1000,100000", help="catalogue sizes, comma-separated")
    parser.add_argument(
        "--collection-tracks",
        type=int,
        default=BIG_COLLECTION,
        help="tracks in the user's big collection (at most the smallest size)",
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.tracks.split(",")]
    if min(sizes) < max(USER_ITEMS, args.collection_tracks):
        parser.error("every size must hold the user's collections")
    asyncio.run(main(sizes, args.collection_tracks))
