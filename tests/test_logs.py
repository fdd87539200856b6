"""Credentials never reach the server's logs."""

import dataclasses
import json
import logging

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from graph.engine import GraphEngine
from server.logs import RedactSecrets
from server.settings import Settings
from tests.support import LiveServer

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


LOGIN = 'mutation($p: String!) { login(input: {login: "nobody", password: $p}) { accessToken } }'


async def test_json_lines_carry_request_ids_and_no_credential(
    engine: GraphEngine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A live server logging JSON: requests carrying a token in the Authorization header,
    in the query string, and a password in a login mutation (as a variable, and inline
    in a GET); not one of them appears in any line, and every line has a request id."""
    header_token = "eyJhbGciOiJIUzI1NiJ9.aGVhZGVyLXNlY3JldA.c2lnMQ"
    query_token = "eyJhbGciOiJIUzI1NiJ9.cXVlcnktc2VjcmV0.c2lnMg"
    password = "correct-horse-battery-staple-42"
    server = LiveServer(engine, dataclasses.replace(settings, log_format="json"))
    await server.start()
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.setLevel(logging.INFO)
    capsys.readouterr()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            await http.post(
                "/graphql",
                json={"query": "{ genres { name } }"},
                headers={"authorization": f"Bearer {header_token}", "x-request-id": "req-header"},
            )
            await http.get(
                "/graphql",
                params={"query": "{ genres { name } }", "access_token": query_token},
                headers={"x-request-id": "req-query"},
            )
            await http.post(
                "/graphql",
                json={"query": LOGIN, "variables": {"p": password}},
                headers={"x-request-id": "req-login"},
            )
            inline = LOGIN.replace("$p", json.dumps(password)).replace("($p: String!)", "")
            await http.get("/graphql", params={"query": inline, "token": query_token})
        url = server.url.replace("http://", "ws://") + f"/ws?token={query_token}"
        async with connect(url) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
    finally:
        access.setLevel(level)
        await server.stop()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    served = [line for line in lines if not line["logger"].startswith(("httpx", "websockets"))]
    assert served, "the server logged nothing"
    for line in served:
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys()
        text = json.dumps(line)
        for secret in (header_token, query_token, password, "aGVhZGVyLXNlY3JldA"):
            assert secret not in text, line
    by_id = {line["request_id"]: line for line in served if line["logger"] == "uvicorn.access"}
    assert by_id["req-header"]["status"] == 401 and by_id["req-header"]["path"] == "/graphql"
    assert by_id["req-query"]["path"].endswith("access_token=[redacted]")
    assert by_id["req-login"]["method"] == "POST"


async def test_text_lines_show_the_request_id(
    live: LiveServer, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.setLevel(logging.INFO)
    capsys.readouterr()
    try:
        await client.get("/health/live", headers={"x-request-id": "text-id-1"})
    finally:
        access.setLevel(level)
    err = capsys.readouterr().err
    assert any("[text-id-1]" in line and "/health/live" in line for line in err.splitlines())


def _access(args: tuple[object, ...]) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )


def test_an_access_record_masks_its_path_and_keeps_the_rest() -> None:
    """uvicorn's access record goes through the patterns for its path alone (the rest
    is an address, a method, a version and a status): the path's query values are
    masked but paging ones, and credentials in what is kept are masked too."""
    record = _access(
        ("127.0.0.1:5000", "GET", "/graphql?first=3&token=abc.def&after=bearer%20x", "1.1", 200)
    )
    assert RedactSecrets().filter(record)
    line = record.getMessage()
    assert line.startswith('127.0.0.1:5000 - "GET /graphql?first=3&token=[redacted]')
    assert "abc.def" not in line and line.endswith('HTTP/1.1" 200')
    assert "after=bearer [redacted]" in line
    # A record of another shape is redacted argument by argument, as before.
    odd = _access(("client", "GET", "/x?password=hunter2", "1.1"))
    odd.msg = '%s - "%s %s HTTP/%s"'
    assert RedactSecrets().filter(odd)
    assert "hunter2" not in odd.getMessage()
