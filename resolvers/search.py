"""`search` (full text, filtered, or hybrid with audio neighbours) and `suggest`."""

import asyncio
from typing import Any

from ariadne import QueryType

from graph import search
from graph.ids import require_id
from graph.names import name_key
from graph.queries.search import SearchFilter
from music.errors import ValidationError
from resolvers.context import Info

query = QueryType()

SEARCH_KINDS = {"TRACK": "Track", "ARTIST": "Artist", "ALBUM": "Album"}
MAX_QUERY = 200
MAX_PREFIX = 100
MAX_SUGGESTIONS = 50
MAX_LIST = 50
# Seed 000 lets a search page hold 500 hits; the offset is bounded so that a deep page
# stays one bounded full-text read.
MAX_SEARCH_FIRST = 500
MAX_SEARCH_OFFSET = 1_000


def _required_text(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise ValidationError(f"'{field}' must be at most {limit} characters.", field=field)
    text = value.strip()
    if not text:
        raise ValidationError(f"'{field}' must not be empty.", field=field)
    return text


def _range(bounds: dict[str, Any] | None, field: str) -> tuple[Any, Any]:
    if not bounds:
        return None, None
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None and low > high:
        raise ValidationError("A range's 'min' must not exceed its 'max'.", field=field)
    return low, high


def _list(values: list[str] | None, field: str) -> list[str]:
    if values and len(values) > MAX_LIST:
        raise ValidationError(f"'{field}' takes at most {MAX_LIST} values.", field=field)
    return list(dict.fromkeys(values or []))


def search_filter(raw: dict[str, Any] | None) -> SearchFilter:
    """The validated `SearchFilters` input."""
    raw = raw or {}
    flt = SearchFilter(
        genre_keys=[name_key(g) for g in _list(raw.get("genres"), "filters.genres")],
        camelot=[c.strip().upper() for c in _list(raw.get("camelot"), "filters.camelot")],
    )
    if raw.get("artist_id") is not None:
        flt.artist_id = require_id(raw["artist_id"], "Artist", "filters.artistId")
    flt.year_min, flt.year_max = _range(raw.get("year"), "filters.year")
    flt.tempo_min, flt.tempo_max = _range(raw.get("tempo"), "filters.tempo")
    flt.energy_min, flt.energy_max = _range(raw.get("energy"), "filters.energy")
    return flt


@query.field("search")
async def resolve_search(
    _: Any,
    info: Info,
    query: str,
    first: int | None = None,
    types: list[str] | None = None,
    filters: dict[str, Any] | None = None,
    mode: str = "TEXT",
    offset: int = 0,
) -> list[dict[str, Any]]:
    size = 20 if first is None else first
    if not 1 <= size <= MAX_SEARCH_FIRST:
        raise ValidationError(f"'first' must be between 1 and {MAX_SEARCH_FIRST}.", field="first")
    if not 0 <= offset <= MAX_SEARCH_OFFSET:
        raise ValidationError(
            f"'offset' must be between 0 and {MAX_SEARCH_OFFSET}.", field="offset"
        )
    text = _required_text(query, "query", MAX_QUERY)
    kinds = [SEARCH_KINDS[t] for t in types] if types else None
    hits = await search.search(
        info.context.engine, text, size + offset, kinds, search_filter(filters), mode == "HYBRID"
    )
    hits = hits[offset:]
    loaders = info.context.loaders
    nodes = await asyncio.gather(*(loaders.by_label(hit.kind).load(hit.id) for hit in hits))
    return [
        {"score": hit.score, "node": node}
        for hit, node in zip(hits, nodes, strict=True)
        if node is not None
    ]


@query.field("searchTotal")
async def resolve_search_total(
    _: Any,
    info: Info,
    query: str,
    types: list[str] | None = None,
    filters: dict[str, Any] | None = None,
    mode: str = "TEXT",
) -> int:
    text = _required_text(query, "query", MAX_QUERY)
    kinds = [SEARCH_KINDS[t] for t in types] if types else None
    return await search.total(
        info.context.engine, text, kinds, search_filter(filters), mode == "HYBRID"
    )


@query.field("suggest")
async def resolve_suggest(
    _: Any, info: Info, prefix: str, field: str | None = "TITLE", first: int | None = 10
) -> list[dict[str, Any]]:
    # An explicit null takes the default, as an omitted argument does.
    field = field or "TITLE"
    first = 10 if first is None else first
    if not 1 <= first <= MAX_SUGGESTIONS:
        raise ValidationError(f"'first' must be between 1 and {MAX_SUGGESTIONS}.", field="first")
    text = _required_text(prefix, "prefix", MAX_PREFIX)
    rows = await search.suggest(info.context.engine, text, field, first)
    loader = info.context.loaders.by_label(search.LABELS[field])
    nodes = await asyncio.gather(*(loader.load(r["id"]) for r in rows))
    return [
        {"text": r["text"], "node": node}
        for r, node in zip(rows, nodes, strict=True)
        if node is not None
    ]


bindables = [query]
