"""The API process stays lean: serving requests loads none of the audio/ML stack.

A subprocess, since this test process has long imported librosa for other tests. It
imports the ASGI app, runs its start-up against the session's embedded server, serves a
query and a mutation, and reports what it loaded. The import-linter contracts in
pyproject.toml check the same statically; this checks what really happens at run time.
"""

import json
import subprocess
import sys
import textwrap

from graph.embedded import EmbeddedServer
from tests.support import TEST_JWT_SECRET

PAGE = "{ tracks(first: 5) { totalCount } }"
LOGIN = 'mutation { login(input: {login: "nobody", password: "wrong"}) { accessToken } }'
HEAVY = ("librosa", "numba", "scipy", "sklearn", "soundfile", "hnswlib", "mutagen")
# What `limits` would load for Redis clients the rate limiter does not use (coredis pulls
# beartype, pympler and numpy): ~500 modules and ~28 MiB resident (server/ratelimit.py).
UNUSED = ("coredis", "beartype", "numpy", "valkey")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from starlette.testclient import TestClient
    import server.app
    from server.settings import Settings

    imported = sorted(m for m in {heavy!r} if m in sys.modules)
    unused = {unused!r}
    settings = Settings(
        env="development", redis_url={redis_url!r}, jwt_secret={secret!r},
        data_dir={data_dir!r}, graph_name="lean_api",
    )
    with TestClient(server.app.create_app(settings)) as client:
        page = client.post("/graphql", json={{"query": {page!r}}})
        write = client.post("/graphql", json={{"query": {write!r}}})
    served = sorted(m for m in {heavy!r} if m in sys.modules)
    unused = sorted(m for m in unused if m in sys.modules)
    print(json.dumps({{"imported": imported, "served": served, "unused": unused,
                      "page": page.status_code, "write": write.json()}}))
    """
)


def test_serving_requests_loads_no_audio_or_ml_module(falkordb_server: EmbeddedServer) -> None:
    script = SCRIPT.format(
        heavy=HEAVY,
        unused=UNUSED,
        page=PAGE,
        write=LOGIN,
        redis_url=falkordb_server.redis_url,
        secret=TEST_JWT_SECRET,
        data_dir=str(falkordb_server.data_dir),
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["page"] == 200
    # The mutation ran (and was refused for what it is, not for a missing module).
    assert report["write"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert report["imported"] == [] and report["served"] == []
    assert report["unused"] == []


def test_the_api_submits_exactly_the_job_kinds_workers_handle() -> None:
    import workers.worker  # noqa: F401  (registers every handler)
    from taskqueue import JOB_KINDS
    from workers.jobs import HANDLERS

    assert set(HANDLERS) == JOB_KINDS
