"""A response's headers and body leave the server in one write (server/http_protocol.py).

Counted by the kernel: Linux's TCP_INFO on the client's socket tells how many segments
carrying data it received (`tcpi_data_segs_in`). uvicorn's own protocol writes the
status line and headers, then the body: two segments for every small answer."""

import asyncio
import json

import pytest

from bench._client import data_segments_in
from server.settings import HTTP_PROTOCOL, Settings
from tests.support.live import LiveServer


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The next answer on the connection: its head and its Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await reader.readexactly(length)


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[bytes, bytes]:
    writer.write(request)
    await writer.drain()
    return await _answer(reader)


async def test_a_small_answer_is_one_segment(live: LiveServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    sock = writer.get_extra_info("socket")
    try:
        query = json.dumps({"query": "{ tracks(first: 1) { totalCount } }"}).encode()
        for request in (
            _request("POST", "/graphql", query),
            _request("GET", "/health/ready"),
            _request("POST", "/graphql", b'{"query": "{ nope }"}'),  # an error answer too
        ):
            for _ in range(3):
                before = data_segments_in(sock)
                head, body = await _exchange(reader, writer, request)
                assert head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 400")), head
                assert json.loads(body)
                # Nothing more is on its way: the answer was complete in what came.
                await asyncio.sleep(0.01)
                assert data_segments_in(sock) - before == 1, head
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_large_answer_arrives_whole(live: LiveServer) -> None:
    """An answer larger than a segment (the schema's introspection, ~100 KB and more)
    comes whole and in order over a kept-alive connection, twice."""
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    try:
        fields = (
            "name kind description fields(includeDeprecated: true) { name description"
            " args { name description type { name kind } } type { name kind ofType { name } } }"
            " inputFields { name description type { name kind } } enumValues { name description }"
        )
        query = json.dumps({"query": f"{{ __schema {{ types {{ {fields} }} }} }}"}).encode()
        first = await _exchange(reader, writer, _request("POST", "/graphql", query))
        second = await _exchange(reader, writer, _request("POST", "/graphql", query))
        assert len(first[1]) > 65536
        assert first[1] == second[1]
        types = json.loads(first[1])["data"]["__schema"]["types"]
        assert "Track" in {t["name"] for t in types}
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_closed_connection_after_a_pending_write_is_quiet(live: LiveServer) -> None:
    """A client that leaves before its answer goes out costs the server nothing: the
    next client is served."""
    for _ in range(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
        writer.write(_request("GET", "/health/ready"))
        await writer.drain()
        writer.transport.abort()
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    try:
        head, _ = await _exchange(reader, writer, _request("GET", "/health/ready"))
        assert head.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()
        await writer.wait_closed()


def test_uvicorns_own_protocol_can_be_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """APOLLONIA_COALESCE_WRITES=false: uvicorn's httptools protocol, as it comes."""
    monkeypatch.delenv("APOLLONIA_COALESCE_WRITES", raising=False)
    assert Settings.from_env().uvicorn_options()["http"] == HTTP_PROTOCOL
    monkeypatch.setenv("APOLLONIA_COALESCE_WRITES", "false")
    assert Settings.from_env().uvicorn_options()["http"] == "httptools"


async def test_head_and_expect_continue_over_one_write(live: LiveServer) -> None:
    """HEAD gets headers and no body; a POST that waits for `100 Continue` gets it (a
    write made while the request is read, sent at the end of that loop turn), then its
    answer, on the same connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    try:
        writer.write(b"HEAD /health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"content-length:" in head.lower()
        body = json.dumps({"query": "{ __typename }"}).encode()
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        final, answer = await _answer(reader)
        assert final.startswith(b"HTTP/1.1 200")
        assert json.loads(answer) == {"data": {"__typename": "Query"}}
    finally:
        writer.close()
        await writer.wait_closed()
