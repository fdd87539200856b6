"""The subscribers of bench/fanout.py: a lean WebSocket client and its worker processes.

`Subscriber` is an asyncio.Protocol speaking just enough RFC 6455 for a subscriber: the
HTTP upgrade, unmasked server frames (text, continuation, ping, close; permessage-deflate
with `deflate=True`), masked client frames (text, pong, close). Receipt is timed once per
`data_received` call (every frame of one read arrived together), then each event is
parsed with orjson and its latency (receipt - the publisher's `sent`, both `time.time_ns()`
on this machine) is appended to the worker's `Recorder`. About 10-20 us of CPU per event;
the `websockets` library costs several times that, and at 10,000 sockets the client must
not be what is measured.

Protocols:
- `ws`: GET /ws?token=T -> {"type": "authenticated"} -> send subscribe media.added ->
  {"type": "subscription_confirmed"} -> events {"type": "media.added", "data": {...}}.
- `graphql-transport-ws`: GET /graphql (subprotocol graphql-transport-ws) -> send
  connection_init {"authorization": "Bearer T"} -> connection_ack -> send subscribe
  `mediaAdded { timestamp track { id title } }` -> "next" messages; the publisher puts
  "<seq> <sent>" in the track's title, the only free text the subscription returns.

A worker process (`worker_main`) opens `count` subscribers and then obeys its parent over
a multiprocessing pipe: see `Worker.command`.
"""

import asyncio
import base64
import gc
import os
import random
import resource
import threading
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

import orjson

HOST = "127.0.0.1"
CHANNEL = "media.added"
GRAPHQL_DOC = "subscription { mediaAdded { timestamp track { id title } } }"
PROTOCOLS = ("ws", "graphql-transport-ws")
WARM_SEQ = -1  # events with this seq only show that a subscription is live


@dataclass
class WorkerSpec:
    """What one worker process opens."""

    index: int
    port: int
    protocol: str
    token: str
    count: int
    connect_concurrency: int = 64
    connect_timeout: float = 30.0
    deflate: bool = False
    use_uvloop: bool = True


# --- frames ---------------------------------------------------------------------------


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked, final client frame."""
    mask = random.getrandbits(32).to_bytes(4, "big")
    length = len(payload)
    if length < 126:
        head = bytes((0x80 | opcode, 0x80 | length))
    elif length < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
    # XOR through one big integer: fast enough for the few small frames a client sends.
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big"
    )
    return head + mask + masked


def text_frame(message: dict[str, Any]) -> bytes:
    return client_frame(0x1, orjson.dumps(message))


# --- the recorder -----------------------------------------------------------------------


@dataclass
class Recorder:
    """Latencies (ns) per event seq, across this worker's subscribers."""

    latencies: dict[int, array[int]] = field(default_factory=dict)
    last_receipt_ns: dict[int, int] = field(default_factory=dict)
    warmed: int = 0
    target: int = 0  # deliveries per seq that complete it (the live subscribers when armed)
    notify: Any = None  # called with a seq once it is complete
    other: Counter[str] = field(default_factory=Counter)  # unexpected messages by kind
    first_other: str = ""

    def add(self, seq: int, latency_ns: int, now_ns: int) -> None:
        values = self.latencies.get(seq)
        if values is None:
            values = self.latencies[seq] = array("q")
        values.append(latency_ns)
        self.last_receipt_ns[seq] = now_ns
        if len(values) == self.target and self.notify is not None:
            self.notify(seq)

    def unexpected(self, kind: str, text: str) -> None:
        self.other[kind] += 1
        if not self.first_other:
            self.first_other = text[:300]


# --- one subscriber ---------------------------------------------------------------------


class Subscriber(asyncio.Protocol):
    """One WebSocket subscriber."""

    def __init__(self, spec: WorkerSpec, recorder: Recorder) -> None:
        self.spec = spec
        self.recorder = recorder
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.fragment_compressed = False
        self.inflater: Any = None
        self.reset_inflater = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.warm = False
        self.closed = False
        self.close_code: int | None = None
        self.handshake_key = base64.b64encode(os.urandom(16)).decode()

    # connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        if self.spec.protocol == "ws":
            path = f"/ws?token={self.spec.token}"
            extra = ""
        else:
            path = "/graphql"
            extra = "Sec-WebSocket-Protocol: graphql-transport-ws\r\n"
        if self.spec.deflate:
            extra += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.spec.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.handshake_key}\r\nSec-WebSocket-Version: 13\r\n"
            f"{extra}\r\n"
        )
        self.transport.write(request.encode("latin-1"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            reason = f"close {self.close_code}" if self.close_code else f"lost: {exc!r}"
            self.ready.set_exception(ConnectionError(reason))

    def send(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()

    def fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.abort()

    # reading

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            if not head.startswith("HTTP/1.1 101"):
                self.fail(f"handshake: {head.splitlines()[0] if head else '?'}")
                return
            self.upgraded = True
            lower = head.lower()
            if "permessage-deflate" in lower:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self.reset_inflater = "server_no_context_takeover" in lower
            self.opened()
        self.frames(now)

    def frames(self, now: int) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length = second & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = int.from_bytes(buffer[2:4], "big")
                offset = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = int.from_bytes(buffer[2:10], "big")
                offset = 10
            if second & 0x80:
                self.fail("masked server frame")
                return
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            self.frame(first & 0x80, first & 0x40, first & 0x0F, payload, now)
            if self.closed:
                return

    def frame(self, fin: int, rsv1: int, opcode: int, payload: bytes, now: int) -> None:
        if opcode == 0x9:  # ping
            self.send(client_frame(0xA, payload))
            return
        if opcode == 0xA:
            return
        if opcode == 0x8:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            reason = payload[2:].decode(errors="replace")
            self.recorder.unexpected(f"close {self.close_code}", reason)
            self.close()
            self.closed = True
            if not self.ready.done():
                self.ready.set_exception(ConnectionError(f"close {self.close_code}"))
            return
        if opcode in (0x1, 0x2):
            self.fragments = [payload]
            self.fragment_compressed = bool(rsv1)
        elif opcode == 0x0:
            self.fragments.append(payload)
        if not fin:
            return
        message = b"".join(self.fragments)
        self.fragments = []
        if self.fragment_compressed and self.inflater is not None:
            message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
            if self.reset_inflater:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self.message(message, now)

    # the protocols

    def opened(self) -> None:
        if self.spec.protocol == "graphql-transport-ws":
            self.send(
                text_frame(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": f"Bearer {self.spec.token}"},
                    }
                )
            )

    def message(self, raw: bytes, now: int) -> None:
        try:
            message = orjson.loads(raw)
            kind = message.get("type")
        except (orjson.JSONDecodeError, AttributeError):
            self.recorder.unexpected("not json", raw.decode(errors="replace"))
            return
        if self.spec.protocol == "ws":
            if kind == CHANNEL:
                data = message["data"]
                self.event(int(data["seq"]), int(data["sent"]), now)
            elif kind == "authenticated":
                self.send(text_frame({"type": "subscribe", "event_type": CHANNEL}))
            elif kind == "subscription_confirmed":
                if not self.ready.done():
                    self.ready.set_result(None)
            else:
                self.recorder.unexpected(
                    f"{kind} {message.get('code', '')}".strip(), raw.decode(errors="replace")
                )
            return
        if kind == "next":
            payload = message.get("payload") or {}
            data = payload.get("data") or {}
            if payload.get("errors") or not data:
                self.recorder.unexpected("next with errors", raw.decode(errors="replace"))
                return
            seq, sent = data["mediaAdded"]["track"]["title"].split(" ")
            self.event(int(seq), int(sent), now)
        elif kind == "connection_ack":
            self.send(
                text_frame({"type": "subscribe", "id": "1", "payload": {"query": GRAPHQL_DOC}})
            )
            # The protocol confirms nothing more: a warm-up event shows the subscription.
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "ping":
            self.send(text_frame({"type": "pong"}))
        elif kind == "pong":
            return
        else:
            self.recorder.unexpected(str(kind), raw.decode(errors="replace"))

    def event(self, seq: int, sent: int, now: int) -> None:
        if seq == WARM_SEQ:
            if not self.warm:
                self.warm = True
                self.recorder.warmed += 1
            return
        self.recorder.add(seq, now - sent, now)


# --- a worker process -------------------------------------------------------------------


def _error_kind(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno is not None:
        return f"{type(error).__name__} errno {error.errno} ({os.strerror(error.errno)})"
    if isinstance(error, TimeoutError):
        return "connect/handshake timeout"
    return f"{type(error).__name__}: {error}"[:120]


class Worker:
    """Opens `spec.count` subscribers, then serves its parent's commands."""

    def __init__(self, spec: WorkerSpec, pipe: Connection) -> None:
        self.spec = spec
        self.pipe = pipe
        self.recorder = Recorder()
        self.subscribers: list[Subscriber] = []
        self.errors: Counter[str] = Counter()
        self.loop = asyncio.get_running_loop()
        self.commands: asyncio.Queue[Any] = asyncio.Queue()
        self.send_lock = threading.Lock()

    def reply(self, *message: Any) -> None:
        with self.send_lock:
            self.pipe.send(message)

    def _read_commands(self) -> None:
        """A thread: the pipe's messages into the event loop (EOF ends the worker)."""
        while True:
            try:
                command = self.pipe.recv()
            except (EOFError, OSError):
                command = ("stop",)
            self.loop.call_soon_threadsafe(self.commands.put_nowait, command)
            if command[0] == "stop":
                return

    async def open_one(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            subscriber: Subscriber | None = None
            try:
                async with asyncio.timeout(self.spec.connect_timeout):
                    _, protocol = await self.loop.create_connection(
                        lambda: Subscriber(self.spec, self.recorder), HOST, self.spec.port
                    )
                    subscriber = protocol
                    await protocol.ready
                self.subscribers.append(protocol)
            except (OSError, TimeoutError, ConnectionError) as e:
                self.errors[_error_kind(e)] += 1
                if subscriber is not None and subscriber.transport is not None:
                    subscriber.transport.abort()

    def live(self) -> list[Subscriber]:
        return [s for s in self.subscribers if not s.closed]

    def stats(self) -> dict[str, Any]:
        live = self.live()
        return {
            "open": len(live),
            "warm": sum(s.warm for s in live),
            "errors": dict(self.errors),
            "other": dict(self.recorder.other),
            "first_other": self.recorder.first_other,
        }

    async def run(self) -> None:
        threading.Thread(target=self._read_commands, daemon=True).start()
        gate = asyncio.Semaphore(self.spec.connect_concurrency)
        started = time.perf_counter()
        await asyncio.gather(*(self.open_one(gate) for _ in range(self.spec.count)))
        # This process's collector is off from now on, so that its pauses do not show in
        # the latencies it measures: the sockets are frozen out of its reach, and what
        # each event allocates is acyclic and freed by reference counting.
        gc.collect()
        gc.freeze()
        gc.disable()
        self.reply("connected", time.perf_counter() - started, self.stats())
        while True:
            command = await self.commands.get()
            if not self.command(command):
                break
        for subscriber in self.subscribers:
            subscriber.close()
        await asyncio.sleep(0.2)

    def command(self, command: tuple[Any, ...]) -> bool:
        """Commands: ("stats",) -> ("stats", {...}); ("arm",) -> ("armed", target): from
        now on ("done", worker, seq) is sent once each live subscriber got event `seq`;
        ("report", [seqs]) -> ("report", {seq: latencies}, {seq: last receipt}, stats,
        cpu seconds); ("stop",) ends the worker. False to stop."""
        kind = command[0]
        if kind == "stats":
            self.reply("stats", self.stats())
        elif kind == "arm":
            self.recorder.target = len(self.live())
            self.recorder.notify = lambda seq: self.reply("done", self.spec.index, seq)
            for seq, values in self.recorder.latencies.items():
                if len(values) >= self.recorder.target:
                    self.reply("done", self.spec.index, seq)
            self.reply("armed", self.recorder.target)
        elif kind == "report":
            seqs = command[1]
            usage = resource.getrusage(resource.RUSAGE_SELF)
            self.reply(
                "report",
                {s: self.recorder.latencies.get(s, array("q")) for s in seqs},
                {
                    s: self.recorder.last_receipt_ns[s]
                    for s in seqs
                    if s in self.recorder.last_receipt_ns
                },
                self.stats(),
                usage.ru_utime + usage.ru_stime,
            )
        elif kind == "stop":
            return False
        return True


async def _worker(spec: WorkerSpec, pipe: Connection) -> None:
    worker = Worker(spec, pipe)
    await worker.run()


def run_loop(main: Coroutine[Any, Any, None], use_uvloop: bool = True) -> None:
    """`main` on uvloop when installed (as the server runs), else on asyncio."""
    runner: Callable[[Coroutine[Any, Any, None]], None] = asyncio.run
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            runner = uvloop.run
    runner(main)


def worker_main(spec: WorkerSpec, pipe: Connection) -> None:
    """The entry point of a worker process."""
    run_loop(_worker(spec, pipe), spec.use_uvloop)
