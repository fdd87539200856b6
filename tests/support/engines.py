"""Which graph engine the suite runs on: the embedded FalkorDB, or Neo4j when NEO4J_URI is
set (with Redis at REDIS_URL and no FalkorDB process started)."""

import os
from pathlib import Path
from typing import Any

import pytest

NEO4J_URI = os.environ.get("NEO4J_URI", "")
ENGINES = ["neo4j"] if NEO4J_URI else ["falkordb"]
NEO4J_DATABASE = os.environ.get("NEO4J_DATABASE", "neo4j")


class ServicesWithoutFalkorDB:
    """What tests use of the embedded server when Neo4j serves the graph: Redis at
    REDIS_URL and a data folder. A test that needs the FalkorDB server itself skips."""

    def __init__(self, data_dir: Path) -> None:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            raise RuntimeError("NEO4J_URI needs REDIS_URL (events, jobs, rate limits)")
        self.redis_url = redis_url
        self.data_dir = data_dir

    @property
    def socket_path(self) -> Path:
        pytest.skip("needs the embedded FalkorDB server (the suite runs on Neo4j)")

    def stop(self, timeout: float = 10.0) -> None:
        return None


def neo4j_settings() -> dict[str, Any]:
    """The settings that put an app or a worker on the Neo4j of NEO4J_URI."""
    if not NEO4J_URI:
        return {}
    return {
        "graph_url": NEO4J_URI,
        "graph_database": NEO4J_DATABASE,
        "graph_username": os.environ.get("NEO4J_USER", "neo4j"),
        "graph_password": os.environ.get("NEO4J_PASSWORD"),
    }
