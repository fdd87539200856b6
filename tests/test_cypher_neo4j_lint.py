"""Every Cypher string the Neo4j engine can send passes Neo4j's own parser.

The strings are enumerated from graph/ (every `*_QUERY` constant, every builder over
its whole input matrix, the Neo4j dialect's DDL and search); a workload on FalkorDB
then checks that no query sent in practice is missing from that enumeration.
"""

import inspect
import itertools
from collections.abc import Iterator

import pytest

from graph import (
    analysis,
    analysis_store,
    catalog,
    catalog_writes,
    jobs,
    media,
    migrations,
    models,
    similarity,
    users,
)
from graph import collection_store as graph_collections
from graph import search as graph_search
from graph.engine import GraphEngine, Params, Row
from graph.engine.falkordb import FalkorDBEngine
from graph.queries import analysis as analysis_queries
from graph.queries import analysis_store as store_queries
from graph.queries import annotations as annotation_queries
from graph.queries import catalog as catalog_queries
from graph.queries import catalog_writes as write_queries
from graph.queries import collections as collection_queries
from graph.queries import exploration as exploration_queries
from graph.queries import genre_model as genre_queries
from graph.queries import jobs as job_queries
from graph.queries import listening as listening_queries
from graph.queries import media as media_queries
from graph.queries import media_files as media_file_queries
from graph.queries import metadata as metadata_queries
from graph.queries import models as model_queries
from graph.queries import playqueue as playqueue_queries
from graph.queries import preferences as preference_queries
from graph.queries import schema as schema_queries
from graph.queries import search as search_queries
from graph.queries import similarity as similarity_queries
from graph.queries import subsonic as subsonic_queries
from graph.queries import users as user_queries
from graph.queries.dialect import FALKORDB, FULLTEXT_FIELDS, NEO4J, Dialect
from music.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from tests.support import graph_queries

try:
    from tests._cypher_lint import is_acceptable, lint
except ImportError:  # pragma: no cover
    from _cypher_lint import is_acceptable, lint  # type: ignore[no-redef]

QUERY_MODULES = [
    catalog_queries,
    write_queries,
    user_queries,
    collection_queries,
    similarity_queries,
    analysis_queries,
    store_queries,
    job_queries,
    media_queries,
    media_file_queries,
    subsonic_queries,
    model_queries,
    genre_queries,
    exploration_queries,
    listening_queries,
    playqueue_queries,
    metadata_queries,
    preference_queries,
    search_queries,
    migrations,
]
# Statements about the schema and the engine itself that Neo4j is sent (graph/migrations.py,
# graph/engine/neo4j.py); the FALKORDB_* ones in that module never reach it.
NEO4J_ENGINE_QUERIES = [
    schema_queries.DEDUPLICATE_SCHEMA_VERSION_QUERY,
    schema_queries.SET_SCHEMA_VERSION_QUERY,
    schema_queries.READ_SCHEMA_VERSION_QUERY,
    schema_queries.NEO4J_AWAIT_INDEXES_QUERY,
    schema_queries.DELETE_ALL_QUERY,
]


def _constants() -> Iterator[str]:
    for module in QUERY_MODULES:
        for name, value in vars(module).items():
            if name.endswith("_QUERY") and isinstance(value, str):
                yield value


def _builders() -> Iterator[str]:
    filters = [
        catalog_queries.TrackFilter(),
        catalog_queries.TrackFilter(album_id="alb_x"),
        catalog_queries.TrackFilter(artist_id="art_x", genre_keys=["jazz"]),
        catalog_queries.TrackFilter(
            genre_keys=["a", "b"],
            year_min=1,
            year_max=2,
            duration_min=1.0,
            duration_max=2.0,
            text="x",
            album_id="alb_x",
            artist_id="art_x",
        ),
    ]
    for flt, sort, direction, after in itertools.product(
        filters, catalog_queries.TRACK_SORT_KEYS, ("ASC", "DESC"), (None, [1, "k", "trk_x"])
    ):
        yield catalog_queries.tracks_page(flt, sort, direction, after, 11)[0]  # type: ignore[arg-type]
        for near, far in itertools.product((False, True), repeat=2):
            yield catalog_queries.tracks_window(flt, sort, direction, after, near, far)[0]  # type: ignore[arg-type]
        relations = catalog_queries.PAGE_RELATIONS
        yield catalog_queries.tracks_page(flt, sort, direction, after, 11, relations)[0]  # type: ignore[arg-type]
        yield catalog_queries.tracks_window(flt, sort, direction, after, True, True, relations)[0]  # type: ignore[arg-type]
    for flt in filters:
        yield catalog_queries.tracks_count(flt)[0]
    for by_artist in (False, True):
        yield catalog_queries.albums_page(by_artist)
        yield catalog_queries.albums_count(by_artist)
    for text, after, near, far in itertools.product((False, True), repeat=4):
        yield catalog_queries.artists_window(text, after, near, far)
        yield catalog_queries.albums_window(near, far)
    for after, near, far in itertools.product((False, True), repeat=3):
        yield collection_queries.collections_window(after, near, far)
    for label, prop in sorted(catalog_queries.SORT_KEY_PROPS):
        yield catalog_queries.sort_key_stats(label, prop)
    for search_filter in (
        search_queries.SearchFilter(),
        search_queries.SearchFilter(artist_id="art_x", genre_keys=["jazz"]),
        search_queries.SearchFilter(
            genre_keys=["a"],
            year_min=1,
            year_max=2,
            tempo_min=1.0,
            tempo_max=2.0,
            energy_min=0.1,
            energy_max=0.9,
            camelot=["8A"],
        ),
    ):
        yield search_queries.filter_tracks(search_filter)[0]
    for kind in analysis_queries.EMBEDDING_TYPES:
        yield analysis_queries.embeddings_by_track(kind)
        yield analysis_queries.embedding_dims(kind)
        yield analysis_queries.set_embedding(kind, NEO4J)
        yield analysis_queries.remove_embedding(kind)
    for data in metadata_queries.MISSING:
        yield from metadata_queries.tracks_missing(data)
    for label in annotation_queries.LABELS:
        yield annotation_queries.star(label)
        yield annotation_queries.unstar(label)
        yield annotation_queries.starred(label)
        yield annotation_queries.rate(label)
        yield annotation_queries.unrate(label)


def _dialect_builders(dialect: Dialect) -> Iterator[str]:
    """The queries built for one engine's dialect (vector values and vector search)."""
    yield analysis_queries.set_embedding("audio", dialect)
    for build in (
        store_queries.store_analysis,
        store_queries.store_feature_embedding,
        store_queries.set_embeddings,
        store_queries.set_feature_embeddings,
        store_queries.vector_neighbours,
        store_queries.vector_search,
        exploration_queries.candidates,
        exploration_queries.nearest,
        listening_queries.history_count,
        write_queries.create_tracks,
    ):
        yield build(dialect)


def _dialect() -> Iterator[str]:
    for migration in migrations.MIGRATIONS:
        for spec in migration.create:
            yield from NEO4J.ddl(spec)
        for spec in migration.drop:
            yield from NEO4J.drop_ddl(spec)
    for size in range(1, len(FULLTEXT_FIELDS) + 1):
        for kinds in itertools.combinations(FULLTEXT_FIELDS, size):
            yield NEO4J.fulltext_query(kinds)
            yield NEO4J.fulltext_count_query(kinds)
    yield from _dialect_builders(NEO4J)


def neo4j_queries() -> list[str]:
    return sorted(set(itertools.chain(_constants(), _builders(), _dialect(), NEO4J_ENGINE_QUERIES)))


def test_every_neo4j_query_passes_neo4j_parser() -> None:
    queries = neo4j_queries()
    assert len(queries) > 60
    results = lint(queries, check_builtins=True)
    failures = {
        query: [d["message"] for d in diagnostics if not is_acceptable(d)]
        for query, diagnostics in zip(queries, results, strict=True)
    }
    failures = {q: msgs for q, msgs in failures.items() if msgs}
    assert not failures, failures


def test_falkordb_only_syntax_is_caught_by_the_linter() -> None:
    """The check is live: FalkorDB's dialect would not pass it."""
    [search] = lint([FALKORDB.fulltext_query()], check_builtins=True)
    assert [d for d in search if not is_acceptable(d)]


class RecordingEngine(FalkorDBEngine):
    """FalkorDB that notes every catalogue query it is sent."""

    sent: set[str]

    async def read(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        if operation != "migrate":
            self.sent.add(query)
        return await super().read(operation, query, params)

    async def write(self, operation: str, query: str, params: Params | None = None) -> list[Row]:
        if operation != "migrate":
            self.sent.add(query)
        return await super().write(operation, query, params)


async def _workload(engine: GraphEngine) -> None:
    tracks = await catalog_writes.create_tracks(
        engine,
        [
            {
                "title": "So What",
                "artist_names": ["Miles Davis"],
                "album_title": "Kind of Blue",
                "genres": ["Jazz"],
                "year": 1959,
                "duration": 562.0,
            },
            {"title": "Blue Train", "artist_names": ["John Coltrane"], "genres": ["Jazz"]},
        ],
    )
    track_id = tracks[0]["id"]
    [artist] = (await catalog.artists_by_track(engine, [track_id]))[0]
    album = (await catalog.album_by_track(engine, [track_id]))[0]
    assert album is not None
    await catalog_writes.create_tracks(
        engine, [{"title": "All Blues", "artist_ids": [artist["id"]], "album_id": album["id"]}]
    )
    await catalog_writes.update_track(
        engine, track_id, {"title": "So What (take 2)", "album_title": "Kind of Blue"}
    )
    await catalog_writes.update_track(
        engine, track_id, {"artist_names": ["Miles"], "genres": ["Modal"]}
    )
    await catalog_writes.update_artist(engine, artist["id"], "Miles Dewey Davis")
    other = await catalog_writes.create_album(
        engine, {"title": "Milestones", "artist_name": "Miles Davis"}
    )
    await catalog_writes.update_album(engine, other["id"], {"title": "Milestones!", "year": 1958})
    for name, fetch in inspect.getmembers(catalog, inspect.iscoroutinefunction):
        if not name.startswith("_") and name.endswith(("_by_id", "_by_track", "_by_album")):
            await fetch(engine, [track_id, album["id"], artist["id"]])
    await catalog.all_genres(engine)
    await catalog.search(engine, "so what", 5)
    await catalog.search(engine, "miles", 5, ["Artist", "Album"])
    for flt in (
        catalog_queries.TrackFilter(),
        catalog_queries.TrackFilter(genre_keys=["jazz"], artist_id=artist["id"]),
    ):
        await catalog.tracks_page(engine, flt, "TITLE", "ASC", [1, "a", "trk_x"], 5)
        await catalog.tracks_count(engine, flt)
    await catalog.artists_page(engine, "miles", None, 5)
    await catalog.artists_count(engine, None)
    for artist_id in (None, artist["id"]):
        await catalog.albums_page(engine, artist_id, None, None, None, None, 5)
        await catalog.albums_count(engine, artist_id, None, 1900, None)
    for relation in catalog.NESTED_PAGE_QUERIES:
        await catalog.nested_pages(engine, relation, [(artist["id"], None, 5)])
        await catalog.nested_counts(engine, relation, [artist["id"]])
    await _collections_workload(engine, [track_id, tracks[1]["id"]])
    await _similarity_workload(engine, [track_id, tracks[1]["id"]])
    await _analysis_workload(engine, [track_id, tracks[1]["id"]])
    await _jobs_workload(engine, [track_id, tracks[1]["id"]])
    await catalog_writes.delete_album(engine, other["id"])
    await catalog_writes.delete_track(engine, track_id)
    await catalog_writes.delete_artist(engine, artist["id"], cascade=True)


async def _collections_workload(engine: GraphEngine, track_ids: list[str]) -> None:
    owner = await users.create_user(engine, "o@example.com", "owner", "not-a-hash")
    other = await users.create_user(engine, "x@example.com", "other", "not-a-hash")
    viewer = graph_collections.Viewer(owner["id"], False)
    stranger = graph_collections.Viewer(other["id"], False)
    row = await graph_collections.create_collection(engine, owner["id"], {"name": "Mix"})
    cid = row["id"]
    await graph_collections.update_collection(engine, viewer, cid, {"public": True})
    await graph_collections.add_tracks(engine, viewer, cid, track_ids)
    await graph_collections.add_tracks(engine, viewer, cid, track_ids[:1], 0)
    await graph_collections.move_track(engine, viewer, cid, track_ids[0], 1)
    await graph_collections.remove_tracks(engine, viewer, cid, track_ids[1:])
    missing = "trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"
    with pytest.raises(NotFoundError):  # the refusal path reads why
        await graph_collections.add_tracks(engine, viewer, cid, [missing])
    with pytest.raises(ForbiddenError):
        await graph_collections.remove_tracks(engine, stranger, cid, track_ids)
    await graph_collections.collections_by_id(engine, stranger, [cid])
    await graph_collections.collections_by_track(engine, viewer, track_ids)
    await graph_collections.collections_page(engine, viewer, None, 5)
    await graph_collections.collections_page(engine, viewer, [0, "a", cid], 5)
    await graph_collections.collections_count(engine, stranger)
    await graph_collections.track_pages(engine, [(cid, None, 5), (cid, [0, track_ids[0]], 5)])
    await graph_collections.track_counts(engine, [cid])
    await graph_collections.delete_collection(engine, viewer, cid)
    await graph_collections.create_collection(engine, other["id"], {"name": "Theirs"})
    await users.update_profile(engine, other["id"], "y@example.com", "Other")
    await users.delete_user(engine, other["id"], f"user:{other['id']}", 1)
    await users.is_revoked(engine, ["jti", f"user:{other['id']}"])
    admin = await users.create_user(engine, "a@example.com", "admin", "not-a-hash", "admin")
    with pytest.raises(ConflictError):  # the only admin stays; the refusal reads why
        await users.delete_user(engine, admin["id"], f"user:{admin['id']}", 1)


async def _similarity_workload(engine: GraphEngine, track_ids: list[str]) -> None:
    a, b = track_ids
    await similarity.write_edges(engine, [{"source": a, "target": b, "score": 0.9}], "exact")
    await similarity.replace_edges(
        engine, [a, b], [{"source": b, "target": a, "score": 0.8}], "hnsw"
    )
    await similarity.neighbours(engine, track_ids, 5, 0.1)
    await similarity.edge_count(engine, track_ids)


async def _jobs_workload(engine: GraphEngine, track_ids: list[str]) -> None:
    a, b = track_ids
    job = await jobs.create_job(engine, "analyze", {"trackId": a}, None, a)
    await jobs.jobs_by_id(engine, [job["id"]])
    await jobs.jobs_page(engine, None, ["queued"], (1, job["id"]), 5)
    await jobs.start(engine, job["id"])
    await jobs.progress(engine, job["id"], 0.5, "half")
    await jobs.requeue(engine, job["id"], "TRANSIENT_ERROR", "again")
    await jobs.finish(engine, job["id"], result={"ok": True})
    await jobs.counts(engine)
    version = await models.next_version(engine, "scaler")
    await models.save(engine, "scaler", version, "{}", {}, deploy=True)
    await models.deployed(engine, "scaler")
    await models.list_models(engine, "scaler")
    await models.deploy(engine, "scaler", version)
    await media.track_by_hash(engine, "0" * 64)
    await media.files_under(engine, "/music/")
    await media.mark_missing(engine, ["/music/x.wav"])
    await media.update_file(engine, "/music/x.wav", {"file_size": 1})
    with pytest.raises(ValidationError):
        await analysis_store.track_file(engine, a)
    await analysis_store.set_status(engine, [a], "QUEUED")
    vector = [1.0] + [0.0] * 63
    await analysis_store.store(engine, a, {}, vector, vector, 1, 10.0)
    await analysis_store.store(engine, b, {}, vector, vector, 1, 10.0)
    await analysis_store.nearest(engine, a, vector, 5)
    await analysis_store.search(engine, vector, 5)
    await analysis_store.trim_edges(engine, [a], 5)
    await graph_search.search(engine, "so whta", 5, hybrid=True)
    flt = search_queries.SearchFilter(artist_id="art_x", genre_keys=["jazz"])
    await graph_search.search(engine, "so", 5, flt=flt, hybrid=True)
    for field in graph_search.LABELS:
        await graph_search.suggest(engine, "so", field, 5)
    async for _ in analysis_store.pages(engine, store_queries.RAW_EMBEDDINGS_PAGE_QUERY, "raw"):
        pass
    await analysis_store.set_embeddings(engine, [{"id": a, "vector": vector}], 2)
    await analysis_store.embedding_state(engine, a)
    await analysis_store.store_feature_embedding(engine, b, vector, 2)


async def _analysis_workload(engine: GraphEngine, track_ids: list[str]) -> None:
    a, b = track_ids
    await analysis.set_features(engine, a, {"tempo": 120.0, "key": "A", "mode": "minor"})
    await analysis.analysis_by_track(engine, track_ids)
    await analysis.upsert_embedding(engine, a, "audio", [0.0] * 63 + [1.0])
    await analysis.upsert_embedding(engine, a, "clap", [0.5, 0.5])
    await analysis.embeddings_by_track(engine, [(a, "audio"), (b, "clap")])
    await analysis.remove_embedding(engine, a, "clap")
    await analysis.similar_tracks(engine, track_ids, 5, 0.0)
    await analysis.statistics(engine)


async def test_enumeration_covers_what_the_engine_sends(engine: GraphEngine) -> None:
    if not isinstance(engine, FalkorDBEngine):
        pytest.skip("the workload records through the FalkorDB engine")
    recording = RecordingEngine(engine._db, engine.graph_name)
    recording.sent = set()
    before = graph_queries(engine.name)
    await _workload(recording)
    assert graph_queries(engine.name) - before >= len(recording.sent) > 25
    enumerated = set(neo4j_queries())
    search = {
        build(kinds)
        for size in range(1, len(FULLTEXT_FIELDS) + 1)
        for kinds in itertools.combinations(FULLTEXT_FIELDS, size)
        for build in (FALKORDB.fulltext_query, FALKORDB.fulltext_count_query)
    }
    search |= set(_dialect_builders(FALKORDB))
    missing = recording.sent - enumerated - search
    assert not missing, missing
