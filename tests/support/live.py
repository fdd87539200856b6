"""A live uvicorn server over real TCP, for tests that need a socket (WebSockets,
subscriptions, proxies, other processes)."""

import asyncio
import socket

import uvicorn

from graph.engine import GraphEngine
from server.app import create_app
from server.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A uvicorn server in the test's event loop, serving the app over real TCP."""

    def __init__(self, engine: GraphEngine, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, engine=engine),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            **settings.uvicorn_options(),  # type: ignore[arg-type]
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(200):
            if self.server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("uvicorn did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task
