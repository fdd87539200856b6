"""Swagger UI and ReDoc still work under their Content-Security-Policy (issue 11,
finding 9): Debian's chromium, driven by playwright-core (tests/browser/api_docs.mjs),
loads both pages from this server alone with no CSP violation and not one request to
another host (ReDoc's telemetry to otel.cloud.redocly.com and its logo from cdn.redoc.ly
included); Swagger UI renders every operation, ReDoc the API's title and menu."""

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.support import LiveServer

ROOT = Path(__file__).resolve().parent.parent
BROWSER_DIR = ROOT / "tests" / "browser"


def _install_browser() -> None:
    """Chromium and playwright-core, once (a no-op when both are installed)."""
    subprocess.run(["bash", str(ROOT / ".ci" / "browser.sh")], check=True, timeout=900)


async def test_swagger_ui_and_redoc_render_under_their_policy(live: LiveServer) -> None:
    await asyncio.to_thread(_install_browser)
    driver = await asyncio.create_subprocess_exec(
        "node",
        str(BROWSER_DIR / "api_docs.mjs"),
        cwd=BROWSER_DIR,
        env={**os.environ, "BASE_URL": live.url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        stdout, stderr = await driver.communicate()
    lines = [line for line in stdout.decode().splitlines() if line.startswith("RESULT ")]
    assert lines, f"the driver printed no result: {stderr.decode()}"
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    assert "error" not in result, "\n".join(result["consoleErrors"])
    assert result["steps"] == ["swagger", "redoc"]
    assert result["swaggerOperations"] > 50
    assert result["redocTitle"].startswith("Apollonia REST API"), result["redocTitle"]
    assert result["redocOperations"] >= 12  # a menu entry per tag, at least
    assert result["offsite"] == [], "a page loaded something from elsewhere"
    refused = [e for e in result["consoleErrors"] if "Content Security Policy" in e]
    assert refused == []
