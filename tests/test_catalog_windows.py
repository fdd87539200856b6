"""Page windows over integer sort keys: exact order whatever the window does.

A tiny read budget forces every path of graph/pages.py (windows cut short and shrunk,
windows widened across gaps, the open-ended last resort), on a catalogue with ties,
nulls, accents and punctuation; tracks inserted and deleted between pages must not
disturb the walk.
"""

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from graph import catalog, catalog_writes, counts, pages
from graph.engine import GraphEngine
from graph.ids import new_id
from graph.migrations import backfill_sort_keys, pending
from graph.queries.catalog import PAGE_RELATIONS, SortDirection, TrackFilter, tracks_window
from graph.queries.catalog_writes import BACKFILL_GENRE_KEYS_QUERY
from graph.queries.genre_model import WRITE_PREDICTIONS_QUERY
from graph.sort_keys import (
    collation,
    created_key,
    duration_key,
    duration_key_range,
    text_key,
    year_key,
    year_key_range,
)
from tests.support import record_reads

WORDS = ("Éclair", "eclair!", "Zebra", "zebra", "Ångström", "10 Years", "(Intro)", "Track 0")


@pytest.fixture(autouse=True)
def tiny_windows(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(pages, "BUDGET", 6)
    pages.forget()
    yield
    pages.forget()


def _inputs(n: int, offset: int = 0) -> list[dict[str, Any]]:
    out = []
    for i in range(offset, offset + n):
        data: dict[str, Any] = {
            "title": f"{WORDS[i % len(WORDS)]} {i % 5}",
            "artist_names": [f"Artist {i % 4}"],
            "genres": ["Jazz" if i % 3 else "Rock"],
        }
        if i % 6:
            data["year"] = 1990 + i % 4
        if i % 7:
            data["duration"] = 100.0 + (i % 3) * 0.5
        out.append(data)
    return out


def _lowest(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


ORDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "TITLE": lambda t: collation(t["title"]),
    "CREATED_AT": lambda t: t["created_at"],
    "YEAR": lambda t: _lowest(t["year"]),
    "DURATION": lambda t: _lowest(t["duration"]),
}


async def _walk(
    engine: GraphEngine,
    flt: TrackFilter,
    sort: str,
    direction: str,
    between: Callable[[int], Any] | None = None,
) -> list[str]:
    seen: list[str] = []
    after = None
    for page in range(200):
        rows, keys = await catalog.tracks_page(engine, flt, sort, direction, after, 7)  # type: ignore[arg-type]
        seen += [r["id"] for r in rows[:6]]
        if len(rows) <= 6:
            return seen
        after = keys[5]
        if between is not None:
            await between(page)
    raise AssertionError("the walk does not end")


def _record_scanned(engine: GraphEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The nodes each track-page window reads from now on (its `scanned`), in order."""
    scanned: list[int] = []
    read = engine.read

    async def recording(op: str, query: str, params: Any = None) -> Any:
        rows = await read(op, query, params)
        if op == "tracks_page":
            scanned.append(int(rows[0]["scanned"]) if rows else 0)
        return rows

    monkeypatch.setattr(engine, "read", recording)
    return scanned


def _expected(tracks: list[dict[str, Any]], sort: str, direction: str) -> list[str]:
    key = ORDERS[sort]
    ordered = sorted(tracks, key=lambda t: (key(t), t["id"]), reverse=direction == "DESC")
    return [t["id"] for t in ordered]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("sort", list(ORDERS))
async def test_tiny_windows_walk_every_order_exactly(
    engine: GraphEngine, sort: str, direction: str
) -> None:
    tracks = await catalog_writes.create_tracks(engine, _inputs(60))
    tracks += await catalog_writes.create_tracks(engine, _inputs(40, 60))
    assert await _walk(engine, TrackFilter(), sort, direction) == _expected(tracks, sort, direction)
    jazz = [t for i, t in enumerate(tracks) if i % 3]
    walked = await _walk(engine, TrackFilter(genre_keys=["jazz"]), sort, direction)
    assert walked == _expected(jazz, sort, direction)
    recent = TrackFilter(year_min=1992, duration_max=100.4)
    chosen = [
        t
        for t in tracks
        if t["year"] is not None and t["year"] >= 1992 and (t["duration"] or 1e9) <= 100.4
    ]
    assert await _walk(engine, recent, sort, direction) == _expected(chosen, sort, direction)
    flacs = tracks[::4]
    await engine.write(
        "test",
        "MATCH (t:Track) WHERE t.id IN $ids SET t.format = 'flac'",
        {"ids": [t["id"] for t in flacs]},
    )
    flac_jazz = TrackFilter(format="flac", genre_keys=["jazz"])
    expected = _expected([t for t in flacs if t in jazz], sort, direction)
    assert await _walk(engine, flac_jazz, sort, direction) == expected


async def test_inserts_and_deletes_between_pages_keep_the_walk(engine: GraphEngine) -> None:
    tracks = await catalog_writes.create_tracks(engine, _inputs(50))
    gone: set[str] = set()

    async def churn(page: int) -> None:
        # Each page: a track that sorts first (never seen now), one that sorts last
        # (seen at the end), and one not yet seen deleted.
        added = await catalog_writes.create_tracks(
            engine, [{"title": "!!! 000"}, {"title": f"zzzz {page:03d}"}]
        )
        tracks.extend(added)
        victim = sorted(tracks, key=lambda t: (collation(t["title"]), t["id"]))[-3]
        if victim["id"] not in gone:
            await catalog_writes.delete_track(engine, victim["id"])
            gone.add(victim["id"])

    walked = await _walk(engine, TrackFilter(), "TITLE", "ASC", churn)
    assert len(walked) == len(set(walked))
    assert not gone & set(walked)
    first = {t["id"] for t in tracks if t["title"] == "!!! 000"}
    everyone_else = {t["id"] for t in tracks} - gone - first
    assert set(walked) - first == everyone_else


async def test_migration_backfills_sort_keys(engine: GraphEngine) -> None:
    tracks = await catalog_writes.create_tracks(engine, _inputs(30))
    await engine.write(
        "test_strip",
        "MATCH (n) WHERE n:Track OR n:Artist OR n:Album "
        "REMOVE n.sk_title, n.title_sort, n.sk_created, n.sk_year, n.sk_duration, "
        "n.sk_name, n.name_sort",
    )
    assert await backfill_sort_keys(engine) == 30 + 4 + 0  # albums: none in _inputs
    for sort in ORDERS:
        assert await _walk(engine, TrackFilter(), sort, "ASC") == _expected(tracks, sort, "ASC")
    rows, _ = await catalog.artists_page(engine, None, None, 10)
    assert [r["name"] for r in rows] == [f"Artist {i}" for i in range(4)]


def test_text_keys_order_like_the_collation() -> None:
    titles = ["b", "a", "A!", "ábc", "abd", "a b", "ab", "", "9", "zz", "日本", "ZZZZZZZZZZZZZZ"]
    by_text = sorted(titles, key=collation)
    keys = [text_key(t) for t in by_text]
    assert keys == sorted(keys)
    assert text_key("Éclair!") == text_key("eclair")


def test_keys_stay_exact_as_doubles() -> None:
    # FalkorDB's range index compares doubles: a key past 2**53 would tie its neighbours.
    last = "trk_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"
    highest = [
        text_key("\uffff" * 20),
        year_key(9999, last),
        duration_key(7 * 86400.0, last),
        created_key((1 << 41) - 1, last),
    ]
    assert all(0 <= key < 2**53 for key in highest)


def test_a_filters_key_range_holds_every_key_it_allows() -> None:
    """Year and duration bounds narrow the keys a page's windows look at: every key of a
    value inside the bounds lies in the range, whatever its id."""
    ids = ["trk_00000000000000000000000000", "trk_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"]
    low, high = year_key_range(1992, 1994)
    assert low is not None and high is not None
    for year in (1992, 1993, 1994):
        assert all(low <= year_key(year, i) <= high for i in ids)
    assert all(not low <= year_key(y, i) <= high for y in (None, 1991, 1995) for i in ids)
    for bounds in ((100.5, 200.25), (0.0, 0.0005), (7 * 86400.0, None), (None, 3.0)):
        low, high = duration_key_range(*bounds)
        inside = [bounds[0] or 0.0, bounds[1] or 1e9, 100.5, 100.5004, 150.0, 3.0]
        for duration in inside:
            if (bounds[0] or 0.0) <= duration <= (bounds[1] or 1e9):
                for i in ids:
                    key = duration_key(duration, i)
                    assert (low is None or low <= key) and (high is None or key <= high)


@pytest.mark.parametrize("sort", ["YEAR", "DURATION"])
async def test_pages_within_bounds_on_their_own_sort_key(engine: GraphEngine, sort: str) -> None:
    durations = [100.4994, 100.4996, 100.5, 100.5004, 100.5006, 200.0, 200.0004, None]
    inputs = [
        {"title": f"T {i}", "year": 1990 + i % 5 if i % 7 else None, "duration": d}
        for i, d in enumerate(durations * 4)
    ]
    tracks = await catalog_writes.create_tracks(engine, inputs)
    flt = TrackFilter(year_min=1991, year_max=1993, duration_min=100.5, duration_max=200.0)
    chosen = [
        t
        for t in tracks
        if t["year"] is not None
        and 1991 <= t["year"] <= 1993
        and t["duration"] is not None
        and 100.5 <= t["duration"] <= 200.0
    ]
    assert 0 < len(chosen) < len(tracks)

    # Durations order to the millisecond (then by id): 100.4996 and 100.5004 tie.
    def order(t: dict[str, Any]) -> tuple[int, str]:
        value = t["year"] if sort == "YEAR" else round(t["duration"] * 1000)
        return value, t["id"]

    for direction in ("ASC", "DESC"):
        expected = sorted(chosen, key=order, reverse=direction == "DESC")
        assert await _walk(engine, flt, sort, direction) == [t["id"] for t in expected]


@pytest.mark.parametrize("anchored", [False, True])
async def test_compiled_relations_match_the_loaders(engine: GraphEngine, anchored: bool) -> None:
    tracks = await catalog_writes.create_tracks(
        engine,
        [
            {
                "title": f"Song {i}",
                "artist_names": ["Zed", "Abe"] if i % 2 else ["Abe"],
                "album_title": "Both" if i % 3 else None,
                "album_artist_name": "Various" if i % 3 == 1 else None,
                "genres": ["Rock", "Jazz"] if i % 2 else [],
            }
            for i in range(12)
        ],
    )
    album_id = next(t["id"] for t in tracks if t["title"] == "Song 1")
    album = (await catalog.album_by_track(engine, [album_id]))[0]
    assert album is not None
    flt = TrackFilter(album_id=album["id"]) if anchored else TrackFilter()
    rows, _ = await catalog.tracks_page(engine, flt, "TITLE", "ASC", None, 20, PAGE_RELATIONS)
    ids = [r["id"] for r in rows]
    assert len(ids) == (4 if anchored else 12)  # "Both" by Various: Song 1, 4, 7, 10
    assert [r["_artists"] for r in rows] == await catalog.artists_by_track(engine, ids)
    assert [r["_genres"] for r in rows] == await catalog.genres_by_track(engine, ids)
    albums = [r["_album"] for r in rows]
    bare = [{k: v for k, v in a.items() if k != "_artist"} if a else None for a in albums]
    assert bare == await catalog.album_by_track(engine, ids)
    present = [a for a in albums if a]
    owners = await catalog.artist_by_album(engine, [a["id"] for a in present])
    assert [dict(a["_artist"]) for a in present] == [dict(o or {}) for o in owners]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_the_last_resort_sorts_the_rest_exactly(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    monkeypatch.setattr(pages, "MAX_ROUNDS", 1)  # every short window ends in the last resort
    tracks = await catalog_writes.create_tracks(engine, _inputs(80))
    jazz = [t for i, t in enumerate(tracks) if i % 3]
    for sort in ORDERS:
        walked = await _walk(engine, TrackFilter(genre_keys=["jazz"]), sort, direction)
        assert walked == _expected(jazz, sort, direction), sort


async def test_genre_pages_follow_every_genre_write(engine: GraphEngine) -> None:
    """A genre-filtered window tests the track's `genre_keys`: kept by creating and
    updating tracks and by the genre model's predictions, and backfilled by migration 9
    for tracks written before."""
    tracks = await catalog_writes.create_tracks(engine, _inputs(30))
    jazz = [t for i, t in enumerate(tracks) if i % 3]
    rock = [t for i, t in enumerate(tracks) if not i % 3]

    async def walk(key: str) -> list[str]:
        return await _walk(engine, TrackFilter(genre_keys=[key]), "TITLE", "ASC")

    assert await walk("jazz") == _expected(jazz, "TITLE", "ASC")
    # Replaced genres, and genres left alone by an update that does not name them.
    moved = jazz.pop(0)
    await catalog_writes.update_track(engine, moved["id"], {"genres": ["Rock", "Blues"]})
    await catalog_writes.update_track(engine, rock[0]["id"], {"title": "Retitled"})
    rock[0] = {**rock[0], "title": "Retitled"}
    assert await walk("jazz") == _expected(jazz, "TITLE", "ASC")
    assert await walk("rock") == _expected([*rock, moved], "TITLE", "ASC")
    assert await walk("blues") == [moved["id"]]
    # A prediction of the genre model, onto a track without genres.
    bare = (await catalog_writes.create_tracks(engine, [{"title": "Bare", "artist_names": ["X"]}]))[
        0
    ]
    await engine.write(
        "test",
        WRITE_PREDICTIONS_QUERY,
        {
            "rows": [
                {
                    "id": bare["id"],
                    "key": "ambient",
                    "name": "Ambient",
                    "genre_id": new_id("Genre"),
                    "confidence": 0.9,
                }
            ],
            "version": "v-test",
        },
    )
    assert await walk("ambient") == [bare["id"]]
    # Tracks written before the keys were kept: migration 9 fills them in.
    await engine.write("test", "MATCH (t:Track) SET t.genre_keys = null")
    assert [m.statements for m in pending(8) if m.version == 9] == [(BACKFILL_GENRE_KEYS_QUERY,)]
    await engine.write("test", BACKFILL_GENRE_KEYS_QUERY)
    kept = await engine.read(
        "test",
        "MATCH (t:Track) OPTIONAL MATCH (t)-[:IN_GENRE]->(g:Genre) "
        "WITH t, collect(g.name_key) AS edges RETURN t.genre_keys AS keys, edges",
    )
    assert len(kept) == 31 and all(sorted(r["keys"]) == sorted(r["edges"]) for r in kept)
    assert await walk("rock") == _expected([*rock, moved], "TITLE", "ASC")
    assert await walk("ambient") == [bare["id"]]


async def test_a_filtered_window_reads_only_the_tracks_that_pass(engine: GraphEngine) -> None:
    """Genre, format, and year or duration bounds are part of the window's scan (one
    range-index scan on FalkorDB; migration 10 indexes the genre keys and the format):
    the window counts and reads only the tracks that pass, so a page of a rare genre or a
    few years needs no more windows than a page of the whole catalogue. The title text is
    tested on the window's tracks, which it counts whether they pass or not."""
    inputs = _inputs(60)  # 40 jazz, 20 rock
    await catalog_writes.create_tracks(engine, inputs)

    async def scanned(flt: TrackFilter) -> int:
        query, params = tracks_window(flt, "YEAR", "ASC", None, False, False)
        params |= {"near": None, "far": None, "budget": 1000, "limit": 100}
        rows = await engine.read("test", query, params)
        return int(rows[0]["scanned"])

    assert await scanned(TrackFilter(genre_keys=["rock"])) == 20
    assert await scanned(TrackFilter(genre_keys=["jazz", "rock"])) == 60
    assert await scanned(TrackFilter(genre_keys=["polka"])) == 0
    # A key FalkorDB's index cannot hold: tested on the scanned tracks instead.
    assert await scanned(TrackFilter(genre_keys=["", "rock"])) == 60
    years = [d for d in inputs if d.get("year") in (1992, 1993)]
    assert await scanned(TrackFilter(year_min=1992)) == len(years)
    longer = [d for d in years if d.get("duration", 0) >= 100.5]
    assert 0 < len(longer) < len(years)
    assert await scanned(TrackFilter(year_min=1992, duration_min=100.5)) == len(longer)
    assert await scanned(TrackFilter(text="zebra")) == 60
    await engine.write(
        "test", "MATCH (t:Track) WHERE t.title STARTS WITH 'Zebra' SET t.format = 'ogg'"
    )
    oggs = [d for d in inputs if d["title"].startswith("Zebra")]
    assert await scanned(TrackFilter(format="ogg")) == len(oggs)
    assert await scanned(TrackFilter(format="")) == 60  # tested on the scanned tracks
    assert await scanned(TrackFilter(format="ogg", genre_keys=["rock"])) == len(
        [d for d in oggs if d["genres"] == ["Rock"]]
    )


@pytest.mark.parametrize(
    "keys",
    [
        ["rock", "blues"],
        ["blues", "jazz", "rock"],
        [*(f"g{i}" for i in range(8)), "blues"],  # more than the index is asked for
        ["", "blues"],
        ["rock", "rock"],
    ],
)
async def test_pages_of_several_genres_hold_every_track_of_any(
    engine: GraphEngine, keys: list[str]
) -> None:
    inputs = _inputs(40)
    for i, data in enumerate(inputs):
        if i % 5 == 0:
            data["genres"] = [*data["genres"], "Blues"]
    tracks = await catalog_writes.create_tracks(engine, inputs)
    chosen = [
        t
        for t, data in zip(tracks, inputs, strict=True)
        if {g.lower() for g in data["genres"]} & set(keys)
    ]
    assert chosen
    for sort in ORDERS:
        for direction in ("ASC", "DESC"):
            walked = await _walk(engine, TrackFilter(genre_keys=keys), sort, direction)
            assert walked == _expected(chosen, sort, direction), (sort, direction)
    # Counted from the genres' nodes alone, and in one index scan with other conditions.
    counts.forget()
    assert await catalog.tracks_count(engine, TrackFilter(genre_keys=keys)) == len(chosen)
    recent = [t for t in chosen if t["year"] is not None and t["year"] >= 1992]
    assert 0 < len(recent) < len(chosen)
    flt = TrackFilter(genre_keys=keys, year_min=1992)
    assert await catalog.tracks_count(engine, flt) == len(recent)
    for direction in ("ASC", "DESC"):
        assert await _walk(engine, flt, "TITLE", direction) == _expected(recent, "TITLE", direction)


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_gaps_in_the_keys_are_crossed_by_windows(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    """Year keys cluster: tracks without a year sit at 0, a year's at year << 39, with
    nothing between. Empty windows gallop across the gap instead of ending the page in
    the last resort, which sorts the whole rest of the label."""
    tracks = await catalog_writes.create_tracks(engine, [{"title": f"Old {i}"} for i in range(10)])
    tracks += await catalog_writes.create_tracks(
        engine, [{"title": f"New {i}", "year": 2020} for i in range(10)]
    )
    sent = record_reads(engine, "tracks_page", monkeypatch)
    walked = await _walk(engine, TrackFilter(), "YEAR", direction)
    assert walked == _expected(tracks, "YEAR", direction)
    windows = [q for q in sent if "scanned" in q]
    assert len(windows) == len(sent), "a page ended in the last resort"
    # Pages of 6 over 20 tracks: 4 pages; the gap costs a few empty windows, no more.
    assert len(windows) <= 4 * 6 + pages.MAX_EMPTY


async def test_a_walk_reads_windows_of_about_twice_its_page(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window sized to read twice the page holds it with room to spare; that it
    returned only the page's rows does not mean the filter dropped the rest, so the
    next windows must not widen. (They did: the returned share was taken for the
    filter's yield, halving with every page, until each page of 20 read 400 tracks.)"""
    monkeypatch.setattr(pages, "BUDGET", 1024)
    inputs = [{"title": f"Song {i}", "duration": 100.0 + i * 37 / 100} for i in range(400)]
    await catalog_writes.create_tracks(engine, inputs)
    read_now = _record_scanned(engine, monkeypatch)
    scanned: list[list[int]] = []
    after = None
    durations: list[float] = []
    for _ in range(12):
        read_now.clear()
        rows, keys = await catalog.tracks_page(engine, TrackFilter(), "DURATION", "ASC", after, 21)
        scanned.append(list(read_now))
        durations += [r["duration"] for r in rows[:20]]
        after = keys[19]
    assert durations == pytest.approx([d["duration"] for d in inputs[:240]])
    # The first page's window is sized from the label's statistics; every later one
    # from what the walk saw: one read each, of at most 4 pages' worth.
    assert all(len(reads) == 1 for reads in scanned[1:]), scanned
    assert max(reads[0] for reads in scanned[1:]) <= 4 * 21, scanned


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_pages_served_again_read_one_window_of_about_their_rows(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch, direction: SortDirection
) -> None:
    """Keys whose density changes from page to page (durations 10 ms apart, then 1 s,
    then 10 ms again): the first pages of a list, served again and again, must each read
    one window of about their own rows, whatever page was served just before. (Sized
    from the page before, a dense page after a sparse one read 3-5 times its rows, and
    a sparse page after a dense one took two or three windows.)"""
    monkeypatch.setattr(pages, "BUDGET", 1024)
    durations = [100.0 + i / 100 for i in range(100)] + [200.0 + i for i in range(100)]
    durations += [400.0 + i / 100 for i in range(100)]
    await catalog_writes.create_tracks(
        engine, [{"title": f"Song {i}", "duration": d} for i, d in enumerate(durations)]
    )
    expected = sorted(durations, reverse=direction == "DESC")
    cursors: list[Any] = [None]
    for _ in range(14):  # pages of 20 across the three stretches
        rows, keys = await catalog.tracks_page(
            engine, TrackFilter(), "DURATION", direction, cursors[-1], 21
        )
        cursors.append(keys[19])
    scanned = _record_scanned(engine, monkeypatch)
    for _round in range(3):
        for page, after in enumerate(cursors[:-1]):
            scanned.clear()
            rows, _ = await catalog.tracks_page(
                engine, TrackFilter(), "DURATION", direction, after, 21
            )
            assert [r["duration"] for r in rows] == pytest.approx(
                expected[page * 20 : page * 20 + 21]
            )
            # One window of its own 21 rows and the cursor's (served before: exact).
            assert len(scanned) == 1, (page, scanned)
            assert scanned[0] <= 22, (page, scanned)
    # A track of page 2 deleted: one more window, once; the page stays exact.
    gone = (
        await catalog.tracks_page(engine, TrackFilter(), "DURATION", direction, cursors[2], 21)
    )[0]
    await catalog_writes.delete_track(engine, gone[5]["id"])
    expected.remove(gone[5]["duration"])
    for reads in (2, 1):
        scanned.clear()
        rows, _ = await catalog.tracks_page(
            engine, TrackFilter(), "DURATION", direction, cursors[2], 21
        )
        assert [r["duration"] for r in rows] == pytest.approx(expected[40:61])
        assert len(scanned) == reads, scanned


async def test_a_sparse_filters_page_served_again_stays_within_the_budget(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter that keeps one track in ten: a page of 20 spans some 200 tracks, more
    than one window may read. Served again, it must not be sized to its whole span in
    one window (that window would be cut at the budget, its rows thrown away, every
    time)."""
    monkeypatch.setattr(pages, "BUDGET", 128)
    inputs: list[dict[str, Any]] = [
        {"title": f"Zebra {i}" if i % 10 == 0 else f"Song {i}", "duration": 100.0 + i}
        for i in range(600)
    ]
    await catalog_writes.create_tracks(engine, inputs)
    zebras = [100.0 + i for i in range(0, 600, 10)]
    flt = TrackFilter(text="zebra")
    scanned = _record_scanned(engine, monkeypatch)
    for served in range(3):
        scanned.clear()
        rows, _ = await catalog.tracks_page(engine, flt, "DURATION", "ASC", None, 21)
        assert [r["duration"] for r in rows] == pytest.approx(zebras[:21])
        if served:  # the first time, windows may be cut while they find the keys
            assert scanned and max(scanned) < pages.BUDGET, scanned


async def test_a_cut_window_whose_rows_hold_the_page_ends_at_them(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys that pack into clusters far apart (two imports' creation times; at 100k
    tracks, one import's tracks of a year share some 40 consecutive keys): a first page
    sized by the label's average is cut at the budget. The rows the cut window returned
    are real tracks of its range: when they are all the page needs, the next window
    ends at the last of them and holds the page. (It shrank by an eighth, a 64th, a
    512th... instead: at 100k tracks five windows cut at the budget, 5,000 tracks read
    and thrown away, for the first page by year.) Ascending only: the index reads a
    window from its low end, so a descending window's rows lie low in it."""
    monkeypatch.setattr(pages, "BUDGET", 128)
    for batch in range(2):
        await catalog_writes.create_tracks(
            engine, [{"title": f"Song {batch} {i}"} for i in range(300)]
        )
        await asyncio.sleep(0.3)
    tracks = await engine.read("t", "MATCH (t:Track) RETURN t.id AS id, t.created_at AS created_at")
    scanned = _record_scanned(engine, monkeypatch)
    rows, _ = await catalog.tracks_page(engine, TrackFilter(), "CREATED_AT", "ASC", None, 21)
    assert [r["id"] for r in rows] == _expected(tracks, "CREATED_AT", "ASC")[:21]
    assert len(scanned) <= 2, scanned
    assert scanned[-1] < pages.BUDGET, scanned


async def test_a_descending_walk_over_clusters_does_not_crawl(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys packed in clusters (titles of a dozen words, forty tracks each): a
    descending page whose window took in several clusters is cut at the budget. The
    index reads a window from its low end, so the highest key read (`edge`) is not the
    window's; ending the next window there crawled up through the clusters one budget
    at a time (12 cut windows for one page by creation time at 100k)."""
    monkeypatch.setattr(pages, "BUDGET", 64)
    words = [c * 3 for c in "abcdefghijkl"]
    inputs = [{"title": f"{w} {i:04d}"} for w in words for i in range(40)]
    await catalog_writes.create_tracks(engine, inputs)
    expected = sorted((t["title"] for t in inputs), reverse=True)
    scanned = _record_scanned(engine, monkeypatch)
    after, seen, cut = None, [], []
    while True:
        scanned.clear()
        rows, keys = await catalog.tracks_page(engine, TrackFilter(), "TITLE", "DESC", after, 21)
        seen += [r["title"] for r in rows[:20]]
        cut.append(sum(n >= pages.BUDGET for n in scanned))
        if len(rows) <= 20:
            break
        after = keys[19]
    assert seen == expected
    assert max(cut) <= 2, str(cut)


async def test_pages_of_ties_do_not_narrow_the_next_window(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Titles that share their first ten letters share one sort key: every page of them
    reads the same window of ties. Such a window says nothing of the keys after it, so
    the walk must not learn a density from it (it climbed with every page, and the page
    after the last tie crawled across the gap in a dozen empty windows)."""
    monkeypatch.setattr(pages, "BUDGET", 1024)
    inputs = [{"title": f"Symphony No. {i:03d}"} for i in range(140)] + [{"title": "Zebra"}]
    assert len({text_key(t["title"]) for t in inputs[:140]}) == 1
    await catalog_writes.create_tracks(engine, inputs)
    reads = record_reads(engine, "tracks_page", monkeypatch)
    after = None
    titles: list[str] = []
    per_page: list[int] = []
    while True:
        reads.clear()
        rows, keys = await catalog.tracks_page(engine, TrackFilter(), "TITLE", "ASC", after, 21)
        per_page.append(len(reads))
        titles += [r["title"] for r in rows[:20]]
        if len(rows) <= 20:
            break
        after = keys[19]
    assert titles == [t["title"] for t in inputs]
    assert max(per_page) <= 3, per_page


async def test_a_statistics_refresh_keeps_what_the_walk_learnt(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The label's statistics are read again every STATS_SECONDS. When the count has not
    moved, what a walk learnt of the keys' local density still holds: the next page must
    not start over from the label's average. (It did: here 400 durations within four
    seconds and one of a day make the average a poor guide, and each page after a
    refresh read a window cut at the budget before the right one.)"""
    monkeypatch.setattr(pages, "BUDGET", 256)
    inputs = [{"title": f"Song {i}", "duration": 100.0 + i / 100} for i in range(400)]
    await catalog_writes.create_tracks(engine, [*inputs, {"title": "Long", "duration": 86400.0}])
    reads = record_reads(engine, "tracks_page", monkeypatch)
    after = None
    for page in range(8):
        if page >= 3:
            monkeypatch.setattr(pages, "STATS_SECONDS", 0.0)  # read them again each page
        reads.clear()
        rows, keys = await catalog.tracks_page(engine, TrackFilter(), "DURATION", "ASC", after, 21)
        assert [r["duration"] for r in rows[:20]] == pytest.approx(
            [100.0 + i / 100 for i in range(page * 20, page * 20 + 20)]
        )
        after = keys[19]
        if page >= 1:
            assert len(reads) == 1, (page, reads)


async def test_a_moved_count_starts_the_learning_over(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the walks learnt holds while the count stays within STATS_DRIFT of the count
    it was learnt at, however many refreshes that takes; past it (an import), it goes."""
    monkeypatch.setattr(pages, "STATS_SECONDS", 0.0)
    await catalog_writes.create_tracks(engine, _inputs(100))
    first = await pages._label_stats(engine, "Track", "sk_duration")
    epochs = []
    for n in range(4):  # 3 more each time: 103, 106, 109, 112 tracks
        await catalog_writes.create_tracks(engine, _inputs(3, offset=1000 + 3 * n))
        epochs.append((await pages._label_stats(engine, "Track", "sk_duration")).epoch)
    assert epochs[:3] == [first.epoch] * 3  # within 10% of 100
    assert epochs[3] != first.epoch  # 112: the small steps added up


async def test_a_small_label_is_read_in_one_window_whatever_its_gaps(
    engine: GraphEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A label of at most MIN_SCAN nodes is read in one open window. Windows sized from
    its average density crossed a gap in two or three reads: 25 tracks, one created a
    few ms before the other 24, made a test's page of one track cost a read more in
    one run out of ten."""
    monkeypatch.setattr(pages, "BUDGET", 1024)
    inputs: list[dict[str, Any]] = [{"title": "Intro", "duration": 1.0}]
    inputs += [{"title": f"Song {i}", "duration": 300.0 + i} for i in range(24)]
    await catalog_writes.create_tracks(engine, inputs)
    reads = record_reads(engine, "tracks_page", monkeypatch)
    for first in (1, 2, 20):
        for direction in ("ASC", "DESC"):
            reads.clear()
            rows, _ = await catalog.tracks_page(
                engine, TrackFilter(), "DURATION", direction, None, first + 1
            )
            durations = sorted((r["duration"] for r in inputs), reverse=direction == "DESC")
            assert [r["duration"] for r in rows] == durations[: first + 1]
            assert len(reads) == 1, (first, direction)
    # Past MIN_SCAN nodes, windows again: a page of one reads far fewer than all of them.
    more = [{"title": f"More {i}", "duration": 600.0 + i} for i in range(pages.MIN_SCAN)]
    await catalog_writes.create_tracks(engine, more)
    pages.forget()
    scanned = _record_scanned(engine, monkeypatch)
    rows, _ = await catalog.tracks_page(engine, TrackFilter(), "DURATION", "DESC", None, 2)
    assert [r["duration"] for r in rows] == [600.0 + pages.MIN_SCAN - 1, 600.0 + pages.MIN_SCAN - 2]
    assert sum(scanned) < len(inputs) + len(more), scanned
