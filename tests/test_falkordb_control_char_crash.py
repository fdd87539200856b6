"""The FalkorDB bug behind issue 11's first finding, reproduced on a throwaway server.

Three statements kill FalkorDB 4.22.1's redis-server with SIGSEGV in
`EnforceUniqueEntity`: a range index, a uniqueness constraint on the same property,
and a node written with U+0001 in that property (`CREATE`, `MERGE` or `SET`; any
position in the string; found by trying every C0/C1 character: U+0001 is the only
one). A range index alone, or the character in a property without a constraint, is
fine, and so are reads.

The reproduction runs on its own server in a temporary folder, never the session's.
Its outcome is recorded per FalkorDB module version in `KNOWN`: on a version listed
there the test asserts that outcome; on another it fails and says what it saw, so an
upgrade of falkordblite is noticed and the README's known issue updated (or dropped)
rather than silently assumed.
"""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from graph.embedded import _binaries

# FalkorDB module version (MODULE LIST `ver`) -> does the reproduction crash the server?
KNOWN = {42201: True}
CRASH_WAIT = 30.0  # the crash handler runs a fast memory test first: about 4 s here


class Throwaway:
    """redis-server with the FalkorDB module, no persistence, in `folder`."""

    def __init__(self, folder: Path) -> None:
        server, module = _binaries()
        self.socket = folder / "repro.sock"
        self.log = folder / "repro.log"
        options = {
            "port": "0",
            "unixsocket": str(self.socket),
            "dir": str(folder),
            "logfile": str(self.log),
            "save": "",
            "appendonly": "no",
            "loadmodule": module,
        }
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        self.process = subprocess.Popen(
            [server, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=60)
                self.client.ping()
                return
            except (redis.RedisError, OSError):
                time.sleep(0.05)
        self.process.kill()
        raise RuntimeError("the throwaway FalkorDB did not start")

    def module_version(self) -> int:
        modules = self.client.execute_command("MODULE", "LIST")
        return next(int(m[b"ver"]) for m in modules if m[b"name"] == b"graph")

    def query(self, text: str) -> list[object]:
        reply: list[object] = self.client.execute_command("GRAPH.QUERY", "repro", text)
        return reply

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
def throwaway(tmp_path: Path) -> Iterator[Throwaway]:
    server = Throwaway(tmp_path)
    yield server
    server.stop()


def _crashes(server: Throwaway) -> bool:
    server.query("CREATE INDEX FOR (n:U) ON (n.k)")
    server.client.execute_command(
        "GRAPH.CONSTRAINT", "CREATE", "repro", "UNIQUE", "NODE", "U", "PROPERTIES", 1, "k"
    )
    # The constraint is built in the background: the crash needs it enforced.
    deadline = time.monotonic() + 30
    online = [[b"OPERATIONAL"]]
    while server.query("CALL db.constraints() YIELD status RETURN status")[1] != online:
        assert time.monotonic() < deadline, "the constraint never came online"
        time.sleep(0.02)
    # Control: the same write without the character succeeds on this server.
    server.query('CREATE (:U {k: "a"})')
    try:
        server.query('CREATE (:U {k: "\x01"})')
    except redis.ConnectionError:
        pass
    else:
        return False
    server.process.wait(CRASH_WAIT)
    return True


def test_u0001_under_a_uniqueness_constraint_kills_falkordb(throwaway: Throwaway) -> None:
    version = throwaway.module_version()
    crashed = _crashes(throwaway)
    if crashed:
        assert throwaway.process.returncode == -11  # SIGSEGV
        assert "EnforceUniqueEntity" in throwaway.log.read_text(errors="replace")
    else:
        assert throwaway.process.poll() is None
    assert version in KNOWN, (
        f"FalkorDB module {version}: the U+0001 reproduction "
        f"{'still crashes' if crashed else 'no longer crashes'}; record it in KNOWN and "
        "update the README's known issues"
    )
    assert crashed == KNOWN[version]
