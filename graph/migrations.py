"""The graph's schema: constraints and indexes, declared once, applied idempotently."""

from typing import Any

from graph import sort_keys
from graph.dialect import FULLTEXT_FIELDS, IndexSpec
from graph.engine import GraphEngine
from graph.queries import catalog as catalog_queries

LABELS = ("User", "Artist", "Album", "Track", "Genre", "Collection", "Job", "Model")

SCHEMA_VERSION = 6

SCHEMA: tuple[IndexSpec, ...] = (
    *(IndexSpec("unique", label, ("id",)) for label in LABELS),
    # Merge keys: one artist per folded name, one album per title within its artist.
    IndexSpec("unique", "Artist", ("name_key",)),
    IndexSpec("unique", "Album", ("key",)),
    IndexSpec("unique", "Genre", ("name_key",)),
    IndexSpec("unique", "User", ("email",)),
    IndexSpec("unique", "User", ("username_key",)),
    IndexSpec("unique", "ApiKey", ("id",)),
    IndexSpec("unique", "TokenFamily", ("id",)),
    IndexSpec("unique", "RevokedToken", ("jti",)),
    IndexSpec("range", "TokenFamily", ("user_id",)),
    IndexSpec("range", "Artist", ("name",)),
    IndexSpec("range", "Album", ("title",)),
    IndexSpec("range", "Album", ("year",)),
    IndexSpec("range", "Track", ("title",)),
    IndexSpec("range", "Track", ("year",)),
    IndexSpec("range", "Track", ("created_at",)),
    IndexSpec("range", "Track", ("duration",)),
    IndexSpec("range", "Collection", ("name_key",)),
    # One track per stored content (uploads) and per library file (scans), whichever
    # process gets there first; tracks without a file have neither property.
    IndexSpec("unique", "Track", ("content_hash",)),
    IndexSpec("unique", "Track", ("file_path",)),
    IndexSpec("range", "Job", ("created_at",)),
    IndexSpec("vector", "Track", ("embedding_audio",), 64),
    *(IndexSpec("fulltext", label, (prop,)) for label, prop in FULLTEXT_FIELDS.items()),
)

# Issue 14: the integer sort keys that page windows scan (graph/pages.py), and their
# values for nodes written before them (`backfill_sort_keys`).
SORT_KEY_INDEXES: tuple[IndexSpec, ...] = tuple(
    IndexSpec("range", label, (prop,)) for label, prop in sorted(catalog_queries.SORT_KEY_PROPS)
)
SCHEMA += SORT_KEY_INDEXES
BACKFILL_BATCH = 2000

_VERSION_QUERY = (
    "MERGE (m:SchemaVersion {id: 'apollonia'}) SET m.version = $version RETURN m.version AS version"
)
_READ_VERSION_QUERY = "MATCH (m:SchemaVersion {id: 'apollonia'}) RETURN m.version AS version"


async def migrate(engine: GraphEngine, wait_seconds: float = 60.0) -> None:
    """Create every constraint and index that is missing, wait until they are online,
    and record the schema version. Safe to run any number of times."""
    for spec in SCHEMA:
        await engine.ensure_index(spec)
    await engine.wait_for_indexes(wait_seconds)
    await backfill_sort_keys(engine)
    await engine.write("migrate", _VERSION_QUERY, {"version": SCHEMA_VERSION})


async def backfill_sort_keys(engine: GraphEngine) -> int:
    """Set the sort keys of catalogue nodes that have none; how many were set."""
    done = 0
    while True:
        rows = await engine.read(
            "tracks_without_sort_keys",
            catalog_queries.TRACKS_WITHOUT_SORT_KEYS_QUERY,
            {"limit": BACKFILL_BATCH},
        )
        if not rows:
            break
        keyed: list[dict[str, Any]] = [
            {"id": r["id"], "keys": sort_keys.track_keys(r["id"], r, int(r["created_at"]))}
            for r in rows
        ]
        await engine.write(
            "set_track_sort_keys", catalog_queries.SET_TRACK_SORT_KEYS_QUERY, {"rows": keyed}
        )
        done += len(rows)
    for label_query, set_query in (
        (
            catalog_queries.ARTISTS_WITHOUT_SORT_KEYS_QUERY,
            catalog_queries.SET_ARTIST_SORT_KEYS_QUERY,
        ),
        (catalog_queries.ALBUMS_WITHOUT_SORT_KEYS_QUERY, catalog_queries.SET_ALBUM_SORT_KEYS_QUERY),
    ):
        while True:
            rows = await engine.read(
                "nodes_without_sort_keys", label_query, {"limit": BACKFILL_BATCH}
            )
            if not rows:
                break
            named = [{"id": r["id"]} | sort_keys.name_keys(r["name"] or "") for r in rows]
            await engine.write("set_sort_keys", set_query, {"rows": named})
            done += len(rows)
    return done


async def schema_version(engine: GraphEngine) -> int | None:
    """The applied schema version, or None before the first migration."""
    rows = await engine.read("schema_version", _READ_VERSION_QUERY)
    return int(rows[0]["version"]) if rows else None
