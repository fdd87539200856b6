"""Pages whose cost does not grow with the catalogue: windows over integer sort keys.

A page in a sort order reads a window of the order's integer key (graph/sort_keys.py)
from the range index, at most `BUDGET` nodes, filters and sorts only those, and widens
the window until it holds the page:

- the window starts at the cursor's key (or, for the first page, is open on that side,
  so nothing inserted before the lowest key seen is missed);
- a page this process served before from the same key (the first pages of a list,
  asked again and again) gets exactly the keys its rows spanned then: one window of
  its own rows, whatever page came before it (sized like any other page, the same
  five pages served in turn read 58 to 678 nodes each, varying with the order they
  came in, from process to process and run to run);
- any other page's width comes from the key density learnt from earlier windows of
  this process (first from the label's min, max and count, read once), divided by
  the share of the scanned nodes the filter kept (the keys the walk's last page
  spanned were a worse guide: where keys cluster, one import's tracks of a year, a
  page crossing a gap spans far more than the one before, and walks took 2-6
  windows a page instead of 1-2);
- a window that reached `BUDGET` was cut short: its rows are thrown away and it
  shrinks to an eighth (a 64th, then a 512th, when it is cut again at once: one
  import's tracks of one year, or of one title word, pack far denser than the
  average), or to end at `edge`, the first key among the nodes it read, when that is
  further (those nodes are not in key order, so the first keys lie between its start
  and that one: a cluster past a gap; descending, `edge` is only the top of the nodes
  read, as the index reads from the low end, so the narrower of the two), or, when the
  rows it returned are all the page needs, to end at the last of them (they are real
  rows of the window: it holds the page); one that held too few rows is followed by
  the next one, wider;
- an empty window is a gap in the keys (years without tracks, the space between two
  imports' id bits): the next one is twice as wide, the one after four times, then
  eight... (a gallop: 10 empty windows cross 2**55), and empty windows do not count
  as rounds (at most MAX_EMPTY of them); a cut or a window with rows starts the
  gallop again at twice;
- after `MAX_ROUNDS` windows the rest is one open-ended query, exact whatever it costs
  (a filter that keeps almost nothing, such as a rare word in `text`).

On Neo4j the same queries run; its range index serves the same windows.
"""

import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph.engine import GraphEngine, Row
from graph.queries import catalog as q

BUDGET = 1024  # nodes one window may read
TARGET = 0.5  # of BUDGET, the nodes a window is sized to read
MAX_ROUNDS = 8
STATS_SECONDS = 300.0
KEY_MIN = -(1 << 53)  # every sort key lies in [0, 2**53): graph/sort_keys.py
KEY_MAX = 1 << 53
UNBOUNDED = (1 << 31) - 1  # reads a window whole (FalkorDB reads LIMIT 2**32 as 0)
MAX_SHRINKS = 24
MAX_EMPTY = 32
MAX_SIGNATURES = 4096
# A refresh of the statistics whose count moved by at most this share keeps the local
# densities the walks learnt; a larger move (an import, a purge) starts them over.
STATS_DRIFT = 0.1
# Nodes a window is sized to read at least: a round trip costs far more than a few dozen
# nodes more in it, and a label this small is read in one open window, whatever gaps
# its keys have (25 tracks, one created a few ms before the rest, took two windows).
MIN_SCAN = 64
# Nodes a window that held its page read, at least, to set the density: not a page of
# one row (two or three nodes), but a window ended at a cut window's rows, which reads
# about its page (22 nodes for a page of 21; at 32 the walk after it kept the density of
# the cut window, and every page was cut again).
DENSITY_SAMPLE = 16
# A page served before from the same key spans what it did then, exactly (a delete
# there since costs one more window, once), or for more rows, at its pace with
# REPEAT_MARGIN. A margin on the exact span would read into whatever follows the page:
# one whose last row lay across a gap read the whole cluster after it.
REPEAT_MARGIN = 1.15
PACE_SAMPLE = 16  # rows a page held, at least, for its span to size a larger page

Build = Callable[[bool, bool], tuple[str, dict[str, Any]]]
"""(has near bound, has far bound) -> window query and its params (without bounds,
budget and limit)."""
Exact = Callable[[list[Any] | None], tuple[str, dict[str, Any]]]
"""keyset position -> a query sorting everything after it (params without limit)."""


@dataclass
class _Stats:
    low: int
    high: int
    total: int
    density: float  # nodes per key unit
    read_at: float
    # Since when (and at what count) the count has stayed within STATS_DRIFT: the local
    # densities learnt since then still hold.
    epoch: float
    epoch_total: int


@dataclass
class _Learnt:
    """What the walks over one engine learnt: the keys' range and count per (label,
    key); per filter signature, the share of scanned nodes it kept; and per (label, key,
    signature) the nodes per key unit a window of that walk scanned, with the stats'
    epoch it was learnt under (per filter: a filter the index answers, a genre, makes
    its windows scan only the genre's nodes, far sparser)."""

    stats: dict[tuple[str, str], _Stats] = field(default_factory=dict)
    yields: dict[str, float] = field(default_factory=dict)
    densities: dict[tuple[str, str, str], tuple[float, float]] = field(default_factory=dict)
    # Per (label, key, signature, direction, first key): the keys a page from there
    # spanned, for how many rows, and the stats' epoch.
    spans: dict[tuple[str, str, str, str, int], tuple[int, int, float]] = field(
        default_factory=dict
    )


# Per engine, weakly: a later engine that happens to get an ended one's id() (tests
# make one per test) must not start from another graph's keys.
_learnt: "weakref.WeakKeyDictionary[GraphEngine, _Learnt]" = weakref.WeakKeyDictionary()


def forget() -> None:
    """Drop everything the walks learnt (tests that change BUDGET start afresh)."""
    _learnt.clear()


def _put(table: dict[Any, Any], key: Any, value: Any) -> None:
    """`table[key] = value`, in a map of bounded size (filters and keys are open-ended)."""
    if len(table) >= MAX_SIGNATURES and key not in table:
        table.clear()
    table[key] = value


StatsQuery = tuple[str, dict[str, Any]]
"""A query with one row `low`, `high`, `total`: the lowest and highest key of the rows a
walk pages through, and how many there are (by default, of the label's nodes)."""


async def _label_stats(
    engine: GraphEngine,
    label: str,
    prop: str,
    fresh: bool = False,
    query: StatsQuery | None = None,
) -> _Stats:
    learnt = _learnt.setdefault(engine, _Learnt())
    key = (label, prop)
    stats = learnt.stats.get(key)
    if stats is not None and not fresh and time.monotonic() - stats.read_at < STATS_SECONDS:
        return stats
    text, params = query or (q.sort_key_stats(label, prop), {})
    rows = await engine.read("sort_key_stats", text, params)
    row = rows[0] if rows else {}
    low, high, total = row.get("low"), row.get("high"), int(row.get("total") or 0)
    if low is None or high is None:
        low, high = 0, 0
    density = total / max(1, int(high) - int(low) + 1)
    now = time.monotonic()
    if stats is not None and abs(total - stats.epoch_total) <= STATS_DRIFT * max(
        stats.epoch_total, 1
    ):
        epoch, epoch_total = stats.epoch, stats.epoch_total
    else:
        epoch, epoch_total = now, total
    stats = _Stats(int(low), int(high), total, density, now, epoch, epoch_total)
    _put(learnt.stats, key, stats)  # keys of one user's edges are open-ended
    return stats


def _narrowed(stats: _Stats, key_range: tuple[int | None, int | None]) -> tuple[int, int]:
    """The keys known, narrowed to those a filter allows: no window looks outside."""
    low, high = key_range
    return (
        stats.low if low is None else max(stats.low, low),
        stats.high if high is None else min(stats.high, high),
    )


def _small(stats: _Stats) -> bool:
    """Few enough nodes in all that one open window reads them (see MIN_SCAN)."""
    return stats.total <= min(BUDGET * TARGET, MIN_SCAN)


def _width(density: float, kept: float, wanted: int) -> int:
    """Key units expected to hold `wanted` kept rows while reading at most TARGET of BUDGET."""
    scan = min(BUDGET * TARGET, max(MIN_SCAN, 2 * wanted / max(kept, 1e-3)))
    return max(1, min(KEY_MAX, int(scan / max(density, 1e-18))))


def _paced(pace: float, wanted: float, kept: float) -> int:
    """Key units expected to hold `wanted` rows at `pace` rows per unit, reading at
    most TARGET of BUDGET nodes (`kept` of them pass the filter)."""
    rows = min(wanted, BUDGET * TARGET * kept)
    return max(1, min(KEY_MAX, int(rows / max(pace, 1e-18)) + 1))


async def window_page(
    engine: GraphEngine,
    operation: str,
    label: str,
    prop: str,
    direction: q.SortDirection,
    after: list[Any] | None,
    limit: int,
    build: Build,
    signature: str,
    exact: Exact | None = None,
    key_range: tuple[int | None, int | None] = (None, None),
    stats_query: StatsQuery | None = None,
) -> list[Row]:
    """Up to `limit` rows (`row`, `sort_key`) after the keyset position `after`, whose
    first value is the integer key `prop` of `label`; `signature` names the filter, and
    `key_range` the lowest and highest key a row passing it can have (None: any).
    `stats_query` reads the keys' range and count when the rows are not the label's
    nodes (one user's edges: `label` then names them)."""
    stats = await _label_stats(engine, label, prop, query=stats_query)
    ascending = direction == "ASC"
    step = 1 if ascending else -1
    low, high = _narrowed(stats, key_range)
    near: int | None = after[0] if after is not None else None
    start = near if near is not None else (low if ascending else high)
    learnt = _learnt.setdefault(engine, _Learnt())
    learnt_key = (label, prop, signature)
    seen = learnt.densities.get(learnt_key)
    density = seen[0] if seen is not None and seen[1] == stats.epoch else stats.density
    kept = learnt.yields.get(signature, 1.0)
    rows: list[Row] = []
    # The filter's yield is learnt only from windows whose every passing row came back:
    # one that held more than the page returned `$limit` of them, a lower bound
    # (`at_least`). Counting those as the yield made it fall with every page that a
    # window held with room to spare, and the next windows wider: an unfiltered walk's
    # pages read 500-680 tracks each for 51 rows.
    scanned_total = kept_total = 0
    at_least = 0.0
    # The first window: as wide as the page spanned when served from this key before;
    # else from the density.
    page_start = start
    span_key = (label, prop, signature, direction, page_start)
    served = learnt.spans.get(span_key)
    closed = False
    if served is not None and served[2] == stats.epoch and served[1] >= min(limit, PACE_SAMPLE):
        span, count = served[0], served[1]
        if limit <= count:
            # Its rows lay within `span` keys: exactly that (scaled; integers, so that a
            # page of the same size is not one key short), within the budget.
            width = min(span * limit // count + 1, _paced(count / span, math.inf, kept))
        else:
            width = _paced(count / span, limit * REPEAT_MARGIN, kept)
        # It held the page then: closed past the last key known too (an open window
        # reads every node to the end, up to the budget).
        closed = True
    else:
        width = _width(density, kept, limit)
    exhausted = False
    small = _small(stats)
    rounds = shrinks = empties = cuts = 0
    gallop = 2
    while rounds < MAX_ROUNDS:
        far: int | None = start + step * width
        assert far is not None
        # The window holds keys up to far - 1 (down to far + 1): open only past those.
        past = (far - 1 > high if ascending else far + 1 < low) and not closed
        closed = False
        if past or small or not KEY_MIN < far < KEY_MAX:
            # Past the last key known, or few nodes in all: open, so the end of the list
            # costs no extra round.
            far = None
        # A one-key window cannot shrink: it is read whole (ties of one key only).
        budget = BUDGET if width > 1 and shrinks < MAX_SHRINKS else UNBOUNDED
        query, params = build(near is not None, far is not None)
        params |= {"near": near, "far": far, "budget": budget, "limit": limit - len(rows) + 1}
        result = await engine.read(operation, query, params)
        scanned = int(result[0]["scanned"]) if result else 0
        if scanned >= budget:
            # Cut short: rows past the budget may sort first. Narrower, same start; a
            # shrink does not count as a round (each reads at most BUDGET nodes).
            density = max(density, BUDGET / width)
            cuts += 1
            edge = result[0].get("edge")
            if isinstance(edge, int):
                # A node the window read lies at `edge`: the next window ends there
                # (it holds that node, and the first keys lie in it); when that is this
                # window again, it ends just before, and a window of `edge` alone
                # (read whole: ties of one key) follows.
                # No narrower than an eighth (a 64th, a 512th when cut again at once),
                # though: in keys spread evenly the first node read is near the start,
                # and so small a window would read too few.
                span = abs(edge - start)
                shrunk = max(1, width // 8 ** min(cuts, 3))
                if not ascending:
                    # The index reads a window from its low end: descending, `edge` is
                    # the top of the nodes read, not of the window, and a window ending
                    # there crawled up through one import's clusters, 1,024 nodes a cut
                    # (12 cuts for one page at 100k). From the start, the narrower.
                    width = max(1, min(span, shrunk))
                elif span + 1 < width:
                    width = max(span + 1, shrunk)
                else:
                    width = max(1, span)
            else:
                width = max(1, width // 8 ** min(cuts, 3))
            # The rows it returned are the first of the nodes it did read: when they are
            # all the page still needs, the keys up to the last of them hold the page,
            # surely. The index reads a window from its low end, so ascending they are
            # the window's first rows and the page's: one import's tracks of a year
            # share some 40 consecutive keys (the id's minting time below the year),
            # and the first page by year shrank through five cut windows, 5,000 nodes
            # read and thrown away, before it reached them. Descending they lie low in
            # the window, and the shrink (or `edge`) is the narrower.
            cut_rows = [r for r in result if r["row"] is not None]
            if len(cut_rows) >= limit - len(rows):
                width = min(width, abs(cut_rows[-1]["sort_key"][0] - start) + 1)
            gallop = 2
            shrinks += 1
            if far is None:
                # Many keys past the last one known: they were written since; read again.
                stats = await _label_stats(engine, label, prop, True, stats_query)
                low, high = _narrowed(stats, key_range)
                small = _small(stats)
            continue
        cuts = 0
        if scanned == 0 and far is not None and empties < MAX_EMPTY:
            # A gap: gallop across it; cheap (nothing read), so not a round.
            empties += 1
            near = start = far
            width *= gallop
            gallop *= 2
            continue
        rounds += 1
        gallop = 2
        found = [r for r in result if r["row"] is not None]
        rows += found[: limit - len(rows)]
        # A window that held its page guides the next page: this part of the keys. Not
        # when a few nodes (a page of one row reads two or three) or ties of the cursor's
        # key (a page of "Collection 0001".."0050", one key, again and again) fill it:
        # the density would climb with every page of ties, and the window after the last
        # tie would crawl across the gap.
        if (
            far is not None
            and len(rows) >= limit  # this window held the page: `found` is not empty
            and scanned >= DENSITY_SAMPLE
            and found[-1]["sort_key"][0] != start  # not ties of the cursor's key alone
        ):
            density = scanned / width
        # The null row can take a place of the LIMIT (it sorts first descending).
        if len(found) < params["limit"] - 1:
            scanned_total += scanned
            kept_total += len(found)
        elif scanned:
            at_least = max(at_least, len(found) / scanned)
        if len(rows) >= limit or far is None:
            break
        # The next window starts where this one ended and is sized by what it held.
        if scanned:
            density = scanned / width
        kept = max(kept_total / max(scanned_total, 1), 1e-3)
        # Twice as wide at least, but not past the budget at this window's density: a
        # filter that keeps one track in ten doubled its windows into a cut (rows thrown
        # away) on every page.
        wider = width * 2 if scanned * 2 <= BUDGET * TARGET else width
        width = max(wider, _width(density, kept, limit - len(rows)))
        near = start = far
    else:
        exhausted = True
        # Too sparse for windows: the rest in one query that sorts all it selects
        # (`exact`, from the last row kept), or an open window read whole.
        if exact is not None:
            query, params = exact(rows[-1]["sort_key"] if rows else after)
            params["limit"] = limit - len(rows)
        else:
            query, params = build(near is not None, False)
            params |= {"near": near, "far": None, "budget": UNBOUNDED}
            params["limit"] = limit - len(rows) + 1
        result = await engine.read(operation, query, params)
        rows += [r for r in result if r["row"] is not None][: limit - len(rows)]
    if scanned_total or at_least:
        learnt_yield = kept_total / scanned_total if scanned_total else kept
        _put(learnt.yields, signature, min(1.0, max(learnt_yield, at_least, 1e-3)))
        # A walk's next page is near: start from what this one saw.
        _put(learnt.densities, learnt_key, (density, stats.epoch))
    if len(rows) >= limit and not exhausted:
        # The keys the page spanned: this page served again is sized from them. Not a
        # page of ties of one key, nor one the last resort finished (its windows read
        # too much to be a guide).
        span = abs(rows[limit - 1]["sort_key"][0] - page_start)
        if span > 0:
            _put(learnt.spans, span_key, (span, limit, stats.epoch))
    if rows and stats.total == 0:
        # Read before the first node: read again (gone already if the stats were cleared).
        learnt.stats.pop((label, prop), None)
    return rows
