"""Catalogue search: full text with filters, hybrid full text + vector, and autocomplete.

Hybrid search fuses two rankings with reciprocal-rank fusion (RRF, Cormack et al. 2009):
a hit's score is the sum over the rankings it appears in of 1 / (RRF_K + rank), rank
counted from 1. The rankings are

- the full-text hits, typo-tolerant (each word also matches one edit away), best first;
- the vector neighbours (the `embedding_audio` index) of the best SEEDS track hits of
  the text ranking with a cosine similarity of at least MIN_SIMILARITY, ordered by
  their best cosine similarity to any of those seeds.

So a track that both matches the words and sounds like the best matches comes first, and
a track whose title does not match at all can still be found when it sounds like one
that does.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from graph import analysis, analysis_store
from graph.engine import GraphEngine, Row
from graph.names import name_key
from graph.queries import search as q
from graph.queries.dialect import FULLTEXT_FIELDS
from graph.queries.search import SearchFilter

RRF_K = 60
# Text hits whose vector neighbours join the fusion.
SEEDS = 3
# Neighbours read per seed, and text hits read before fusing or filtering.
NEIGHBOURS = 20
# Below this, a vector neighbour does not sound like its seed: it would only add noise.
MIN_SIMILARITY = 0.5
TEXT_POOL = 50
# With filters, the filters are applied to this many best text hits.
FILTERED_POOL = 500
# Suggestions are ranked among at most this many full-text candidates.
SUGGEST_CANDIDATES = 1000
LABELS = {"TITLE": "Track", "ARTIST": "Artist", "ALBUM": "Album"}
# `total` counts hits up to this many: a count, not a read, but still bounded.
MAX_TOTAL = 10_000


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    score: float


async def search(
    engine: GraphEngine,
    text: str,
    first: int,
    kinds: Sequence[str] | None = None,
    flt: SearchFilter | None = None,
    hybrid: bool = False,
) -> list[Hit]:
    """Hits for `text`, best first. Filters narrow the hits to tracks that pass them."""
    wanted = [k for k in FULLTEXT_FIELDS if not kinds or k in kinds]
    flt = flt if flt is not None and not flt.is_empty() else None
    if flt is not None:
        wanted = ["Track"] if "Track" in wanted else []
    if not wanted:
        return []
    dialect = engine.dialect
    query_text = dialect.fuzzy_fulltext_text(text) if hybrid else dialect.fulltext_text(text)
    if query_text is None:
        return []
    pool = FILTERED_POOL if flt is not None else max(first, TEXT_POOL) if hybrid else first
    rows = await engine.read(
        "search",
        dialect.fulltext_query(wanted),
        {"q": query_text, "kinds": wanted, "first": pool},
    )
    hits = [Hit(r["kind"], r["id"], float(r["score"])) for r in rows]
    if flt is not None:
        passing = await _passing(engine, flt, [h.id for h in hits])
        hits = [h for h in hits if h.id in passing]
    if not hybrid or "Track" not in wanted:
        return hits[:first]
    neighbours = await _neighbours(engine, [h.id for h in hits if h.kind == "Track"][:SEEDS])
    if flt is not None:
        passing = await _passing(engine, flt, [h.id for h in neighbours])
        neighbours = [h for h in neighbours if h.id in passing]
    return fuse([hits, neighbours])[:first]


async def total(
    engine: GraphEngine,
    text: str,
    kinds: Sequence[str] | None = None,
    flt: SearchFilter | None = None,
    hybrid: bool = False,
) -> int:
    """How many hits `search` finds over all its pages, up to MAX_TOTAL: the full-text
    matches, counted by the index (plus, in hybrid mode, the sound neighbours that match
    no word). With filters, the hits of the bounded pool the filters apply to."""
    wanted = [k for k in FULLTEXT_FIELDS if not kinds or k in kinds]
    flt = flt if flt is not None and not flt.is_empty() else None
    if flt is not None:
        pool = FILTERED_POOL + SEEDS * NEIGHBOURS
        return len(await search(engine, text, pool, kinds, flt, hybrid))
    if not wanted:
        return 0
    dialect = engine.dialect
    query_text = dialect.fuzzy_fulltext_text(text) if hybrid else dialect.fulltext_text(text)
    if query_text is None:
        return 0
    found = await _count(engine, query_text, wanted, None)
    if hybrid and "Track" in wanted:
        rows = await engine.read(
            "search",
            dialect.fulltext_query(["Track"]),
            {"q": query_text, "kinds": ["Track"], "first": SEEDS},
        )
        neighbours = [h.id for h in await _neighbours(engine, [r["id"] for r in rows])]
        if neighbours:
            matching = await _count(engine, query_text, ["Track"], neighbours)
            found += len(neighbours) - matching
    return min(found, MAX_TOTAL)


async def _count(
    engine: GraphEngine, query_text: str, kinds: Sequence[str], ids: Sequence[str] | None
) -> int:
    rows = await engine.read(
        "search_count",
        engine.dialect.fulltext_count_query(kinds),
        {
            "q": query_text,
            "kinds": list(kinds),
            "ids": None if ids is None else list(ids),
            "cap": MAX_TOTAL,
        },
    )
    return int(rows[0]["n"]) if rows else 0


def fuse(rankings: Sequence[Sequence[Hit]]) -> list[Hit]:
    """Reciprocal-rank fusion: each hit scores the sum of 1 / (RRF_K + rank) over the
    rankings it is in; ties go to the better text rank, then to the id."""
    scores: dict[tuple[str, str], float] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            key = (hit.kind, hit.id)
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
    order = {key: i for i, key in enumerate(scores)}
    fused = sorted(scores, key=lambda key: (-scores[key], order[key], key[1]))
    return [Hit(kind, id_, scores[(kind, id_)]) for kind, id_ in fused]


async def _neighbours(engine: GraphEngine, seeds: Sequence[str]) -> list[Hit]:
    """The vector neighbours of the seed tracks, by best cosine similarity to any seed."""
    if not seeds:
        return []
    vectors = await analysis.embeddings_by_track(engine, [(s, "audio") for s in seeds])
    best: dict[str, float] = {}
    for seed, vector in zip(seeds, vectors, strict=True):
        if not vector:
            continue
        for track_id, similarity in await analysis_store.nearest(engine, seed, vector, NEIGHBOURS):
            if similarity >= MIN_SIMILARITY:
                best[track_id] = max(best.get(track_id, -1.0), similarity)
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [Hit("Track", track_id, similarity) for track_id, similarity in ranked]


async def _passing(engine: GraphEngine, flt: SearchFilter, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    query, params = q.filter_tracks(flt)
    rows = await engine.read("search_filter", query, {**params, "ids": list(ids)})
    return {r["id"] for r in rows}


async def suggest(engine: GraphEngine, prefix: str, field: str, first: int) -> list[Row]:
    """Up to `first` `{id, text}` whose title or name starts with `prefix`, whatever the
    case, the most played first (every user's plays; ties by name).

    The candidates are the best SUGGEST_CANDIDATES full-text hits for the prefix's words
    (on FalkorDB a prefix expands to at most 200 indexed words); of those, the ones whose
    title or name itself starts with the prefix are ranked."""
    label = LABELS[field]
    dialect = engine.dialect
    query_text = dialect.fulltext_text(prefix)
    if query_text is None:
        return []
    rows = await engine.read(
        "suggest_candidates",
        dialect.fulltext_query([label]),
        {"q": query_text, "kinds": [label], "first": SUGGEST_CANDIDATES},
    )
    if not rows:
        return []
    folded = name_key(prefix) if field == "ARTIST" else " ".join(prefix.lower().split())
    rows = await engine.read(
        "suggest",
        q.SUGGEST_QUERIES[field],
        {"ids": [r["id"] for r in rows], "folded": folded, "first": first},
    )
    return [{"id": r["id"], "text": r["text"]} for r in rows]
