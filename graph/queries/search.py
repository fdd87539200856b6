"""Search beyond plain full text: filters on track hits, and autocomplete by prefix.

Full-text and vector calls come from the dialect (graph/queries/dialect.py); what is here runs
unchanged on both engines.

Autocomplete takes its candidates from the full-text index (the words of the prefix,
the last one as a prefix) and keeps those whose folded title or name starts with the
prefix. Not a range of the range indexes: on FalkorDB 4.22 neither `STARTS WITH` nor a
string range is served from them correctly (a range bound taken from a row applies only
to the first row; an `OR` of ranges, or a lower-case bound, returned wrong nodes).
"""

from dataclasses import dataclass, field
from typing import Any

from graph.queries.catalog import bounded

# The popularity of a suggestion: plays by every user, of the track or of the tracks of
# the artist or album. Only the order is shown to callers, never the counts.
_PLAYS = {
    "TITLE": "OPTIONAL MATCH (n)<-[p:PLAYED]-(:User)",
    "ARTIST": "OPTIONAL MATCH (n)<-[:BY]-(:Track)<-[p:PLAYED]-(:User)",
    "ALBUM": "OPTIONAL MATCH (n)<-[:ON]-(:Track)<-[p:PLAYED]-(:User)",
}
# Artist.name_key is the stored folded name; titles are lower-cased on the fly.
_MATCH = {
    "TITLE": "MATCH (n:Track {id: id}) WHERE toLower(n.title) STARTS WITH $folded",
    "ARTIST": "MATCH (n:Artist {id: id}) WHERE n.name_key STARTS WITH $folded",
    "ALBUM": "MATCH (n:Album {id: id}) WHERE toLower(n.title) STARTS WITH $folded",
}
_TEXT = {"TITLE": "n.title", "ARTIST": "n.name", "ALBUM": "n.title"}


def _suggest(field_name: str) -> str:
    """Of the candidates `$ids`, the `$first` that start with `$folded`, most played first."""
    text = _TEXT[field_name]
    return (
        f"UNWIND $ids AS id {_MATCH[field_name]} {_PLAYS[field_name]} "
        "WITH n, count(p) AS plays "
        f"RETURN n.id AS id, {text} AS text, plays "
        f"ORDER BY plays DESC, toLower({text}), n.id LIMIT $first"
    )


SUGGEST_TITLE_QUERY = _suggest("TITLE")
SUGGEST_ARTIST_QUERY = _suggest("ARTIST")
SUGGEST_ALBUM_QUERY = _suggest("ALBUM")
SUGGEST_QUERIES = {
    "TITLE": SUGGEST_TITLE_QUERY,
    "ARTIST": SUGGEST_ARTIST_QUERY,
    "ALBUM": SUGGEST_ALBUM_QUERY,
}


@dataclass
class SearchFilter:
    """Validated filters on track hits (see schema/search.graphql)."""

    genre_keys: list[str] = field(default_factory=list)
    artist_id: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    tempo_min: float | None = None
    tempo_max: float | None = None
    energy_min: float | None = None
    energy_max: float | None = None
    camelot: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return self == SearchFilter()


def filter_tracks(flt: SearchFilter) -> tuple[str, dict[str, Any]]:
    """Those of the tracks `$ids` that pass the filter (in no particular order)."""
    clauses = ["UNWIND $ids AS id MATCH (t:Track {id: id})"]
    where: list[str] = []
    params: dict[str, Any] = {}
    if flt.artist_id is not None:
        clauses.append("MATCH (t)-[:BY]->(:Artist {id: $artist_id})")
        params["artist_id"] = flt.artist_id
    if flt.genre_keys:
        clauses.append("MATCH (t)-[:IN_GENRE]->(g:Genre)")
        where.append("g.name_key IN $genre_keys")
        params["genre_keys"] = flt.genre_keys
    bounds = (
        ("t.year >= $year_min", "year_min", flt.year_min),
        ("t.year <= $year_max", "year_max", flt.year_max),
        ("t.af_tempo >= $tempo_min", "tempo_min", flt.tempo_min),
        ("t.af_tempo <= $tempo_max", "tempo_max", flt.tempo_max),
        ("t.af_energy >= $energy_min", "energy_min", flt.energy_min),
        ("t.af_energy <= $energy_max", "energy_max", flt.energy_max),
    )
    where += bounded(bounds, params)
    if flt.camelot:
        where.append("t.af_camelot IN $camelot")
        params["camelot"] = flt.camelot
    if where:
        clauses.append("WHERE " + " AND ".join(where))
    clauses.append("RETURN DISTINCT id")
    return " ".join(clauses), params
