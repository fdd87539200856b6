"""REST routes backed by uploads and jobs, and webhooks: a scan given a `webhook_url`
POSTs its summary, signed, to a real receiver on 127.0.0.1 that fails twice first."""

import asyncio
import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import user_token
from workers import webhooks

V1 = "/api/v1"
SECRET = "webhook-secret"


@pytest.fixture
def worker_settings(worker_settings: Settings) -> Settings:
    return dataclasses.replace(
        worker_settings, webhook_allow_private=True, webhook_secret=SECRET, webhook_backoff_ms=50
    )


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    return worker_settings


class Receiver:
    """An HTTP endpoint that answers 500 to the first `failures` POSTs, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.delivered = asyncio.Event()
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        headers = {
            k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((headers, body))
        ok = len(self.requests) > self.failures
        status = b"200 OK" if ok else b"500 Internal Server Error"
        writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        if ok:
            self.delivered.set()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(failures=2)
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    found.url = f"http://127.0.0.1:{port}/hook"
    async with server:
        yield found


async def _admin(engine: GraphEngine, settings: Settings) -> dict[str, str]:
    _, token = await user_token(engine, settings, "admin")
    return {"authorization": f"Bearer {token}"}


async def _wait(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    for _ in range(600):
        job = (await client.get(path, headers=headers)).json()["data"]
        if job["status"] in ("completed", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(job)


async def test_scan_posts_a_signed_webhook(
    client: httpx.AsyncClient,
    worker: Any,
    engine: GraphEngine,
    settings: Settings,
    receiver: Receiver,
) -> None:
    admin = await _admin(engine, settings)
    library = Path(settings.scan_roots[0])
    af.write(library / "click.wav", af.click_track(120, seconds=3), 22050)
    started = await client.post(
        f"{V1}/scan", json={"path": str(library), "webhook_url": receiver.url}, headers=admin
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "scan" and job["status"] == "queued"
    await asyncio.wait_for(receiver.delivered.wait(), 60)
    assert len(receiver.requests) == 3  # two failures, then delivered
    headers, body = receiver.requests[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-apollonia-signature"] == expected
    payload = json.loads(body)
    assert payload["jobId"] == job["id"] and payload["kind"] == "scan"
    assert payload["result"]["added"] == 1
    done = await _wait(client, f"{V1}/batch/{job['id']}", admin)
    assert done["status"] == "completed" and done["result"]["added"] == 1
    assert (await client.get(f"{V1}/prediction/{job['id']}", headers=admin)).status_code == 200

    outside = await client.post(f"{V1}/scan", json={"path": "/etc"}, headers=admin)
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "PATH_NOT_ALLOWED"
    bad_hook = await client.post(
        f"{V1}/scan", json={"path": str(library), "webhook_url": "ftp://x"}, headers=admin
    )
    assert bad_hook.status_code == 422


async def test_upload_and_predictions(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings, tmp_path: Path
) -> None:
    admin = await _admin(engine, settings)
    wav = af.write(tmp_path / "a.wav", af.click_track(100, seconds=3), 22050).read_bytes()
    uploaded = await client.post(
        f"{V1}/media/upload",
        files={"file": ("a.wav", wav, "audio/wav")},
        data={"metadata": json.dumps({"title": "Click", "artist": "Metronome"})},
        headers=admin,
    )
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert body["track"]["title"] == "Click" and body["track"]["artist"] == "Metronome"
    assert body["duplicate"] is False and body["job"]["kind"] == "analyze"
    again = await client.post(
        f"{V1}/media/upload", files={"file": ("b.wav", wav, "audio/wav")}, headers=admin
    )
    assert again.json()["duplicate"] is True
    junk = await client.post(
        f"{V1}/media/upload", files={"file": ("x.wav", b"not audio", "audio/wav")}, headers=admin
    )
    assert junk.status_code == 422 and junk.json()["error"]["code"] == "INVALID_AUDIO"
    no_file = await client.post(f"{V1}/media/upload", data={"metadata": "{}"}, headers=admin)
    assert no_file.status_code == 422

    predict = await client.post(
        f"{V1}/predict", files={"file": ("a.wav", wav, "audio/wav")}, headers=admin
    )
    assert predict.status_code == 409 and predict.json()["error"]["code"] == "NO_MODEL"
    batch = await client.post(
        f"{V1}/batch-predict",
        files=[("files", ("a.wav", wav, "audio/wav"))],
        data={"webhook_url": "https://example.com/hook"},
        headers=admin,
    )
    assert batch.status_code == 409 and batch.json()["error"]["code"] == "NO_MODEL"


def test_webhook_urls_are_checked() -> None:
    strict = Settings(webhook_allowed_hosts=("hooks.example.com", ".example.org"))
    webhooks.check_url("https://hooks.example.com/x", strict)
    webhooks.check_url("https://a.example.org/x", strict)
    for url in (
        "https://evil.example.net/x",
        "ftp://hooks.example.com/x",
        "https:///nohost",
    ):
        with pytest.raises(webhooks.ValidationError):
            webhooks.check_url(url, strict)
    anywhere = Settings()
    webhooks.check_url("https://example.com/hook", anywhere)
    for url in (
        "http://127.0.0.1/x",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://169.254.169.254/",
        "http://localhost:8000/",
    ):
        with pytest.raises(webhooks.ValidationError):
            webhooks.check_url(url, anywhere)
    webhooks.check_url("http://127.0.0.1/x", Settings(webhook_allow_private=True))


async def test_a_failed_job_tells_its_webhook(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings, receiver: Receiver
) -> None:
    from workers.worker import build_worker

    admin = await _admin(engine, settings)
    folder = Path(settings.scan_roots[0]) / "gone"
    folder.mkdir()
    started = await client.post(
        f"{V1}/scan", json={"path": str(folder), "webhook_url": receiver.url}, headers=admin
    )
    assert started.status_code == 202, started.text
    folder.rmdir()  # before any worker runs the job: the scan fails for good
    running, queue = build_worker(settings, threads=1)
    running.start()
    try:
        await asyncio.wait_for(receiver.delivered.wait(), 60)
    finally:
        running.stop(timeout=10_000)
        queue.close()
    payload = json.loads(receiver.requests[-1][1])
    assert (payload["event"], payload["status"]) == ("job.failed", "failed")
    assert payload["error"]["code"] == "PATH_NOT_FOUND"
    assert payload["jobId"] == started.json()["id"]
