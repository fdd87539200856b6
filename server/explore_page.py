"""`/explore`: a small web page that draws the similarity graph (server/static/explore/).

The page and the graph-drawing library it uses (vendored from npm by web/vendor.sh) are
served from this app; the Content-Security-Policy lets the page load nothing from
anywhere else. Inline styles are allowed because cytoscape adds a <style> element of
its own; scripts are not.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
PAGE = STATIC_DIR / "explore" / "index.html"
CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


async def explore_page(_: Request) -> Response:
    return FileResponse(
        PAGE,
        media_type="text/html",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
    )


async def explore_slash(_: Request) -> Response:
    return RedirectResponse("/explore", status_code=308)


def explore_routes() -> list[BaseRoute]:
    """The page at /explore, and its static files (and vendored libraries) at /static."""
    return [
        Route("/explore", explore_page, methods=["GET"]),
        Route("/explore/", explore_slash, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
