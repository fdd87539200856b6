"""A worker's own /metrics (APOLLONIA_WORKER_METRICS_PORT): served by prometheus-client,
on 127.0.0.1 unless APOLLONIA_WORKER_METRICS_HOST says otherwise."""

import socket

import httpx
import pytest

from server.settings import Settings
from workers.worker import serve_metrics


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_port_serves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APOLLONIA_WORKER_METRICS_PORT", raising=False)
    assert serve_metrics(Settings.from_env()) is None


@pytest.mark.parametrize(("host", "bound"), [(None, "127.0.0.1"), ("0.0.0.0", "0.0.0.0")])
def test_the_job_metrics_listen_where_they_are_told(
    monkeypatch: pytest.MonkeyPatch, host: str | None, bound: str
) -> None:
    port = _free_port()
    monkeypatch.setenv("APOLLONIA_WORKER_METRICS_PORT", str(port))
    if host is None:
        monkeypatch.delenv("APOLLONIA_WORKER_METRICS_HOST", raising=False)
    else:
        monkeypatch.setenv("APOLLONIA_WORKER_METRICS_HOST", host)
    server = serve_metrics(Settings.from_env())
    assert server is not None
    try:
        # prometheus-client's own default would be every interface (0.0.0.0).
        assert server.server_address[:2] == (bound, port)
        reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10, trust_env=False)
        assert reply.status_code == 200
        assert "apollonia_jobs_total" in reply.text
    finally:
        server.shutdown()
        server.server_close()
