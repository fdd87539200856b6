"""A bounded schemathesis run over /api/openapi.json against a live server: no 5xx, no
status an operation does not document, no response that breaks its schema, no route
that works without the auth it declares.

Anonymous reading is off here, so every route but the public ones declares auth. The
routes that would change the run's own conditions are left out (maintenance mode, and
signing out the run's credential); tests of their own cover them. PATCH /users/me stays
in: its user has no password the run could name, so only its username and email change."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from tests.support import LiveServer, make_settings, user_token

EXAMPLES = 4
EXCLUDED = ("SetMaintenance", "Logout")
ST = Path(sys.executable).with_name("st")


@pytest.fixture
async def strict_live(
    engine: GraphEngine, falkordb_server: EmbeddedServer, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, str]]:
    settings = make_settings(
        falkordb_server,
        allow_anonymous_read=False,
        rate_limit_query="100000/minute",
        rate_limit_mutation="100000/minute",
        media_dir=str(tmp_path / "media"),
    )
    server = LiveServer(engine, settings)
    await server.start()
    _, token = await user_token(engine, settings, "admin")
    yield server, token
    await server.stop()


@pytest.mark.skipif(not ST.exists(), reason="schemathesis is not installed (dev extra)")
async def test_schemathesis(strict_live: tuple[LiveServer, str], tmp_path: Path) -> None:
    server, token = strict_live
    command = [
        str(ST),
        "run",
        f"{server.url}/api/openapi.json",
        "--url",
        f"{server.url}/api/v1",
        "--checks",
        "not_a_server_error,status_code_conformance,response_schema_conformance,"
        "content_type_conformance,ignored_auth",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "7",
        "--no-shrink",
        "--request-timeout",
        "20",
        "--header",
        f"Authorization: Bearer {token}",
        *(arg for op in EXCLUDED for arg in ("--exclude-operation-id", op)),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
