"""Full-text search text for Neo4j: Lucene syntax escaped, words left whole for the
index's analyzer (standard-no-stop-words), a bounded index read; and the same titles
found on FalkorDB for real."""

import pytest

from graph import catalog, catalog_writes
from graph.engine import GraphEngine
from graph.engine.neo4j import Neo4jEngine
from graph.migrations import SCHEMA
from graph.queries.dialect import FULLTEXT_LIMIT, NEO4J, NEO4J_FULLTEXT_ANALYZER
from tests.neo4j_fake import FakeDriver

# User text -> Neo4j query text. The standard analyzer keeps `don't`, `r.e.m`, `4.5` as
# one token and splits CJK text per character: the words must reach it whole.
CASES = [
    ("don't stop", "don't AND (stop OR stop*)"),
    ("R.E.M.", "(r.e.m. OR r.e.m.*)"),
    ("Take 4.5", "take AND (4.5 OR 4.5*)"),
    ("東京事変", "(東京事変 OR 東京事変*)"),
    ("O'Connor", "(o'connor OR o'connor*)"),
    ("AC/DC (live)", "ac\\/dc AND (\\(live\\) OR \\(live\\)*)"),
    ("title:x OR y*", "title\\:x AND or AND (y\\* OR y\\**)"),
    ("  ", None),
    ("- ~ !", None),
]
SPECIAL = '+-&|!(){}[]^"~*?:\\/'


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_words_reach_the_analyzer_whole(text: str, expected: str | None) -> None:
    assert NEO4J.fulltext_text(text) == expected


@pytest.mark.parametrize("char", list(SPECIAL))
def test_every_lucene_special_character_is_escaped(char: str) -> None:
    assert NEO4J.fulltext_text(f"a{char}b") == f"(a\\{char}b OR a\\{char}b*)"


def test_fuzzy_text_keeps_words_whole_too() -> None:
    assert NEO4J.fuzzy_fulltext_text("don't stopp") == (
        "(don't OR don't~1) AND (stopp OR stopp~1 OR stopp*)"
    )
    assert NEO4J.fuzzy_fulltext_text("東京事変") == "(東京事変 OR 東京事変~1 OR 東京事変*)"


def test_the_index_read_is_bounded_and_the_analyzer_named() -> None:
    assert "{limit: $first}" in NEO4J.fulltext_query()
    assert f"{{limit: {FULLTEXT_LIMIT}}}" in NEO4J.fulltext_query(["Track"])
    [ddl] = [s for spec in SCHEMA if spec.kind == "fulltext" for s in NEO4J.ddl(spec)]
    assert f"`fulltext.analyzer`: '{NEO4J_FULLTEXT_ANALYZER}'" in ddl


async def test_search_sends_the_escaped_text_as_a_parameter() -> None:
    driver = FakeDriver()
    await catalog.search(Neo4jEngine(driver, "music"), "Don't (stop)", 5)  # type: ignore[arg-type]
    [call] = driver.calls
    assert call.mode == "READ"
    assert call.params == {
        "q": "don't AND (\\(stop\\) OR \\(stop\\)*)",
        "kinds": ["Track", "Artist", "Album"],
        "first": 5,
    }


async def test_punctuated_titles_are_found(engine: GraphEngine) -> None:
    titles = ["Don't Stop Me Now", "Losing My Religion (R.E.M. cover)", "Take 4.5"]
    rows = await catalog_writes.create_tracks(engine, [{"title": t} for t in titles])
    ids = {t: r["id"] for t, r in zip(titles, rows, strict=True)}
    await engine.wait_for_indexes()
    for text, title in (("don't stop", titles[0]), ("r.e.m", titles[1]), ("take 4.5", titles[2])):
        hits = await catalog.search(engine, text, 5, ["Track"])
        assert ids[title] in [h["id"] for h in hits], (text, hits)
