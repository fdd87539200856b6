"""uvicorn's httptools protocol with a response's writes sent together.

uvicorn writes a response's status line and headers when the application sends
`http.response.start`, and its body when it sends `http.response.body`: two `send()`
system calls, two TCP segments on the wire, and a client woken twice (once for the
headers alone) for every small response, a GraphQL or REST answer of a few hundred
bytes. Here each connection's transport is wrapped so that the writes made within one
turn of the event loop go out in one `writelines()` (one `sendmsg()` of the pieces, no
copy): a response whose body follows its headers without waiting for anything, which is
every response but a stream's, is one write. A stream's chunks still go out as they
come, a turn of the loop later at most.

Everything else about the transport (flow control, closing, WebSocket upgrades, peer
address) is the wrapped transport's own; closing it sends what is pending first.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _Coalescing:
    """A transport whose writes within one loop turn go out together."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending or self._transport.is_closing():
            return
        if len(pending) == 1:
            self._transport.write(pending[0])
        else:
            self._transport.writelines(pending)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's `httptools` HTTP/1.1 protocol over a `_Coalescing` transport
    (`uvicorn.run(..., http="server.http_protocol:CoalescingHttpToolsProtocol")`)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        wrapped = _Coalescing(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        super().connection_made(wrapped)  # type: ignore[arg-type]

    def handle_websocket_upgrade(self) -> None:
        """A WebSocket gets the connection's own transport: its frames go out as before."""
        if isinstance(self.transport, _Coalescing):
            self.transport.flush()
            self.transport = self.transport._transport
        super().handle_websocket_upgrade()
