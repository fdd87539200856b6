"""The GraphiQL explorer at GET /graphql comes from this app, not from a CDN: every asset
the page names is a local path the live server serves, and in Debian's chromium
(tests/browser/graphiql.mjs) the explorer renders, loads the schema, runs a query and
starts a subscription over graphql-transport-ws, without a request leaving 127.0.0.1.
"""

import asyncio
import base64
import hashlib
import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from server.explorer import LocalGraphiQL
from tests.support import LiveServer

ROOT = Path(__file__).resolve().parent.parent
BROWSER_DIR = ROOT / "tests" / "browser"
SCREENSHOT = ROOT / "tests" / "artifacts" / "graphiql.png"
VENDOR = ROOT / "server" / "static" / "vendor" / "graphiql"


class Assets(HTMLParser):
    """The URLs of a page's <script src> and <link href>, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            if named.get("src"):
                self.urls.append(str(named["src"]))
            elif named.get("type") is None:
                self._in_script = True
                self.inline.append("")
        elif tag == "link" and named.get("href"):
            self.urls.append(str(named["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline[-1] += data


def _assets(page: str) -> Assets:
    parser = Assets()
    parser.feed(page)
    return parser


async def test_explorer_assets_are_local(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assets = _assets(page.text)
        assert any(url.endswith("/graphiql.min.js") for url in assets.urls)
        assert any(url.endswith("/graphiql.min.css") for url in assets.urls)
        for url in assets.urls:
            if url.startswith("data:"):  # the empty favicon: nothing to fetch
                continue
            assert url.startswith("/static/vendor/graphiql/"), url
            served = await http.get(url)
            assert served.status_code == 200, url
            assert len(served.content) > 1000, url
    elsewhere = set(re.findall(r"(?:https?|wss?)://[^\s\"'<>]+", page.text))
    assert {url for url in elsewhere if not url.startswith(live.url)} == set()
    assert "unpkg" not in page.text and "esm.sh" not in page.text


def test_policy_allows_only_the_boot_script() -> None:
    page = LocalGraphiQL(title="Apollonia").render("/static/vendor/graphiql")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    [boot] = _assets(page).inline
    digest = base64.b64encode(hashlib.sha256(boot.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in csp.group(1)


def test_options_cannot_break_out_of_the_page() -> None:
    explorer = LocalGraphiQL(
        title="<b>A&B</b>",
        default_query="{ a } </script><script>alert(1)</script>",
        subscription_url="wss://example.test/graphql",
        explorer_plugin=True,
    )
    page = explorer.html(type("Request", (), {"scope": {"root_path": "/api"}})())
    assert "<title>&lt;b&gt;A&amp;B&lt;/b&gt;</title>" in page
    assert "</script><script>alert" not in page
    assert "/api/static/vendor/graphiql/plugin-explorer.umd.js" in page
    options = re.search(
        r'<script id="graphiql-options" type="application/json">(.*?)</script>', page
    )
    assert options is not None
    assert json.loads(options.group(1)) == {
        "defaultQuery": "{ a } </script><script>alert(1)</script>",
        "subscriptionUrl": "wss://example.test/graphql",
        "explorerPlugin": True,
    }


def test_vendored_files_carry_licences_and_versions() -> None:
    for name in ("LICENSE", "LICENSE.react", "LICENSE.react-dom", "LICENSE.graphiql-explorer"):
        assert "MIT License" in (VENDOR / name).read_text()
    versions = dict(line.split(" ", 1) for line in (VENDOR / "VERSION").read_text().splitlines())
    assert versions["graphiql"].startswith("4.") and versions["react"].startswith("18.")


def _install_browser() -> None:
    subprocess.run(["bash", str(ROOT / ".ci" / "browser.sh")], check=True, timeout=900)


async def test_explorer_in_chromium(live: LiveServer) -> None:
    await asyncio.to_thread(_install_browser)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BASE_URL": live.url,
        "QUERY": "{ tracks { totalCount } }",
        "EXPECT": '"totalCount": 0',
        "SUBSCRIPTION": "subscription { mediaAdded { timestamp } }",
        "SCREENSHOT": str(SCREENSHOT),
    }
    driver = await asyncio.create_subprocess_exec(
        "node",
        str(BROWSER_DIR / "graphiql.mjs"),
        cwd=BROWSER_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(90):
        stdout, stderr = await driver.communicate()
    lines = [line for line in stdout.decode().splitlines() if line.startswith("RESULT ")]
    assert lines, f"the driver printed no result: {stderr.decode()}"
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    assert "error" not in result, result["error"]
    assert result["steps"] == ["load", "query", "screenshot", "subscription"]
    assert result["title"] == "Apollonia"
    assert result["introspectionStatus"] == 200
    assert result["sockets"] == [live.url.replace("http://", "ws://") + "/graphql"]
    assert result["frameTypes"][:3] == ["connection_init", "connection_ack", "subscribe"]
    assert "error" not in result["frameTypes"]
    assert result["offsite"] == [], "the page loaded something from elsewhere"
    assert result["failed"] == []
    assert result["consoleErrors"] == []
