"""The GraphiQL explorer at GET /graphql, served by this app: no CDN at run time.

Ariadne's `ExplorerGraphiQL` loads GraphiQL 5, React and their modules from esm.sh.
`LocalGraphiQL` renders the same explorer (queries to the page's own URL, subscriptions
over graphql-transport-ws at the same path, the headers editor, optionally the explorer
plugin) from the browser builds that web/vendor-graphiql.sh copies into
server/static/vendor/graphiql/, which the /static mount (server/explore.py) serves.

The page carries its own Content-Security-Policy (a <meta>: Ariadne answers with the
HTML alone, no headers): scripts from this origin only, plus the one inline script that
starts GraphiQL, allowed by its hash. Inline styles are allowed because GraphiQL's
libraries add <style> elements of their own.
"""

import base64
import hashlib
import html
import json
from typing import Any

from ariadne.explorer import Explorer
from ariadne.explorer.graphiql import DEFAULT_QUERY

VENDOR_PATH = "/static/vendor/graphiql"
STYLESHEETS = ("graphiql.min.css",)
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
PLUGIN_STYLESHEETS = ("plugin-explorer.css",)
PLUGIN_SCRIPTS = ("plugin-explorer.umd.js",)

# Reads its options from the JSON block above it, so that its text, and the hash the
# policy names, never change.
BOOT = """
(function () {
  var options = JSON.parse(document.getElementById("graphiql-options").textContent);
  var socket = (location.protocol === "https:" ? "wss" : "ws") + "://" + location.host
    + location.pathname;
  var props = {
    fetcher: GraphiQL.createFetcher({
      url: location.href,
      subscriptionUrl: options.subscriptionUrl || socket,
    }),
    defaultEditorToolsVisibility: true,
    defaultQuery: options.defaultQuery,
  };
  if (options.explorerPlugin) {
    props.plugins = [GraphiQLPluginExplorer.explorerPlugin()];
  }
  ReactDOM.createRoot(document.getElementById("graphiql"))
    .render(React.createElement(GraphiQL, props));
})();
"""
BOOT_HASH = base64.b64encode(hashlib.sha256(BOOT.encode()).digest()).decode()
CSP = (
    "default-src 'self'; "
    f"script-src 'self' 'sha256-{BOOT_HASH}'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'"
)

PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <meta http-equiv="Content-Security-Policy" content="{csp}">
    <title>{title}</title>
    <link rel="icon" href="data:,">
    <style>
      body {{ margin: 0; }}
      #graphiql {{ height: 100dvh; }}
      .loading {{
        height: 100%; display: flex; align-items: center; justify-content: center;
        font-size: 4rem;
      }}
    </style>
{stylesheets}
  </head>
  <body>
    <div id="graphiql"><div class="loading">Loading {title}…</div></div>
{scripts}
    <script id="graphiql-options" type="application/json">{options}</script>
    <script>{boot}</script>
  </body>
</html>
"""


def _json_in_html(value: Any) -> str:
    """JSON that cannot end the <script> element holding it."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class LocalGraphiQL(Explorer):
    """GraphiQL with the options of Ariadne's `ExplorerGraphiQL`, from local files."""

    def __init__(
        self,
        title: str = "Ariadne GraphQL",
        explorer_plugin: bool = False,
        default_query: str = DEFAULT_QUERY,
        subscription_url: str = "",
    ) -> None:
        self.title = title
        self.explorer_plugin = explorer_plugin
        self.options = _json_in_html(
            {
                "defaultQuery": default_query,
                "subscriptionUrl": subscription_url,
                "explorerPlugin": explorer_plugin,
            }
        )
        self.pages: dict[str, str] = {}

    def html(self, request: Any) -> str:
        # Asset paths start at the app's root path (an ASGI server's --root-path).
        root = str(getattr(request, "scope", {}).get("root_path", "")).rstrip("/")
        page = self.pages.get(root)
        if page is None:
            page = self.pages[root] = self.render(root + VENDOR_PATH)
        return page

    def render(self, vendor: str) -> str:
        """The page, its assets under the URL path `vendor`."""
        stylesheets = STYLESHEETS + (PLUGIN_STYLESHEETS if self.explorer_plugin else ())
        scripts = SCRIPTS + (PLUGIN_SCRIPTS if self.explorer_plugin else ())
        href = html.escape(vendor)
        return PAGE.format(
            csp=CSP,
            title=html.escape(self.title),
            stylesheets="\n".join(
                f'    <link rel="stylesheet" href="{href}/{name}">' for name in stylesheets
            ),
            scripts="\n".join(f'    <script src="{href}/{name}"></script>' for name in scripts),
            options=self.options,
            boot=BOOT,
        )
