"""Seed 000's media, search and analytics routes, as the seed shows them: filters that
work (`genre`, `artist`, `format`), pages of 50 up to 500 newest first, unknown
parameters refused by name, and the seed's response shapes."""

import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.engine import GraphEngine
from server.settings import Settings
from tests import audio_fixtures as af
from tests.support import GraphQLClient, user_token

V1 = "/api/v1"
IMPORT = "mutation Import($input: [CreateTrackInput!]!) { importTracks(input: $input) { count } }"


@pytest.fixture
def settings(worker_settings: Settings) -> Settings:
    # Uploads need the media folder of the worker's settings (no worker runs).
    return dataclasses.replace(worker_settings)


async def _admin(engine: GraphEngine, settings: Settings) -> dict[str, str]:
    _, token = await user_token(engine, settings, "admin")
    return {"authorization": f"Bearer {token}"}


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def test_media_filters_work(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings, tmp_path: Path
) -> None:
    admin = await _admin(engine, settings)
    for title, artist in (("So What", "Miles Davis"), ("Naima", "John Coltrane")):
        body = {"title": title, "artist": artist, "genre": "Jazz"}
        _ok(await client.post(f"{V1}/tracks", json=body, headers=admin), 201)
    wav = af.write(tmp_path / "a.wav", af.click_track(100, seconds=2), 22050).read_bytes()
    uploaded = await client.post(
        f"{V1}/media/upload",
        files={"file": ("a.wav", wav, "audio/wav")},
        data={"metadata": '{"title": "Blue in Green", "artist": "Miles Davis"}'},
        headers=admin,
    )
    upload = _ok(uploaded, 201)["track"]
    # The request of issue #16, which answered with other artists.
    miles = _ok(await client.get(f"{V1}/media", params={"artist": "miles davis"}))
    assert {t["title"] for t in miles["items"]} == {"So What", "Blue in Green"}
    assert miles["total"] == 2 and miles["limit"] == 50 and miles["offset"] == 0
    wav_only = _ok(
        await client.get(f"{V1}/media", params={"artist": "Miles Davis", "format": "WAV"})
    )
    assert [t["id"] for t in wav_only["items"]] == [upload["id"]]
    mp3 = _ok(await client.get(f"{V1}/media", params={"artist": "Miles Davis", "format": "mp3"}))
    assert mp3["items"] == [] and mp3["total"] == 0
    jazz = _ok(await client.get(f"{V1}/media", params={"genre": "jazz"}))
    assert {t["title"] for t in jazz["items"]} == {"So What", "Naima"}
    # Seed 000: sort=created_at, order=desc by default.
    newest = _ok(await client.get(f"{V1}/media"))
    assert newest["items"][0]["id"] == upload["id"]
    unknown = await client.get(f"{V1}/media", params={"artist": "x", "colour": "blue"})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["field"] == "colour"


async def test_media_pages_hold_up_to_500(
    client: httpx.AsyncClient, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    await gql.query(IMPORT, {"input": [{"title": f"T{i:03}"} for i in range(130)]})
    page = _ok(await client.get(f"{V1}/media", params={"limit": 500, "sort": "title"}))
    assert page["total"] == 130 and page["limit"] == 500
    assert [t["title"] for t in page["items"]] == [f"T{i:03}" for i in range(129, -1, -1)]
    window = _ok(
        await client.get(
            f"{V1}/media", params={"limit": 120, "offset": 5, "sort": "title", "order": "asc"}
        )
    )
    assert [t["title"] for t in window["items"]] == [f"T{i:03}" for i in range(5, 125)]
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}):
        refused = await client.get(f"{V1}/media", params=bad)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["details"]["field"] == next(iter(bad))


async def test_search_pages_and_shape(
    client: httpx.AsyncClient, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    await gql.query(IMPORT, {"input": [{"title": f"Blue {i}"} for i in range(5)]})
    first = _ok(await client.get(f"{V1}/search", params={"q": "blue", "mode": "text"}))
    # Seed 000's SearchResponse: {query, results, total, took_ms}.
    assert {"query", "results", "total", "took_ms"} <= set(first)
    assert first["query"] == "blue" and len(first["results"]) == 5 and first["took_ms"] >= 0
    ids = [r["item"]["id"] for r in first["results"]]
    # The request of issue #16: offset 1 used to answer offset 0's items.
    shifted = _ok(
        await client.get(
            f"{V1}/search", params={"q": "blue", "limit": 2, "offset": 1, "mode": "text"}
        )
    )
    assert [r["item"]["id"] for r in shifted["results"]] == ids[1:3]
    assert shifted["offset"] == 1 and shifted["limit"] == 2
    # `total` is every page's hits, not the hits up to the end of this page.
    assert first["total"] == shifted["total"] == 5
    hybrid = _ok(await client.get(f"{V1}/search", params={"q": "blue", "limit": 1}))
    assert hybrid["total"] == 5 and len(hybrid["results"]) == 1
    none = _ok(await client.get(f"{V1}/search", params={"q": "zzzz", "mode": "text"}))
    assert none["total"] == 0 and none["results"] == []
    only_artists = _ok(
        await client.get(f"{V1}/search", params={"q": "blue", "fields": "artist", "mode": "text"})
    )
    assert only_artists["results"] == []
    assert (await client.get(f"{V1}/search", params={"q": "blue", "limit": 501})).status_code == 422
    assert (await client.get(f"{V1}/search", params={"q": ""})).status_code == 422


async def test_suggest_bounds_and_shape(
    client: httpx.AsyncClient, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    await gql.query(IMPORT, {"input": [{"title": "Blue in Green"}]})
    found = _ok(await client.get(f"{V1}/search/suggest", params={"q": "Bl", "limit": 50}))
    assert [s["text"] for s in found["suggestions"]] == ["Blue in Green"]
    # Seed 000: `q: str = Query(..., min_length=2)`, `limit: int = Query(10, le=50)`.
    short = await client.get(f"{V1}/search/suggest", params={"q": "B"})
    assert short.status_code == 422 and short.json()["error"]["details"]["field"] == "q"
    over = await client.get(f"{V1}/search/suggest", params={"q": "Bl", "limit": 51})
    assert over.status_code == 422 and over.json()["error"]["details"]["field"] == "limit"


async def test_analytics_shapes(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _admin(engine, settings)
    track = _ok(await client.post(f"{V1}/tracks", json={"title": "T"}, headers=admin), 201)
    trends = _ok(await client.get(f"{V1}/analytics/trends", headers=admin))
    # Seed 000: {"trends": …, "period": …, "metric": …}, period week and metric uploads.
    assert trends["period"] == "week" and trends["metric"] == "uploads"
    assert trends["trends"][-1]["value"] == 1
    similar = _ok(await client.get(f"{V1}/analytics/similar/{track['id']}", headers=admin))
    assert similar == {"similar_media": []}
    over = await client.get(
        f"{V1}/analytics/similar/{track['id']}", params={"limit": 51}, headers=admin
    )
    assert over.status_code == 422


async def test_delete_answers_a_message_and_years_are_bounded(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    admin = await _admin(engine, settings)
    for year in (1899, 2101):
        refused = await client.post(
            f"{V1}/tracks", json={"title": "T", "year": year}, headers=admin
        )
        assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "year"
    track = _ok(
        await client.post(f"{V1}/tracks", json={"title": "T", "year": 1900}, headers=admin), 201
    )
    deleted = _ok(await client.delete(f"{V1}/media/{track['id']}", headers=admin))
    assert deleted["message"] == "Media deleted successfully"
    assert (await client.delete(f"{V1}/media/{track['id']}", headers=admin)).status_code == 404
