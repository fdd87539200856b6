"""Cypher about the schema and the engine itself: the schema version, index status,
liveness and the test reset. The DDL that differs per engine is built in dialect.py."""

# Keeps the newest SchemaVersion node when replicas that started together (before its
# uniqueness constraint) each created one.
DEDUPLICATE_SCHEMA_VERSION_QUERY = (
    "MATCH (m:SchemaVersion {id: 'apollonia'}) "
    "WITH m ORDER BY m.version DESC SKIP 1 DETACH DELETE m"
)
SET_SCHEMA_VERSION_QUERY = (
    "MERGE (m:SchemaVersion {id: 'apollonia'}) SET m.version = $version RETURN m.version AS version"
)
# max(): a database migrated before the uniqueness constraint may hold several nodes.
READ_SCHEMA_VERSION_QUERY = (
    "MATCH (m:SchemaVersion {id: 'apollonia'}) RETURN max(m.version) AS version"
)

# FalkorDB builds indexes and constraints in the background.
FALKORDB_INDEX_STATUS_QUERY = "CALL db.indexes() YIELD status RETURN status"
FALKORDB_CONSTRAINT_STATUS_QUERY = "CALL db.constraints() YIELD status RETURN status"
PING_QUERY = "RETURN 1"

NEO4J_AWAIT_INDEXES_QUERY = "CALL db.awaitIndexes($seconds)"
DELETE_ALL_QUERY = "MATCH (n) DETACH DELETE n"
