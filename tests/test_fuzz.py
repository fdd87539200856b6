"""A bounded fuzz run in CI (issue 11): schemathesis over the REST API's OpenAPI document
and over the GraphQL schema, with control characters put into about half of the
generated strings (tests/fuzz_hooks.py). No answer may be a 5xx, and the database
process must be the same one at the end: nothing a client sends may bring it down.

Signed in as an admin so that writes run too. Left out: what would change the run's own
conditions (maintenance mode; signing out or deleting the run's credential); their own
tests cover them. Budget: about 60 s on the development machine.
"""

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.embedded import PIDFILE_NAME, EmbeddedServer, process_alive
from graph.engine import GraphEngine
from tests.support import LiveServer, make_settings, user_token

ST = Path(sys.executable).with_name("st")
HOOKS = Path(__file__).with_name("fuzz_hooks.py")
REST_EXAMPLES = 2
GRAPHQL_EXAMPLES = 2
REST_EXCLUDED = ("SetMaintenance", "Logout", "DeleteAccount")
# The writes under a uniqueness constraint on a name or e-mail, where U+0001 killed
# FalkorDB 4.22: fuzzed harder.
GRAPHQL_KEYED_WRITES = (
    "Mutation.register",
    "Mutation.createArtist",
    "Mutation.updateArtist",
    "Mutation.createAlbum",
    "Mutation.createTrack",
    "Mutation.updateTrack",
    "Mutation.importTracks",
)
KEYED_EXAMPLES = 20
GRAPHQL_EXCLUDED = (
    "Mutation.maintenance",
    "Mutation.logout",
    "Mutation.deleteAccount",
    "Mutation.revokeApiKey",
    "Mutation.changePassword",
    "Mutation.updateProfile",
)


@pytest.fixture
async def fuzzed(
    engine: GraphEngine, falkordb_server: EmbeddedServer, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, str]]:
    settings = make_settings(
        falkordb_server,
        graph_name=getattr(engine, "graph_name", "apollonia"),
        rate_limit_query="100000/minute",
        rate_limit_mutation="100000/minute",
        rate_limit_login="100000/minute",
        media_dir=str(tmp_path / "media"),
        scan_roots=(str(tmp_path),),
    )
    server = LiveServer(engine, settings)
    await server.start()
    _, token = await user_token(engine, settings, "admin")
    yield server, token
    await server.stop()


async def _st(arguments: list[str], cwd: Path, workers: int = 2) -> str:
    process = await asyncio.create_subprocess_exec(
        str(ST),
        "run",
        *arguments,
        "--checks",
        "no_server_error",  # tests/fuzz_hooks.py
        "--seed",
        "11",
        "--no-shrink",
        "--request-timeout",
        "20",
        "--workers",
        str(workers),
        "--generation-database",
        "none",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=cwd,
        env={
            **os.environ,
            "NO_COLOR": "1",
            "SCHEMATHESIS_TELEMETRY": "false",
            "SCHEMATHESIS_HOOKS": str(HOOKS),
        },
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
    return text


def _database_pid(server: EmbeddedServer) -> int:
    return int((server.data_dir / PIDFILE_NAME).read_text().strip())


@pytest.mark.skipif(not ST.exists(), reason="schemathesis is not installed (dev extra)")
async def test_fuzzing_rest_and_graphql_never_gives_a_5xx_nor_kills_the_database(
    fuzzed: tuple[LiveServer, str], falkordb_server: EmbeddedServer, tmp_path: Path
) -> None:
    server, token = fuzzed
    pid = _database_pid(falkordb_server)
    auth = ["--header", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    rest = await _st(
        [
            f"{server.url}/api/openapi.json",
            "--url",
            f"{server.url}/api/v1",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            str(REST_EXAMPLES),
            *auth,
            *(arg for op in REST_EXCLUDED for arg in ("--exclude-operation-id", op)),
        ],
        tmp_path,
    )
    graphql = await _st(
        [
            f"{server.url}/graphql",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            str(GRAPHQL_EXAMPLES),
            *auth,
            *(arg for name in GRAPHQL_EXCLUDED for arg in ("--exclude-name", name)),
        ],
        tmp_path,
    )
    keyed = await _st(
        [
            f"{server.url}/graphql",
            "--phases",
            "fuzzing",
            "--max-examples",
            str(KEYED_EXAMPLES),
            *auth,
            *(arg for name in GRAPHQL_KEYED_WRITES for arg in ("--include-name", name)),
        ],
        tmp_path,
        workers=1,  # the hooks' choices then follow the seed: the same cases every run
    )
    print(f"fuzzed in {time.monotonic() - started:.1f} s")
    for output in (rest, graphql, keyed):
        print(output[output.find("Test cases:") :][:200])
    assert process_alive(pid) and _database_pid(falkordb_server) == pid
