"""`/explore` in a real browser: Debian's chromium driven by playwright-core
(tests/browser/explore.mjs) against a live server: load, sign in, search, open a track,
click a node, a live update, a sonic path, and a screenshot in tests/artifacts/.

The first run installs what it needs through .ci/browser.sh (chromium from Debian,
playwright-core from npm), which may take a couple of minutes; later runs reuse both.
"""

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph import analysis, catalog_writes, similarity
from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import LiveServer

ROOT = Path(__file__).resolve().parent.parent
BROWSER_DIR = ROOT / "tests" / "browser"
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOT = ARTIFACTS / "explore.png"

REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { accessToken } }
"""
PASSWORD = "correct horse battery staple"

# Two families of similar tracks, linked by their first tracks: (title, key, mode, energy).
FAMILY_A = [
    ("Midnight Groove", "A", "minor", 0.55),
    ("Nocturne", "E", "minor", 0.3),
    ("Blue Hour", "D", "minor", 0.4),
    ("Late Tram", "A", "minor", 0.6),
    ("Neon Rain", "B", "minor", 0.7),
]
FAMILY_B = [
    ("Sunrise Drive", "C", "major", 0.8),
    ("Morning Run", "G", "major", 0.9),
    ("Daybreak", "F", "major", 0.65),
    ("Open Road", "D", "major", 0.75),
    ("Bright Side", "A", "major", 0.95),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Sign-in first: where anonymous reads are allowed the page opens without one
    # (tests/test_explore_demo.py).
    return dataclasses.replace(settings, allow_anonymous_read=False)


def _install_browser() -> None:
    """Chromium and playwright-core, once (a no-op when both are installed)."""
    subprocess.run(["bash", str(ROOT / ".ci" / "browser.sh")], check=True, timeout=900)


def _vector(i: int) -> list[float]:
    values = [0.0] * 64
    values[i % 64] = 1.0
    values[(i + 1) % 64] = 0.5
    return values


async def _family(engine: GraphEngine, tracks: list[tuple[str, str, str, float]]) -> list[str]:
    rows = await catalog_writes.create_tracks(
        engine, [{"title": t, "artist_names": ["The Explorers"]} for t, *_ in tracks]
    )
    ids = [r["id"] for r in rows]
    for n, (track_id, (_, key, mode, energy)) in enumerate(zip(ids, tracks, strict=True)):
        features = {"tempo": 120.0 + n, "key": key, "mode": mode, "energy": energy}
        await analysis.set_features(engine, track_id, features)
        await analysis.upsert_embedding(engine, track_id, "audio", _vector(n))
    edges = [
        {"source": a, "target": b, "score": 0.95 - 0.03 * abs(i - j)}
        for (i, a), (j, b) in itertools.permutations(enumerate(ids), 2)
    ]
    await similarity.write_edges(engine, edges, "exact")
    return ids


async def _catalogue(engine: GraphEngine) -> dict[str, str]:
    a = await _family(engine, FAMILY_A)
    b = await _family(engine, FAMILY_B)
    link = [{"source": a[0], "target": b[0], "score": 0.5}]
    await similarity.write_edges(
        engine, [*link, {**link[0], "source": b[0], "target": a[0]}], "exact"
    )
    titles = [t for t, *_ in FAMILY_A + FAMILY_B]
    return dict(zip(titles, a + b, strict=True))


async def _live_update(engine: GraphEngine, live: LiveServer, track_id: str) -> None:
    """A new track similar to `track_id`, announced as the analysis worker does, again
    until the page has seen it (its subscription may start a moment after the click)."""
    [row] = await catalog_writes.create_tracks(engine, [{"title": "Afterglow"}])
    await similarity.write_edges(
        engine, [{"source": track_id, "target": row["id"], "score": 0.9}], "exact"
    )
    events = live.server.config.app.state.components["events"]
    while True:
        data = {"track_id": track_id, "neighbours": 1}
        await events.publish(f"similarity.{track_id}", "similarity.updated", data)
        await asyncio.sleep(0.5)


async def test_explore_page_in_chromium(engine: GraphEngine, live: LiveServer) -> None:
    await asyncio.to_thread(_install_browser)
    ids = await _catalogue(engine)
    async with httpx.AsyncClient(base_url=live.url) as http:
        page = await http.get("/explore")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        vendored = await http.get("/static/vendor/cytoscape/cytoscape.min.js")
        assert vendored.status_code == 200
        variables = {
            "input": {"email": "dj@example.com", "username": "deejay", "password": PASSWORD}
        }
        registered = await http.post("/graphql", json={"query": REGISTER, "variables": variables})
        assert "errors" not in registered.json(), registered.json()

    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BASE_URL": live.url,
        "LOGIN": "deejay",
        "PASSWORD": PASSWORD,
        "QUERY": "midnight",
        "PICK": "Midnight Groove",
        "SCREENSHOT": str(SCREENSHOT),
    }
    driver = await asyncio.create_subprocess_exec(
        "node",
        str(BROWSER_DIR / "explore.mjs"),
        cwd=BROWSER_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert driver.stdout is not None
    publisher: asyncio.Task[None] | None = None
    result: dict[str, Any] = {}
    try:
        async with asyncio.timeout(120):
            async for raw in driver.stdout:
                line = raw.decode().strip()
                if line.startswith("AWAIT_UPDATE "):
                    target = line.split(" ", 1)[1]
                    publisher = asyncio.create_task(_live_update(engine, live, target))
                elif line.startswith("RESULT "):
                    result = json.loads(line[len("RESULT ") :])
            await driver.wait()
    finally:
        if publisher is not None:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
        if driver.returncode is None:
            driver.kill()
            await driver.wait()
    stderr = (await driver.stderr.read()).decode() if driver.stderr else ""
    assert result, f"the driver printed no result: {stderr}"
    assert "error" not in result, result["error"]
    assert result["steps"] == ["load", "login", "search", "click", "live", "path", "screenshot"]

    assert result["explorerHiddenBeforeLogin"]
    assert any("Midnight Groove" in t for t in result["resultTitles"])
    # Depth 2 around Midnight Groove: both families (the second through the link).
    assert result["first"] == {"centre": ids["Midnight Groove"], "nodes": 10, "edges": 21}
    assert len(set(result["colours"])) > 3, "nodes are coloured by key"
    assert len(set(result["sizes"])) > 3, "nodes are sized by energy"
    assert result["second"]["centre"] in {ids[t] for t, *_ in FAMILY_B}
    assert result["live"]["updates"] >= 1
    assert result["live"]["nodes"] == result["second"]["nodes"] + 1
    path = result["path"]
    assert path["tracks"][0] == path["from"] and path["tracks"][-1] == path["to"]
    assert path["listed"] == len(path["tracks"]) >= 2
    assert SCREENSHOT.stat().st_size > 10_000

    assert result["offsite"] == [], "the page loaded something from elsewhere"
    assert result["consoleErrors"] == []
