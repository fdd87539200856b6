"""No acknowledged write is lost when the embedded database is killed, even on a slow disk.

A fresh-clone CI run lost one acknowledged write in `test_embedded_supervision.py` (the
database SIGKILLed under a writing client). The cause is Redis's `appendfsync everysec`:
while its background fsync of the append-only file is still running, the server holds
back the *write* of new AOF data for up to 2 s and replies to the clients all the same,
so a process killed then loses writes it acknowledged. A fast disk hides it (an fsync
here takes ~0.1 ms); a busy CI disk does not. The default is now `always`.

Here a slow disk is made with strace, which delays every fsync/fdatasync of the running
server; then four clients write, the server is SIGKILLed, restarted on its folder, and
the acknowledged writes are looked up. `everysec` is run too, as the control that shows
the slow fsync was in force and that a loss is seen when there is one.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from graph.embedded import (
    DEFAULT_FSYNC,
    PIDFILE_NAME,
    EmbeddedServer,
    ensure_server,
    process_alive,
)
from server.settings import Settings

GRAPH = "durable"
WRITERS = 4


def _traced(pid: int) -> bool:
    """Whether every thread of `pid` has a tracer attached."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return bool(tasks) and all(
            int(line.split()[1]) != 0
            for task in tasks
            for line in (task / "status").read_text().splitlines()
            if line.startswith("TracerPid:")
        )
    except (OSError, ValueError):
        return False


def _slow_fsync(pid: int, delay_s: float) -> subprocess.Popen[bytes]:
    """strace attached to every thread of `pid`, delaying each fsync by `delay_s`."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed: no way to slow the disk down here")
    microseconds = int(delay_s * 1_000_000)
    syscalls = "fsync,fdatasync"
    tracer = subprocess.Popen(
        [
            *(strace, "-qq", "-f", "-p", str(pid), "-o", os.devnull),
            *("-e", f"trace={syscalls}", "-e", f"inject={syscalls}:delay_enter={microseconds}"),
        ],
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while not _traced(pid):
        if tracer.poll() is not None:
            error = tracer.stderr.read().decode() if tracer.stderr else ""
            pytest.skip(f"strace cannot attach here (ptrace not permitted?): {error.strip()}")
        assert time.monotonic() < deadline, "strace did not attach within 10 s"
        time.sleep(0.01)
    return tracer


def _write_until_killed(
    server: EmbeddedServer, tracer: subprocess.Popen[bytes], seconds: float
) -> list[str]:
    """Clients create nodes until the server is SIGKILLed after `seconds`; the ids of
    the writes the server acknowledged."""
    acknowledged: list[str] = []
    lock = threading.Lock()

    def write(writer: int) -> None:
        # No retries: a write the server did not answer is not acknowledged.
        client = redis.Redis(unix_socket_path=str(server.socket_path), retry=Retry(NoBackoff(), 0))
        number = 0
        while True:
            number += 1
            key = f"{writer}-{number}"
            try:
                client.execute_command("GRAPH.QUERY", GRAPH, f"CREATE (:Probe {{id: '{key}'}})")
            except redis.RedisError:  # the server is gone
                return
            with lock:
                acknowledged.append(key)

    threads = [threading.Thread(target=write, args=(n,), daemon=True) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    os.kill(server.pid, signal.SIGKILL)
    tracer.kill()  # else the death waits for the fsync being delayed to end
    for thread in threads:
        thread.join(30)
    deadline = time.monotonic() + 10
    while process_alive(server.pid):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return acknowledged


def _lost(folder: Path, policy: str, fsync_delay: float, seconds: float) -> tuple[int, int]:
    """(acknowledged, lost) for a server on `policy` killed while writing on a disk whose
    fsync takes `fsync_delay` seconds."""
    server = ensure_server(folder, appendfsync=policy)
    tracer = _slow_fsync(server.pid, fsync_delay)
    try:
        acknowledged = _write_until_killed(server, tracer, seconds)
    finally:
        tracer.wait(30)  # strace ends with the process it traces
    again = ensure_server(folder, appendfsync=policy)
    try:
        client = redis.Redis(unix_socket_path=str(again.socket_path))
        rows = client.execute_command("GRAPH.QUERY", GRAPH, "MATCH (p:Probe) RETURN p.id")[1]
        present = {row[0].decode() for row in rows}
    finally:
        again.stop()
    return len(acknowledged), len(set(acknowledged) - present)


def test_the_default_loses_no_acknowledged_write_on_a_slow_disk(tmp_path: Path) -> None:
    assert Settings().graph_fsync == DEFAULT_FSYNC == "always"
    # The control: each background fsync takes 1 s, so one is running almost all the
    # time from the first second on, and everysec holds back the AOF writes it
    # acknowledges meanwhile.
    acknowledged, lost = _lost(tmp_path / "everysec", "everysec", 1.0, 2.5)
    assert acknowledged > 0
    assert lost > 0, f"everysec kept all {acknowledged} writes: the slow fsync was not in force"
    # The default: the fsync (0.25 s each) comes before the replies of its turn.
    acknowledged, lost = _lost(tmp_path / "default", DEFAULT_FSYNC, 0.25, 2.5)
    assert acknowledged >= WRITERS, acknowledged
    assert lost == 0, f"{lost} of {acknowledged} acknowledged writes lost"


def test_an_unknown_fsync_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="appendfsync must be one of always, everysec, no"):
        ensure_server(tmp_path, appendfsync="sometimes")
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("APOLLONIA_GRAPH_FSYNC", "sometimes", b"must be one of: always, everysec, no"),
        ("APOLLONIA_GRAPH_ALLOCATOR", "tcmalloc", b"must be one of: mimalloc, libc"),
    ],
)
def test_serve_refuses_an_unknown_embedded_setting_before_it_starts_anything(
    tmp_path: Path, variable: str, value: str, message: bytes
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GRAPH_URL", "REDIS_URL", variable)
    }
    env[variable] = value
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(data), "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert variable.encode() + b" " + message in done.stderr
    assert b"Traceback" not in done.stderr
    assert not (data / PIDFILE_NAME).exists()
