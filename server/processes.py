"""N API processes, each with its own listening socket on the one port (SO_REUSEPORT).

uvicorn's `workers=N` binds one socket and hands it to every process; a new connection
goes to whichever process takes it first, which is the one that happens to be idle.
Clients that keep their connections (browsers, reverse proxies, the benchmarks' 32
clients) open them together, and one process ended up with 24-30 of 32 connections in
four of four tries here: the other sat nearly idle, and `--workers 2` gave little more
than one. With a socket per process in one SO_REUSEPORT group, the kernel spreads
connections over the sockets by their address hash, whoever is busy.

The supervision is uvicorn's own (`Multiprocess`: health pings, a dead process replaced,
a start-up failure ending the parent, signals); only which socket a process gets
differs. The parent keeps every socket open, so a replaced process's connections wait
in its socket's backlog for the replacement instead of being refused.
"""

import logging
import socket

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("uvicorn.error")


def reuse_port_sockets(
    host: str, port: int, count: int, backlog: int = 2048
) -> list[socket.socket]:
    """`count` listening TCP sockets on `host`:`port`, one SO_REUSEPORT group (port 0:
    the port the first one was given)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class ReusePortMultiprocess(Multiprocess):
    """uvicorn's supervisor, process i serving socket i."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        if len(sockets) != config.workers:
            raise ValueError("one socket per process")
        super().__init__(config, sockets)

    def _process(self, index: int) -> Process:
        process = Process(self.config, [self.sockets[index]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._process(i) for i in range(self.processes_num)]

    def restart_all(self) -> None:
        """As uvicorn's: each replacement ready before the process it replaces stops."""
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._process(index)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    log.error("API process [%s] was not ready in time; restart aborted", new.pid)
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def keep_subprocess_alive(self) -> None:
        """As uvicorn's: a hung or dead process is replaced on its own socket; one that
        failed to start ends the parent (the app, or the socket, is broken)."""
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("API process [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.info("API process [%s] died; replacing it", process.pid)
            self.processes[index] = self._process(index)


def serve_processes(config: Config) -> None:
    """`config.workers` API processes on `config.host`:`config.port`, supervised."""
    sockets = reuse_port_sockets(config.host, config.port, config.workers, config.backlog)
    try:
        log.info(
            "API processes: %d on http://%s:%d, a socket each (SO_REUSEPORT)",
            config.workers,
            config.host,
            sockets[0].getsockname()[1],
        )
        ReusePortMultiprocess(config, sockets).run()
    finally:
        for sock in sockets:
            sock.close()
