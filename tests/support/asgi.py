"""The app in the test's own process: httpx's ASGI transport instead of a socket.

The app's start-up and shutdown (its lifespan: Redis, the event bus, the job queue, the
GraphQL app) run around the client, over the test's engine, as uvicorn would run them.
No port, no server task, no TCP round trip per request.
"""

import contextlib
from collections.abc import AsyncIterator

import httpx

from graph.engine import GraphEngine
from server.app import create_app
from server.settings import Settings

BASE_URL = "http://127.0.0.1"


@contextlib.asynccontextmanager
async def asgi_client(engine: GraphEngine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an app started in this process on `engine`."""
    app = create_app(settings, engine=engine)
    # As a server would: an unhandled error is a 500 response, not an exception here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=30) as client,
    ):
        yield client
