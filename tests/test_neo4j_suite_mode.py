"""With NEO4J_URI set, the suite's API and worker settings point at Neo4j and Redis only:
nothing would start the embedded FalkorDB server (checked in a fresh interpreter, since
the mode is chosen when tests/support/engines.py is imported)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, pathlib
from tests import support
services = support.ServicesWithoutFalkorDB(pathlib.Path("/tmp"))
s = support.make_settings(services, graph_name="t_probe")
print(json.dumps({
    "engines": support.ENGINES,
    "graph_url": s.resolved_graph_url,
    "database": s.graph_database,
    "redis_url": s.resolved_redis_url,
    "embedded": s.embedded_data_dir,
}))
"""


def test_neo4j_mode_gives_api_and_workers_neo4j_and_no_embedded_server() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "NEO4J_URI": "bolt://127.0.0.1:7687",
        "NEO4J_DATABASE": "catalogue",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "APOLLONIA_WORKLOAD_LINT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "engines": ["neo4j"],
        "graph_url": "bolt://127.0.0.1:7687",
        "database": "catalogue",
        "redis_url": "redis://127.0.0.1:6379/15",
        "embedded": None,
    }
