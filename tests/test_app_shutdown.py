"""The app's shutdown reaches `on_shutdown` (which stops `serve`'s worker and embedded
database) whatever a step before it does."""

import asyncio
import time
from typing import Any

import pytest

from events import Events
from graph.engine import GraphEngine
from server import app as app_module
from server.app import create_app
from server.settings import Settings


async def test_a_hanging_shutdown_step_does_not_keep_the_worker_running(
    engine: GraphEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full-suite run saw `serve` stop at "Waiting for application shutdown" until it
    was killed, its worker and database left running: a step that hangs is now given
    SHUTDOWN_STEP_SECONDS, and the steps after it, `on_shutdown` last, still run."""
    monkeypatch.setattr(app_module, "SHUTDOWN_STEP_SECONDS", 0.2)

    async def hang(self: Any, *args: Any) -> None:
        await asyncio.sleep(3600)

    monkeypatch.setattr(Events, "__aexit__", hang)
    stopped: list[float] = []
    app = create_app(settings, engine=engine, on_shutdown=lambda: stopped.append(time.monotonic()))
    async with app.router.lifespan_context(app):
        left = time.monotonic()
    assert stopped, "on_shutdown never ran"
    assert stopped[0] - left < 30  # not an hour


async def test_a_failing_shutdown_step_does_not_keep_the_worker_running(
    engine: GraphEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(self: Any) -> None:
        raise RuntimeError("a library's bug")

    monkeypatch.setattr(Events, "__aexit__", fail)
    stopped: list[bool] = []
    app = create_app(settings, engine=engine, on_shutdown=lambda: stopped.append(True))
    with pytest.raises(RuntimeError):
        async with app.router.lifespan_context(app):
            pass
    assert stopped == [True]
