"""Request bodies over the cap get 413 before they are read whole."""

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from graph.embedded import EmbeddedServer
from server.settings import Settings
from tests.support import LiveServer, make_settings

CAP = 1024
SMALL = orjson.dumps({"query": "{ __typename }"})
# A valid document padded with spaces to twice the cap.
LARGE = orjson.dumps({"query": "{ __typename }" + " " * 2 * CAP})


@pytest.fixture
def settings(falkordb_server: EmbeddedServer) -> Settings:
    return make_settings(falkordb_server, max_body_bytes=CAP)


async def chunks(body: bytes, size: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "allowed": CAP}


async def test_a_declared_length_over_the_cap_gets_413(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    assert_too_large(await client.post("/graphql", content=LARGE, headers=headers))
    small = await client.post("/graphql", content=SMALL, headers=headers)
    assert small.json() == {"data": {"__typename": "Query"}}


async def test_a_chunked_body_over_the_cap_gets_413(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    response = await client.post("/graphql", content=chunks(LARGE), headers=headers)
    assert "content-length" not in response.request.headers
    assert_too_large(response)
    small = await client.post("/graphql", content=chunks(SMALL, 4), headers=headers)
    assert small.json() == {"data": {"__typename": "Query"}}


async def _request_head(live: LiveServer, writer: asyncio.StreamWriter, extra: str) -> None:
    host = urlsplit(live.url).netloc
    writer.write(
        f"POST /graphql HTTP/1.1\r\nhost: {host}\r\n"
        f"content-type: application/json\r\n{extra}\r\n".encode()
    )
    await writer.drain()


async def _status(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), timeout=5)
    return int(line.split()[1])


async def test_refused_without_waiting_for_the_body(live: LiveServer) -> None:
    # 1 GB declared, nothing sent: the answer cannot have waited for the body.
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    try:
        await _request_head(live, writer, "content-length: 1000000000\r\n")
        assert await _status(reader) == 413
    finally:
        writer.close()
    # A stream that never ends: the answer comes once the cap is passed.
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    try:
        await _request_head(live, writer, "transfer-encoding: chunked\r\n")
        for _ in range(3):
            writer.write(b"200\r\n" + b" " * 0x200 + b"\r\n")
        await writer.drain()
        assert await _status(reader) == 413
    finally:
        writer.close()
