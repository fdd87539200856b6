"""The graph's schema: versioned, ordered migrations of constraints and indexes.

Each `Migration` lists what its version drops and creates, in that order, with the data
statements that must run between (deduplication before a uniqueness constraint). A new
schema object is a new `Migration` at the end of `MIGRATIONS`; a released one is never
edited, because databases record the version they reached and never replay it.

Why steps and not one declarative list: Neo4j 5 refuses `CREATE CONSTRAINT … IF NOT
EXISTS` while a plain index covers the same label and property ("There already exists an
index …"), so turning an index into a constraint needs the index dropped first, once, on
the databases that have it. FalkorDB tolerates it; the steps run on both engines.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graph import sort_keys
from graph.engine import GraphEngine
from graph.queries import catalog as catalog_queries
from graph.queries import catalog_writes as catalog_writes_queries
from graph.queries import collections as collection_queries
from graph.queries import schema as schema_queries
from graph.queries.dialect import FULLTEXT_FIELDS, IndexSpec

LABELS = ("User", "Artist", "Album", "Track", "Genre", "Collection", "Job", "Model")
# Issue 14: the integer sort keys that page windows scan (graph/pages.py).
SORT_KEY_INDEXES: tuple[IndexSpec, ...] = tuple(
    IndexSpec("range", label, (prop,)) for label, prop in sorted(catalog_queries.SORT_KEY_PROPS)
)
BACKFILL_BATCH = 2000


async def backfill_sort_keys(engine: GraphEngine) -> int:
    """Set the sort keys of catalogue nodes (and collections) that have none; how many
    were set."""
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
        (
            collection_queries.COLLECTIONS_WITHOUT_SORT_KEYS_QUERY,
            collection_queries.SET_COLLECTION_SORT_KEYS_QUERY,
        ),
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


@dataclass(frozen=True)
class Migration:
    """One schema version: drop, then run `statements` (writes), then create."""

    version: int
    description: str
    create: tuple[IndexSpec, ...] = ()
    drop: tuple[IndexSpec, ...] = ()
    statements: tuple[str, ...] = ()
    # Data computed in Python for what exists already (idempotent; after `create`).
    backfill: Callable[[GraphEngine], Awaitable[Any]] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "catalogue: ids, merge keys, sort keys, full text",
        create=(
            *(IndexSpec("unique", label, ("id",)) for label in LABELS),
            # Merge keys: one artist per folded name, one album per title within its artist.
            IndexSpec("unique", "Artist", ("name_key",)),
            IndexSpec("unique", "Album", ("key",)),
            IndexSpec("unique", "Genre", ("name_key",)),
            IndexSpec("range", "Artist", ("name",)),
            IndexSpec("range", "Album", ("title",)),
            IndexSpec("range", "Album", ("year",)),
            IndexSpec("range", "Track", ("title",)),
            IndexSpec("range", "Track", ("year",)),
            IndexSpec("range", "Track", ("created_at",)),
            IndexSpec("range", "Track", ("duration",)),
            *(IndexSpec("fulltext", label, (prop,)) for label, prop in FULLTEXT_FIELDS.items()),
        ),
    ),
    Migration(
        2,
        "users, API keys and tokens",
        create=(
            IndexSpec("unique", "User", ("email",)),
            IndexSpec("unique", "User", ("username_key",)),
            IndexSpec("unique", "ApiKey", ("id",)),
            IndexSpec("unique", "TokenFamily", ("id",)),
            IndexSpec("unique", "RevokedToken", ("jti",)),
            IndexSpec("range", "TokenFamily", ("user_id",)),
        ),
    ),
    Migration(3, "collections by name", create=(IndexSpec("range", "Collection", ("name_key",)),)),
    Migration(
        4,
        "jobs, library files and audio vectors",
        create=(
            IndexSpec("range", "Track", ("content_hash",)),
            IndexSpec("range", "Track", ("file_path",)),
            IndexSpec("range", "Job", ("created_at",)),
            IndexSpec("vector", "Track", ("embedding_audio",), 64),
        ),
    ),
    Migration(
        5,
        # One track per stored content (uploads) and per library file (scans), whichever
        # process gets there first; tracks without a file have neither property.
        "one track per content hash and per library file",
        drop=(
            IndexSpec("range", "Track", ("content_hash",)),
            IndexSpec("range", "Track", ("file_path",)),
        ),
        create=(
            IndexSpec("unique", "Track", ("content_hash",)),
            IndexSpec("unique", "Track", ("file_path",)),
        ),
    ),
    Migration(
        6,
        "one schema-version node",
        statements=(schema_queries.DEDUPLICATE_SCHEMA_VERSION_QUERY,),
        create=(IndexSpec("unique", "SchemaVersion", ("id",)),),
    ),
    Migration(
        7,
        "integer sort keys for pages whose cost does not grow with the catalogue",
        create=SORT_KEY_INDEXES,
        backfill=backfill_sort_keys,
    ),
    Migration(
        8,
        # Password-reset and e-mail tokens are looked up by the hash of the token a link
        # carries (graph/queries/users.py): without an index, a scan of every token.
        "account tokens found by their hash",
        create=(IndexSpec("range", "AccountToken", ("hash",)),),
    ),
    Migration(
        9,
        # Genre-filtered pages test the track's genre keys as a property
        # (graph/queries/catalog.py tracks_window); tracks written before keep none.
        "each track's genre keys on the track",
        statements=(catalog_writes_queries.BACKFILL_GENRE_KEYS_QUERY,),
    ),
    Migration(
        10,
        # FalkorDB's range index holds each element of a list property, and answers
        # `$key IN t.genre_keys` in the same scan as a sort key's window: a genre's page
        # reads only that genre's tracks (graph/queries/catalog.py tracks_window). Neo4j
        # indexes a list as one value and tests the membership on the window's nodes.
        # Likewise for the format (year and duration have their index since 1). A page
        # of a user's history is a window of PLAYED.at (graph/listening.py), and a page
        # of a collection's tracks a window of positions of that collection's edges
        # (CONTAINS carries its collection's id; graph/collection_store.py).
        "filtered windows read only the tracks that pass; history and collection pages by windows",
        statements=(
            collection_queries.BACKFILL_MEMBERSHIP_QUERY,
            collection_queries.BACKFILL_SPAN_QUERY,
        ),
        create=(
            IndexSpec("range", "Track", ("genre_keys",)),
            IndexSpec("range", "Track", ("format",)),
            IndexSpec("range", "PLAYED", ("at",), relationship=True),
            IndexSpec("range", "CONTAINS", ("cid", "position"), relationship=True),
        ),
    ),
    Migration(
        11,
        # The list of collections is paged by windows of the name's integer key, as
        # artists are (graph/collection_store.py collections_page).
        "collections listed by windows of their name's sort key",
        create=(IndexSpec("range", "Collection", ("sk_name",)),),
        backfill=backfill_sort_keys,
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version


def schema_at(version: int) -> tuple[IndexSpec, ...]:
    """The schema objects a database at `version` has, in creation order."""
    specs: list[IndexSpec] = []
    for migration in MIGRATIONS:
        if migration.version > version:
            break
        specs = [s for s in specs if s not in migration.drop]
        specs.extend(s for s in migration.create if s not in specs)
    return tuple(specs)


SCHEMA: tuple[IndexSpec, ...] = schema_at(SCHEMA_VERSION)


def pending(current: int | None, target: int = SCHEMA_VERSION) -> list[Migration]:
    """The migrations a database at `current` (None: never migrated) runs to reach
    `target`. A new database gets the target schema in one step, not the history."""
    if current is None:
        final = MIGRATIONS[[m.version for m in MIGRATIONS].index(target)]
        return [Migration(final.version, "the whole schema", create=schema_at(target))]
    return [m for m in MIGRATIONS if current < m.version <= target]


async def migrate(
    engine: GraphEngine, wait_seconds: float = 60.0, target: int = SCHEMA_VERSION
) -> None:
    """Bring the schema to `target`: every pending migration in order, each recorded once
    its indexes are online. Safe to run any number of times and from several processes
    (each step is idempotent). A database newer than `target` is left alone."""
    steps = pending(await schema_version(engine), target)
    for migration in steps:
        await _apply(engine, migration.drop, migration.statements, migration.create)
        await engine.wait_for_indexes(wait_seconds)
        if migration.backfill is not None:
            await migration.backfill(engine)
        await engine.write(
            "migrate", schema_queries.SET_SCHEMA_VERSION_QUERY, {"version": migration.version}
        )
    if not steps:  # indexes rebuild at every start (FalkorDB's vector index): wait anyway
        await engine.wait_for_indexes(wait_seconds)


async def _apply(
    engine: GraphEngine,
    drop: Iterable[IndexSpec],
    statements: Iterable[str],
    create: Iterable[IndexSpec],
) -> None:
    for spec in drop:
        await engine.drop_index(spec)
    for statement in statements:
        await engine.write("migrate", statement)
    for spec in create:
        await engine.ensure_index(spec)


async def schema_version(engine: GraphEngine) -> int | None:
    """The applied schema version, or None before the first migration."""
    rows = await engine.read("schema_version", schema_queries.READ_SCHEMA_VERSION_QUERY)
    return int(rows[0]["version"]) if rows and rows[0]["version"] is not None else None
