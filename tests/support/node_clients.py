"""Third-party JavaScript clients (tests/apollo: Apollo Client, graphql-ws,
subscriptions-transport-ws) run by Node against a live server."""

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

APOLLO_DIR = Path(__file__).parent.parent / "apollo"
PACKAGES = ("@apollo/client", "graphql-ws", "subscriptions-transport-ws", "ws")


def _install() -> None:
    modules = APOLLO_DIR / "node_modules"
    if all((modules / name).exists() for name in PACKAGES):
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: cannot install tests/apollo's packages")
    command = [npm, "ci", "--no-audit", "--no-fund", "--engine-strict=false"]
    subprocess.run(command, cwd=APOLLO_DIR, check=True, timeout=600, capture_output=True)


async def run_node(script: str, *args: str) -> Any:
    """Run one of tests/apollo's scripts (installing its packages first); its JSON output."""
    await asyncio.to_thread(_install)
    node = shutil.which("node") or "node"
    done = await asyncio.create_subprocess_exec(
        node,
        str(APOLLO_DIR / script),
        *args,
        cwd=APOLLO_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(done.communicate(), 120)
    assert done.returncode == 0, err.decode()
    return json.loads(out)
