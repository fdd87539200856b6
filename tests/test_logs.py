"""Credentials never reach the server's logs."""

import logging

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer

SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "apollonia", "apollonia.errors")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_tokens_in_query_strings_are_redacted(
    live: LiveServer, client: httpx.AsyncClient
) -> None:
    secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl"
    capture = Capture()
    loggers = [logging.getLogger(name) for name in SERVER_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.INFO)
    try:
        await client.get(f"/graphql?query={{genres{{name}}}}&token={secret}")
        url = live.url.replace("http://", "ws://") + f"/ws?token={secret}"
        async with connect(url) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        await client.post(
            "/graphql",
            json={"query": "{ tracks { nope } }"},
            headers={"authorization": f"Bearer {secret}"},
        )
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(capture)
            logger.setLevel(level)
    text = "\n".join(capture.lines)
    assert "/graphql?" in text and "/ws?" in text  # the requests were logged
    assert "token=[redacted]" in text
    assert secret not in text
    assert "c2VjcmV0LXBheWxvYWQ" not in text
