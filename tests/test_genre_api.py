"""The genre model through the API, end to end: uploads with genres -> analysis jobs ->
trainGenreModel -> models / predictGenre / batchPredict / classifyTracks, against a live
server and a real worker on the embedded FalkorDB, with generated audio of three genres."""

import json
from pathlib import Path
from typing import Any

import pytest

from graph import genre_models
from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import GraphQLClient, LiveServer
from tests.test_genre_model import GENRES, SR
from tests.test_upload_pipeline import upload, wait_for_job

TRAIN_SEEDS = range(4)
NEW_SEED = 6
UNLABELLED_SEED = 7

TRAIN = "mutation { trainGenreModel { id kind status } }"
CLASSIFY = "mutation { classifyTracks { id kind status } }"
MODELS = """{ models { version accuracy macroF1 trainTracks testTracks classes createdAt
  deployed } }"""
DEPLOY = "mutation($v: Int!) { deployModel(version: $v) { version deployed } }"
PREDICT = """mutation($file: Upload!) { predictGenre(file: $file) {
  id genre confidence probabilities { genre probability } processingTimeMs modelVersion } }"""
BATCH = "mutation($files: [Upload!]!) { batchPredict(files: $files) { id kind status } }"
PREDICTION_JOB = "query($id: ID!) { job(id: $id) { kind status result } }"
JOB_ERROR = "query($id: ID!) { job(id: $id) { status errorCode errorMessage result } }"
MODEL_EDGES = "MATCH (:Track)-[r:IN_GENRE]->(:Genre) WHERE r.source = 'model' RETURN count(r) AS n"
TRACK_GENRES = "query($id: ID!) { track(id: $id) { genres { name } } }"


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    return worker_settings


def wav(tmp_path: Path, genre: str, seed: int) -> bytes:
    return af.write(tmp_path / f"{genre}{seed}.wav", GENRES[genre](seed), SR).read_bytes()


async def multipart(gql: GraphQLClient, document: str, files: dict[str, tuple[str, bytes]]) -> Any:
    """Post `document` with files at variable paths ("file", "files.0", ...)."""
    variables: dict[str, Any] = {}
    for path in files:
        name, _, index = path.partition(".")
        if index:
            variables.setdefault(name, []).append(None)
        else:
            variables[name] = None
    keys = {str(i): path for i, path in enumerate(files)}
    response = await gql.http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": document, "variables": variables}),
            "map": json.dumps({k: [f"variables.{p}"] for k, p in keys.items()}),
        },
        files={k: (files[p][0], files[p][1], "application/octet-stream") for k, p in keys.items()},
        headers=gql.headers,
    )
    return response.json()


async def run_job(gql: GraphQLClient, document: str) -> Any:
    [job] = (await gql.query(document)).values()
    return await wait_for_job(gql, job["id"], seconds=120)


async def analysed_upload(
    gql: GraphQLClient, content: bytes, name: str, genres: list[str] | None
) -> str:
    body = await upload(gql, content, name, {"genres": genres} if genres else None)
    payload = body["data"]["uploadTrack"]
    job = await wait_for_job(gql, payload["job"]["id"], seconds=120)
    assert job["status"] == "completed", job
    return str(payload["track"]["id"])


def no_files_left(settings: Settings) -> bool:
    media = Path(settings.resolved_media_dir)
    return not [p for p in media.glob(".predict/**/*") if p.is_file()] and not [
        p for p in media.glob(".incoming/*") if p.is_file()
    ]


async def test_without_a_model(
    live: LiveServer, gql: GraphQLClient, worker: Any, tmp_path: Path, settings: Settings
) -> None:
    error = await gql.error(DEPLOY, {"v": 99})
    assert error["extensions"]["code"] == "NOT_FOUND"
    body = await multipart(gql, PREDICT, {"file": ("t.wav", wav(tmp_path, "techno", 0))})
    assert body["errors"][0]["extensions"]["code"] == "NO_MODEL"
    body = await multipart(gql, BATCH, {"files.0": ("t.wav", wav(tmp_path, "techno", 0))})
    assert body["errors"][0]["extensions"]["code"] == "NO_MODEL"
    assert (await gql.error(CLASSIFY))["extensions"]["code"] == "NO_MODEL"
    assert no_files_left(settings)

    # Too few labelled tracks: the training job fails with the reason.
    job = await run_job(gql, TRAIN)
    assert (job["status"], job["errorCode"]) == ("failed", "VALIDATION_ERROR")
    assert (await gql.query(MODELS))["models"] == []


async def test_train_predict_and_classify(
    live: LiveServer,
    gql: GraphQLClient,
    worker: Any,
    engine: GraphEngine,
    tmp_path: Path,
    settings: Settings,
) -> None:
    for genre in GENRES:
        for seed in TRAIN_SEEDS:
            await analysed_upload(gql, wav(tmp_path, genre, seed), f"{genre}{seed}.wav", [genre])
    # Analysed before any model exists: it stays without a genre until classifyTracks.
    content = wav(tmp_path, "pop", UNLABELLED_SEED)
    track_id = await analysed_upload(gql, content, "untagged.wav", None)

    job = await run_job(gql, TRAIN)
    assert job["status"] == "completed", job
    assert job["result"]["version"] == 1
    assert job["result"]["deployed"] is True
    [model] = (await gql.query(MODELS))["models"]
    assert model["version"] == 1 and model["deployed"] is True
    assert sorted(model["classes"]) == sorted(GENRES)
    assert model["trainTracks"] + model["testTracks"] == len(GENRES) * len(TRAIN_SEEDS)
    assert 0.0 <= model["macroF1"] <= 1.0
    assert model["accuracy"] >= 2 / 3  # chance is 1/3

    # New files of each genre: the right genre, nothing stored.
    for genre in GENRES:
        body = await multipart(gql, PREDICT, {"file": ("x.wav", wav(tmp_path, genre, NEW_SEED))})
        prediction = body["data"]["predictGenre"]
        assert (prediction["genre"], prediction["modelVersion"]) == (genre, 1), prediction
        assert prediction["confidence"] == prediction["probabilities"][0]["probability"]
        assert {p["genre"] for p in prediction["probabilities"]} == set(GENRES)
        assert prediction["processingTimeMs"] > 0
        # Its id reads it back: as a finished job, and as seed 002's prediction status.
        recorded = (await gql.query(PREDICTION_JOB, {"id": prediction["id"]}))["job"]
        assert (recorded["kind"], recorded["status"]) == ("predict", "completed")
        assert recorded["result"]["genre"] == genre
        status = await gql.http.get(f"/api/v1/prediction/{prediction['id']}", headers=gql.headers)
        assert status.status_code == 200, status.text
        data = status.json()["data"]
        assert data["prediction_id"] == prediction["id"] and data["status"] == "completed"
        assert (data["genre"], data["confidence"]) == (genre, prediction["confidence"])
        assert data["completed_at"] is not None
    tracks = await engine.read("count", "MATCH (t:Track) RETURN count(t) AS n")
    assert tracks == [{"n": len(GENRES) * len(TRAIN_SEEDS) + 1}]  # + the untagged one

    # A batch: one prediction or error per file, in order; the staged files are gone.
    files = {
        "files.0": ("a.wav", wav(tmp_path, "ambient", NEW_SEED)),
        "files.1": ("notes.wav", b"not audio at all" * 20),
        "files.2": ("t.wav", wav(tmp_path, "techno", NEW_SEED)),
    }
    body = await multipart(gql, BATCH, files)
    job = await wait_for_job(gql, body["data"]["batchPredict"]["id"], seconds=120)
    assert job["status"] == "completed", job
    results = job["result"]["predictions"]
    assert [r["filename"] for r in results] == ["a.wav", "notes.wav", "t.wav"]
    assert [r.get("genre") for r in results] == ["ambient", None, "techno"]
    assert results[1]["error"]["code"] == "INVALID_AUDIO"
    assert results[0]["modelVersion"] == 1
    assert no_files_left(settings)

    # A track without a genre gets the model's, marked as a prediction; the others keep
    # their own genre and get no second one.
    assert (await gql.query(TRACK_GENRES, {"id": track_id}))["track"]["genres"] == []
    job = await run_job(gql, CLASSIFY)
    assert job["status"] == "completed", job
    assert job["result"]["labelled"] == 1
    [edge] = await genre_models.predicted_genres(engine, [track_id])
    assert (edge["genre"], edge["version"]) == ("pop", 1)
    assert 0.0 < edge["confidence"] <= 1.0
    genres = (await gql.query(TRACK_GENRES, {"id": track_id}))["track"]["genres"]
    assert genres == [{"name": "pop"}]
    rows = await engine.read(
        "count",
        "MATCH (:Track)-[r:IN_GENRE]->(:Genre) WHERE r.source = 'model' RETURN count(r) AS n",
    )
    assert rows == [{"n": 1}]

    # Labelling again changes nothing.
    job = await run_job(gql, CLASSIFY)
    assert (job["status"], job["result"]["labelled"]) == ("completed", 0)

    # With a model deployed, analysis labels a new untagged track itself; a tagged one
    # keeps its own genre only.
    content = wav(tmp_path, "techno", UNLABELLED_SEED + 1)
    later = await analysed_upload(gql, content, "later.wav", None)
    assert (await gql.query(TRACK_GENRES, {"id": later}))["track"]["genres"] == [{"name": "techno"}]
    [edge] = await genre_models.predicted_genres(engine, [later])
    assert edge["version"] == 1
    content = wav(tmp_path, "ambient", UNLABELLED_SEED + 2)
    tagged = await analysed_upload(gql, content, "tagged.wav", ["Jazz"])
    assert await genre_models.predicted_genres(engine, [tagged]) == []

    # A second version is kept but not deployed until asked.
    job = await run_job(gql, TRAIN)
    assert (job["result"]["version"], job["result"]["deployed"]) == (2, False)
    deployed = (await gql.query(DEPLOY, {"v": 2}))["deployModel"]
    assert deployed == {"version": 2, "deployed": True}
    listed = (await gql.query(MODELS))["models"]
    assert [(m["version"], m["deployed"]) for m in listed] == [(2, True), (1, False)]
