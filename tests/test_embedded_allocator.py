"""The embedded FalkorDB server allocates with mimalloc (preloaded from the cmeel-mimalloc
wheel) unless told `libc`; the whole suite runs its databases that way. `serve` refusing
an unknown APOLLONIA_GRAPH_ALLOCATOR: tests/test_durability.py."""

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from graph.embedded import (
    Supervisor,
    _server_environment,
    ensure_server,
    mimalloc_library,
    process_alive,
)


def _libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_the_server_allocates_with_mimalloc_unless_told_libc(tmp_path: Path) -> None:
    library = mimalloc_library()
    assert library is not None and library.is_file()  # a dependency of the project
    default = ensure_server(tmp_path / "default")
    plain = ensure_server(tmp_path / "plain", allocator="libc")
    try:
        assert str(library) in _libraries(default.pid)
        assert "mimalloc" not in _libraries(plain.pid)
        for server in (default, plain):
            client = redis.Redis(unix_socket_path=str(server.socket_path))
            client.execute_command("GRAPH.QUERY", "g", "CREATE (:T {name: 'x'})")
            reply = client.execute_command("GRAPH.RO_QUERY", "g", "MATCH (t:T) RETURN t.name")
            assert reply[1] == [[b"x"]]
            client.close()
    finally:
        default.stop()
        plain.stop()


def test_mimalloc_commits_arena_memory_as_used_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server's environment (redis-server overwrites its /proc environ with its title,
    so it is checked where it is made): bench/allocator.py measured the resident size."""
    monkeypatch.delenv("MIMALLOC_ARENA_EAGER_COMMIT", raising=False)
    monkeypatch.setenv("LD_PRELOAD", "/other/lib.so")
    env = _server_environment("mimalloc")
    assert env is not None
    assert env["MIMALLOC_ARENA_EAGER_COMMIT"] == "0"
    assert env["LD_PRELOAD"] == f"{mimalloc_library()}:/other/lib.so"
    monkeypatch.setenv("MIMALLOC_ARENA_EAGER_COMMIT", "1")
    assert _server_environment("mimalloc")["MIMALLOC_ARENA_EAGER_COMMIT"] == "1"  # type: ignore[index]
    assert _server_environment("libc") is None


def test_an_unknown_allocator_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="allocator must be one of mimalloc, libc"):
        ensure_server(tmp_path, allocator="tcmalloc")
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


def test_a_restarted_server_allocates_with_mimalloc_again(tmp_path: Path) -> None:
    server = ensure_server(tmp_path)
    supervisor = Supervisor(server, interval=0.05).start()
    try:
        os.kill(server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while supervisor.server.pid == server.pid and time.monotonic() < deadline:
            time.sleep(0.05)
        restarted = supervisor.server
        assert restarted.pid != server.pid and process_alive(restarted.pid)
        assert "libmimalloc" in _libraries(restarted.pid)
    finally:
        supervisor.stop().stop()
