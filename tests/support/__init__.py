"""Helpers for tests: conftest.py holds only hooks and fixtures, built from these."""

from tests.support.engines import (
    ENGINES,
    NEO4J_DATABASE,
    NEO4J_URI,
    ServicesWithoutFalkorDB,
    neo4j_settings,
)
from tests.support.graphql import GraphQLClient, graph_queries, record_reads, user_token
from tests.support.live import LiveServer, free_port
from tests.support.settings import TEST_JWT_SECRET, TEST_SERVER_KEY, make_settings

__all__ = [
    "ENGINES",
    "NEO4J_DATABASE",
    "NEO4J_URI",
    "TEST_JWT_SECRET",
    "TEST_SERVER_KEY",
    "GraphQLClient",
    "LiveServer",
    "ServicesWithoutFalkorDB",
    "free_port",
    "graph_queries",
    "make_settings",
    "neo4j_settings",
    "record_reads",
    "user_token",
]
