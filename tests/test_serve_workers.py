"""`apollonia serve --workers N`: N API processes over one embedded database and Redis."""

from pathlib import Path

import httpx
import psutil

from bench import _server

TRACK = "query($id: ID!) { track(id: $id) { id title } }"
CREATE = 'mutation { createTrack(input: {title: "Shared"}) { id } }'
REGISTER = """
mutation { register(input: {email: "w@example.com", username: "worker",
  password: "a long enough password"}) { accessToken } }
"""


def _api_processes(pid: int) -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process(pid).children(recursive=True)
        if "multiprocessing" in " ".join(child.cmdline())
        and "spawn_main" in " ".join(child.cmdline())
    ]


def test_two_api_processes_serve_one_catalogue(tmp_path: Path) -> None:
    server = _server.start_server(
        tmp_path,
        {"LOG_LEVEL": "warning", "APOLLONIA_ALLOW_ANONYMOUS_READ": "true"},
        {"APOLLONIA_WEB_WORKERS": "2", "APOLLONIA_RUN_WORKER": "false"},
        ready_path="/health/ready",
    )
    try:
        assert len(_api_processes(server.pid)) == 2
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as http:
            token = http.post("/graphql", json={"query": REGISTER}).json()
            assert "errors" not in token, token
            headers = {"Authorization": f"Bearer {token['data']['register']['accessToken']}"}
            created = http.post("/graphql", json={"query": CREATE}, headers=headers).json()
            track_id = created["data"]["createTrack"]["id"]
            # New connections land on either process; each reads the one graph.
            for _ in range(20):
                with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as fresh:
                    body = {"query": TRACK, "variables": {"id": track_id}}
                    data = fresh.post("/graphql", json=body).json()
                    assert data == {"data": {"track": {"id": track_id, "title": "Shared"}}}
        processes = _api_processes(server.pid)
    finally:
        server.stop()
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive
    assert server.db_pid() is None or not psutil.pid_exists(server.db_pid() or 0)
