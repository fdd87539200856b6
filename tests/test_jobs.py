"""Jobs: a killed worker's job runs again and completes once; library scans are
incremental and confined to the allowed roots; a similarity rebuild replaces every edge."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import GraphQLClient, LiveServer
from tests.test_upload_pipeline import JOB, upload, wait_for_job, wav_bytes

JOBS = """query($status: JobStatus) { jobs(first: 50, status: $status) {
  edges { node { id kind status } } pageInfo { hasNextPage } } }"""
SCAN = "mutation($p: String!) { scanLibrary(path: $p) { id kind status } }"
TRACKS = "{ tracks(first: 50) { edges { node { id title missing analysisStatus } } } }"


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    return worker_settings


def _worker_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "APOLLONIA_DATA_DIR": settings.data_dir,
        "REDIS_URL": settings.redis_url,
        "GRAPH_NAME": settings.graph_name,
        "APOLLONIA_MEDIA_DIR": settings.media_dir,
        "APOLLONIA_WORKER_HEARTBEAT_MS": str(settings.worker_heartbeat_ms),
        "APOLLONIA_WORKER_MAINTENANCE_CHANCE": "1000000",
        "APOLLONIA_JOB_MIN_BACKOFF_MS": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "worker", "--data-dir", settings.data_dir],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _count(engine: GraphEngine, query: str) -> int:
    return int((await engine.read("count", query))[0]["n"])


async def test_a_killed_workers_job_is_retried_and_completed_once(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings, tmp_path: Path
) -> None:
    from workers.worker import build_worker

    # Long enough (10 minutes of audio) that the analysis is caught running.
    long = wav_bytes(tmp_path, af.mixture(124, "C", "major", seconds=600), "long.wav")
    process = _worker_process(settings)
    try:
        payload = (await upload(gql, long, "long.wav"))["data"]["uploadTrack"]
        job_id = payload["job"]["id"]
        deadline = asyncio.get_running_loop().time() + 60
        while (await gql.query(JOB, {"id": job_id}))["job"]["status"] != "running":
            assert asyncio.get_running_loop().time() < deadline, "the worker never started"
            assert process.poll() is None, "the worker died on its own"
            await asyncio.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    job = (await gql.query(JOB, {"id": job_id}))["job"]
    assert job["status"] == "running" and job["attempts"] == 1  # orphaned mid-job

    # Another worker takes over the dead one's message once its heartbeat has lapsed.
    running, queue = build_worker(settings, threads=1)
    running.start()
    try:
        job = await wait_for_job(gql, job_id, seconds=90)
    finally:
        running.stop(timeout=10_000)
        queue.close()
    assert job["status"] == "completed", job
    assert job["attempts"] == 2
    assert job["track"]["analysisStatus"] == "ANALYZED"
    assert job["result"]["tempo"] == pytest.approx(124, rel=0.02)
    assert await _count(engine, "MATCH (t:Track) RETURN count(t) AS n") == 1
    assert await _count(engine, "MATCH (j:Job) RETURN count(j) AS n") == 1


async def test_scan_is_incremental_and_marks_vanished_files_missing(
    live: LiveServer, gql: GraphQLClient, worker: Any, settings: Settings, engine: GraphEngine
) -> None:
    library = Path(settings.scan_roots[0])
    (library / "album").mkdir()
    af.write(library / "album" / "one.wav", af.click_track(100, seconds=6), 22050)
    af.write(library / "two.flac", af.mixture(128, "D", "minor", seconds=6), 22050)
    (library / "readme.mp3").write_text("not audio")  # refused, reported, not catalogued

    job = (await gql.query(SCAN, {"p": str(library)}))["scanLibrary"]
    assert job["kind"] == "scan"
    done = await wait_for_job(gql, job["id"])
    assert done["status"] == "completed", done
    assert done["result"]["added"] == 2 and done["result"]["refused"] == 1
    analysed = (await gql.query(JOBS, {"status": "completed"}))["jobs"]["edges"]
    deadline = asyncio.get_running_loop().time() + 60
    while len([e for e in analysed if e["node"]["kind"] == "analyze"]) < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
        analysed = (await gql.query(JOBS, {"status": "completed"}))["jobs"]["edges"]

    # Unchanged files are skipped; a rewritten one is re-read; a deleted one goes missing.
    again = await wait_for_job(
        gql, (await gql.query(SCAN, {"p": str(library)}))["scanLibrary"]["id"]
    )
    assert (again["result"]["added"], again["result"]["updated"]) == (0, 0)
    assert again["result"]["unchanged"] == 2
    af.write(library / "two.flac", af.mixture(90, "E", "major", seconds=8), 22050)
    (library / "album" / "one.wav").unlink()
    third = await wait_for_job(
        gql, (await gql.query(SCAN, {"p": str(library)}))["scanLibrary"]["id"]
    )
    assert third["result"]["updated"] == 1 and third["result"]["missing"] == 1
    tracks = {e["node"]["title"]: e["node"] for e in (await gql.query(TRACKS))["tracks"]["edges"]}
    assert tracks["one"]["missing"] is True  # kept, not deleted
    assert tracks["two"]["missing"] is False
    assert await _count(engine, "MATCH (t:Track) RETURN count(t) AS n") == 2


@pytest.mark.parametrize(
    "path",
    ["/etc", "relative/music", "{root}/../{root_name}", "{root}/nope"],
)
async def test_scan_refuses_paths_outside_the_roots(
    live: LiveServer, gql: GraphQLClient, settings: Settings, engine: GraphEngine, path: str
) -> None:
    root = Path(settings.scan_roots[0])
    asked = path.format(root=root, root_name=root.name)
    error = await gql.error(SCAN, {"p": asked})
    expected = "PATH_NOT_FOUND" if asked.endswith("nope") else "PATH_NOT_ALLOWED"
    assert error["extensions"]["code"] == expected
    assert await _count(engine, "MATCH (j:Job) RETURN count(j) AS n") == 0


async def test_scan_does_not_follow_a_symlink_out_of_the_root(
    live: LiveServer, gql: GraphQLClient, worker: Any, settings: Settings, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    af.write(outside / "secret.wav", af.click_track(90, seconds=4), 22050)
    library = Path(settings.scan_roots[0])
    (library / "link").symlink_to(outside)
    (library / "file-link.wav").symlink_to(outside / "secret.wav")
    done = await wait_for_job(
        gql, (await gql.query(SCAN, {"p": str(library)}))["scanLibrary"]["id"]
    )
    assert done["result"]["added"] == 0


async def test_rebuild_similarity_refits_and_replaces_every_edge(
    live: LiveServer, gql: GraphQLClient, worker: Any, engine: GraphEngine, tmp_path: Path
) -> None:
    for i, (bpm, key, mode) in enumerate(
        [(120, "A", "minor"), (122, "A", "minor"), (90, "E", "major")]
    ):
        content = wav_bytes(tmp_path, af.mixture(bpm, key, mode, seconds=8), f"{i}.wav")
        payload = (await upload(gql, content, f"{i}.wav"))["data"]["uploadTrack"]
        assert (await wait_for_job(gql, payload["job"]["id"]))["status"] == "completed"
    job = (await gql.query("mutation { rebuildSimilarity { id kind status } }"))[
        "rebuildSimilarity"
    ]
    done = await wait_for_job(gql, job["id"])
    assert done["status"] == "completed", done
    assert done["result"]["tracks"] == 3 and done["result"]["scalerVersion"] == 1
    # Standardised over three tracks, unlike pairs point apart (cosine < 0, under the
    # minimum score of 0): the two A-minor tracks at 120/122 BPM keep their edges.
    edges = await engine.read(
        "e",
        "MATCH (a:Track)-[r:SIMILAR_TO]->(b:Track) RETURN a.title AS a, b.title AS b, r.score AS s",
    )
    assert done["result"]["edges"] == len(edges)
    assert {(e["a"], e["b"]) for e in edges} >= {("0", "1"), ("1", "0")}
    assert all(e["s"] >= 0 for e in edges)
    versions = await engine.read("v", "MATCH (t:Track) RETURN DISTINCT t.embedding_version AS v")
    assert versions == [{"v": 1}]
    # A second rebuild refits (version 2) and still leaves exactly one edge per pair.
    again = await wait_for_job(
        gql, (await gql.query("mutation { rebuildSimilarity { id } }"))["rebuildSimilarity"]["id"]
    )
    assert again["result"]["scalerVersion"] == 2
    pairs = await engine.read(
        "p", "MATCH (a:Track)-[r:SIMILAR_TO]->(b:Track) RETURN a.id AS a, b.id AS b"
    )
    assert len(pairs) == len(edges) == len({(p["a"], p["b"]) for p in pairs})


async def test_rebuild_needs_admin_and_jobs_are_private(
    live: LiveServer, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    from tests.support import user_token

    _, token = await user_token(engine, settings, "user")
    user = gql.as_(token)
    error = await user.error("mutation { rebuildSimilarity { id } }")
    assert error["extensions"]["code"] == "FORBIDDEN"
    job = (await gql.query("mutation { rebuildSimilarity { id } }"))["rebuildSimilarity"]
    assert (await user.query(JOB, {"id": job["id"]}))["job"] is None
    assert (await user.query(JOBS))["jobs"]["edges"] == []
    assert len((await gql.query(JOBS))["jobs"]["edges"]) == 1


async def test_a_given_embedding_takes_part_in_similarity(
    live: LiveServer, gql: GraphQLClient, worker: Any, engine: GraphEngine
) -> None:
    create = "mutation($t: String!) { createTrack(input: {title: $t}) { id } }"
    upsert = """mutation($id: ID!, $v: [Float!]!) {
      upsertEmbedding(trackId: $id, type: "audio", vector: $v) { id } }"""
    a = (await gql.query(create, {"t": "a"}))["createTrack"]["id"]
    b = (await gql.query(create, {"t": "b"}))["createTrack"]["id"]
    base = [1.0] + [0.0] * 63
    near = [0.9, 0.1] + [0.0] * 62
    await gql.query(upsert, {"id": a, "v": base})
    await gql.query(upsert, {"id": b, "v": near})
    deadline = asyncio.get_running_loop().time() + 30
    query = "MATCH (x:Track)-[r:SIMILAR_TO]->(y:Track) RETURN x.title AS x, y.title AS y"
    while len(rows := await engine.read("e", query)) < 2:
        assert asyncio.get_running_loop().time() < deadline, rows
        await asyncio.sleep(0.1)
    assert {(r["x"], r["y"]) for r in rows} == {("a", "b"), ("b", "a")}


async def _analysed_upload(
    gql: GraphQLClient, tmp_path: Path, engine: GraphEngine
) -> tuple[str, Path]:
    content = wav_bytes(tmp_path, af.mixture(110, "G", "major", seconds=6), "ok.wav")
    payload = (await upload(gql, content, "ok.wav"))["data"]["uploadTrack"]
    assert (await wait_for_job(gql, payload["job"]["id"]))["status"] == "completed"
    track_id = payload["track"]["id"]
    [row] = await engine.read(
        "p", "MATCH (t:Track {id: $id}) RETURN t.file_path AS p", {"id": track_id}
    )
    return track_id, Path(row["p"])


ANALYZE = "mutation($id: ID!) { analyzeTrack(id: $id) { id status } }"


async def test_transient_failures_are_retried_three_times_with_backoff(
    live: LiveServer, gql: GraphQLClient, worker: Any, engine: GraphEngine, tmp_path: Path
) -> None:
    track_id, path = await _analysed_upload(gql, tmp_path, engine)
    path.unlink()  # an unmounted drive, say: worth retrying, then a clear failure
    job = (await gql.query(ANALYZE, {"id": track_id}))["analyzeTrack"]
    started = asyncio.get_running_loop().time()
    done = await wait_for_job(gql, job["id"])
    assert done["status"] == "failed"
    assert done["attempts"] == 4  # the first run and 3 retries
    assert done["errorCode"] == "FILE_MISSING"
    # Backoff of at least 0.2 + 0.4 + 0.8 s (doubling from APOLLONIA_JOB_MIN_BACKOFF_MS).
    assert asyncio.get_running_loop().time() - started >= 1.0
    assert done["track"]["analysisStatus"] == "FAILED"
    assert done["track"]["analysisError"]["code"] == "FILE_MISSING"


@pytest.mark.parametrize("damage", ["silence", "truncation"])
async def test_bad_audio_fails_at_once_and_the_track_keeps_the_reason(
    live: LiveServer,
    gql: GraphQLClient,
    worker: Any,
    engine: GraphEngine,
    tmp_path: Path,
    damage: str,
) -> None:
    track_id, path = await _analysed_upload(gql, tmp_path, engine)
    if damage == "silence":
        af.write(path.with_suffix(".tmp.wav"), af.click_track(110, seconds=6) * 0.0, 22050)
        path.with_suffix(".tmp.wav").replace(path)
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    job = (await gql.query(ANALYZE, {"id": track_id}))["analyzeTrack"]
    done = await wait_for_job(gql, job["id"])
    expected = "SILENT_AUDIO" if damage == "silence" else "INVALID_AUDIO"
    assert (done["status"], done["errorCode"], done["attempts"]) == ("failed", expected, 1)
    assert done["track"]["analysisStatus"] == "FAILED"
    assert done["track"]["analysisError"]["code"] == expected
    # The track and its earlier analysis are kept; only the status says it failed.
    assert await _count(engine, "MATCH (t:Track) RETURN count(t) AS n") == 1


PROCESSING = """subscription($id: ID!) { processingStatus(trackId: $id) {
  trackId jobId stage progress completed failed } }"""


async def test_a_job_waits_for_a_worker_and_reports_progress(
    live: LiveServer, gql: GraphQLClient, settings: Settings, tmp_path: Path
) -> None:
    from gql import Client, GraphQLRequest
    from gql.transport.websockets import WebsocketsTransport

    from workers.worker import build_worker

    content = wav_bytes(tmp_path, af.mixture(128, "D", "minor", seconds=8), "q.wav")
    payload = (await upload(gql, content, "q.wav"))["data"]["uploadTrack"]
    track_id, job_id = payload["track"]["id"], payload["job"]["id"]
    await asyncio.sleep(0.5)  # no worker yet: the job just waits in Redis
    assert (await gql.query(JOB, {"id": job_id}))["job"]["status"] == "queued"
    transport = WebsocketsTransport(
        url=live.url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        init_payload={"authorization": gql.headers["authorization"]},
    )
    events: list[dict[str, Any]] = []

    async def collect(session: Any) -> None:
        request = GraphQLRequest(PROCESSING, variable_values={"id": track_id})
        async for event in session.subscribe(request):
            events.append(event["processingStatus"])
            if event["processingStatus"]["completed"] or event["processingStatus"]["failed"]:
                return

    running, queue = build_worker(settings, threads=1)
    async with Client(transport=transport) as session:
        listening = asyncio.create_task(collect(session))
        await asyncio.sleep(0.3)
        running.start()
        try:
            await asyncio.wait_for(listening, 60)
        finally:
            running.stop(timeout=10_000)
            queue.close()
    assert [e["stage"] for e in events] == ["analyzing", "similarity", "completed"]
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)
    assert {e["jobId"] for e in events} == {job_id}
    assert events[-1]["completed"] is True


async def test_similarity_updated_reports_the_new_neighbour_count(
    live: LiveServer, gql: GraphQLClient, worker: Any
) -> None:
    from gql import Client, GraphQLRequest
    from gql.transport.websockets import WebsocketsTransport

    create = "mutation($t: String!) { createTrack(input: {title: $t}) { id } }"
    upsert = """mutation($id: ID!, $v: [Float!]!) {
      upsertEmbedding(trackId: $id, type: "audio", vector: $v) { id } }"""
    a = (await gql.query(create, {"t": "a"}))["createTrack"]["id"]
    b = (await gql.query(create, {"t": "b"}))["createTrack"]["id"]
    await gql.query(upsert, {"id": a, "v": [1.0] + [0.0] * 63})
    transport = WebsocketsTransport(
        url=live.url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        init_payload={"authorization": gql.headers["authorization"]},
    )
    request = GraphQLRequest(
        "subscription($id: ID!) { similarityUpdated(trackId: $id) { trackId neighbours } }",
        variable_values={"id": a},
    )
    async with Client(transport=transport) as session:

        async def first() -> Any:
            async for event in session.subscribe(request):
                if event["similarityUpdated"]["neighbours"] == 1:
                    return event
            return None

        waiting = asyncio.create_task(first())
        await asyncio.sleep(0.3)
        await gql.query(upsert, {"id": b, "v": [0.8, 0.2] + [0.0] * 62})
        event = await asyncio.wait_for(waiting, 30)
    assert event["similarityUpdated"] == {"trackId": a, "neighbours": 1}


async def test_features_given_through_the_api_join_the_similarity_graph(
    live: LiveServer, gql: GraphQLClient, worker: Any, engine: GraphEngine
) -> None:
    create = "mutation($t: String!) { createTrack(input: {title: $t}) { id } }"
    features = """mutation($id: ID!, $in: AudioFeaturesInput!) {
      setAudioFeatures(trackId: $id, input: $in) { id } }"""
    ids = {}
    for title, tempo, key, mode, energy in [
        ("house a", 124.0, "A", "minor", 0.8),
        ("house b", 125.0, "A", "minor", 0.78),
        ("ballad", 68.0, "D#", "major", 0.2),
    ]:
        ids[title] = (await gql.query(create, {"t": title}))["createTrack"]["id"]
        value = {"tempo": tempo, "key": key, "mode": mode, "energy": energy, "danceability": energy}
        await gql.query(features, {"id": ids[title], "in": value})
    query = """query($id: ID!) { track(id: $id) { embedding similar(first: 2) {
      score track { title } } } }"""
    deadline = asyncio.get_running_loop().time() + 30
    while not (found := (await gql.query(query, {"id": ids["house a"]}))["track"])["similar"]:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    assert len(found["embedding"]) == 64
    assert found["similar"][0]["track"]["title"] == "house b"
    before = found["embedding"]
    # A vector given directly is kept: features set later do not replace it.
    given = [0.0] * 63 + [1.0]
    await gql.query(
        """mutation($id: ID!, $v: [Float!]!) {
          upsertEmbedding(trackId: $id, type: "audio", vector: $v) { id } }""",
        {"id": ids["ballad"], "v": given},
    )
    await gql.query(features, {"id": ids["ballad"], "in": {"tempo": 70.0}})
    await asyncio.sleep(1.0)
    vector = (await gql.query(query, {"id": ids["ballad"]}))["track"]["embedding"]
    assert vector == pytest.approx(given)

    # A rebuild with a fitted scaler (two analysed-like raw vectors) places the
    # features-only tracks again, with the new scaler's version; the given one stays.
    for title in ("raw 1", "raw 2"):
        track = (await gql.query(create, {"t": title}))["createTrack"]["id"]
        raw = list(np.random.default_rng(len(title) + ord(title[-1])).normal(size=64))
        await engine.write(
            "raw", "MATCH (t:Track {id: $id}) SET t.embedding_raw = $raw", {"id": track, "raw": raw}
        )
    job = (await gql.query("mutation { rebuildSimilarity { id } }"))["rebuildSimilarity"]
    assert (await wait_for_job(gql, job["id"]))["result"]["scalerVersion"] == 1
    rows = await engine.read(
        "v",
        "MATCH (t:Track) WHERE t.title IN ['house a', 'ballad'] "
        "RETURN t.title AS title, t.embedding_version AS v",
    )
    assert {r["title"]: r["v"] for r in rows} == {"house a": 1, "ballad": None}
    after = (await gql.query(query, {"id": ids["house a"]}))["track"]["embedding"]
    assert after != pytest.approx(before)
    vector = (await gql.query(query, {"id": ids["ballad"]}))["track"]["embedding"]
    assert vector == pytest.approx(given)


async def test_a_scanned_file_cut_short_is_catalogued_and_fails_its_analysis(
    live: LiveServer, gql: GraphQLClient, worker: Any, settings: Settings
) -> None:
    library = Path(settings.scan_roots[0])
    whole = af.write(library / "whole.flac", af.click_track(120, seconds=20), 22050)
    (library / "cut.flac").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    done = await wait_for_job(
        gql, (await gql.query(SCAN, {"p": str(library)}))["scanLibrary"]["id"]
    )
    assert (done["result"]["added"], done["result"]["refused"]) == (1, 0)
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        [track] = [e["node"] for e in (await gql.query(TRACKS))["tracks"]["edges"]]
        if track["analysisStatus"] == "FAILED":
            break
        assert asyncio.get_running_loop().time() < deadline, track
        await asyncio.sleep(0.1)
    failed = await gql.query(
        "query($id: ID!) { track(id: $id) { analysisError { code } } }", {"id": track["id"]}
    )
    assert failed["track"]["analysisError"]["code"] == "INVALID_AUDIO"


async def test_queued_jobs_survive_a_restart_of_the_database_and_redis(tmp_path: Path) -> None:
    """The queue lives in the embedded server's Redis (AOF on), the job record in its
    graph: a job queued before a restart runs after it."""
    from graph.embedded import ensure_server
    from graph.engine.falkordb import FalkorDBEngine
    from graph.migrations import migrate
    from tests.support import make_settings, user_token
    from workers.worker import build_worker

    own = ensure_server(tmp_path / "db", appendfsync="always")
    graph_name = "restart"
    settings = make_settings(own, graph_name=graph_name, media_dir=str(tmp_path / "media"))
    first = FalkorDBEngine.from_socket(own.socket_path, graph_name)
    try:
        await migrate(first)
        live = LiveServer(first, settings)
        await live.start()
        try:
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
                _, token = await user_token(first, settings, "admin")
                client = GraphQLClient(http, token)
                content = wav_bytes(tmp_path, af.click_track(100, seconds=5), "r.wav")
                job_id = (await upload(client, content, "r.wav"))["data"]["uploadTrack"]["job"][
                    "id"
                ]
        finally:
            await live.stop()
    finally:
        await first.close()
    own.stop()

    again = ensure_server(tmp_path / "db")
    second = FalkorDBEngine.from_socket(again.socket_path, graph_name)
    running, queue = build_worker(settings, threads=1)
    running.start()
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            rows = await second.read(
                "job",
                "MATCH (j:Job {id: $id}) RETURN j.status AS s, j.attempts AS a",
                {"id": job_id},
            )
            if rows and rows[0]["s"] in ("completed", "failed"):
                break
            assert asyncio.get_running_loop().time() < deadline, rows
            await asyncio.sleep(0.1)
        assert rows == [{"s": "completed", "a": 1}]
    finally:
        running.stop(timeout=10_000)
        queue.close()
        await second.close()
        again.stop()
