"""`/metrics`: requests by route template and GraphQL operation, WebSockets and
subscriptions, job figures; with bounded labels."""

import asyncio
import json
import random
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from graph import jobs as records
from graph.engine import GraphEngine
from server.metrics import OTHER, OperationNames, Tally, operation_name
from server.settings import Settings
from tests.support import LiveServer, user_token
from workers import jobs

NAMED = "query TrackCount { tracks { totalCount } }"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    await client.get("/health/live")
    await client.get("/no/such/path/never-a-label")
    after = await scrape(client)
    labels = {"route": "/health/live", "method": "GET", "status": "200"}
    assert sample(after, "apollonia_http_requests_total", **labels) == (
        sample(before, "apollonia_http_requests_total", **labels) + 1
    )
    assert sample(after, "apollonia_http_request_duration_seconds_count", route="/health/live")
    assert sample(after, "apollonia_http_requests_total", route="unmatched", status="404") >= 1
    assert "never-a-label" not in after  # raw URLs never become labels


async def test_graphql_requests_are_counted_by_operation(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    await client.post("/graphql", json={"query": NAMED})
    await client.get("/graphql", params={"query": NAMED, "operationName": "TrackCount"})
    await client.post("/graphql", json={"query": "{ genres { name } }"})
    await client.post("/graphql", json={"query": "{ tracks { nope } }"})
    # A body that is no JSON: no name. A GET refused before the handler read it (a bad
    # credential): named from its query string all the same.
    bad = await client.post(
        "/graphql", content=b'{"query": "query Broken', headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400
    refused = await client.get(
        "/graphql",
        params={"query": NAMED},
        headers={"authorization": "Bearer not-a-token"},
    )
    assert refused.status_code == 401
    after = await scrape(client)

    def grew(operation: str, status: str) -> float:
        name = "apollonia_graphql_operations_total"
        labels = {"operation": operation, "status": status}
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("TrackCount", "200") == 2
    assert grew("anonymous", "200") == 1
    assert grew("anonymous", "400") == 2
    assert grew("TrackCount", "401") == 1
    assert sample(
        after, "apollonia_graphql_operation_duration_seconds_count", operation="TrackCount"
    )
    http = {"route": "/graphql", "method": "POST", "status": "400"}
    assert sample(after, "apollonia_http_requests_total", **http) >= 1


def test_operation_names_are_bounded() -> None:
    names = OperationNames(limit=2)
    assert [names.label(n) for n in ("A", "B", "C", "A")] == ["A", "B", OTHER, "A"]
    assert names.label(None) == "anonymous"
    assert names.label("x" * 65) == OTHER
    assert names.label("not a name") == OTHER
    assert operation_name({"query": "mutation Login($p: String) { x }"}) == "Login"
    assert operation_name({"query": "{ x }", "operationName": "Given"}) == "Given"
    assert operation_name([{"query": "{ x }"}]) == "batch"


async def test_websockets_and_subscriptions_are_gauged(
    live: LiveServer, client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "user")
    before = await scrape(client)
    base = live.url.replace("http://", "ws://")
    async with (
        connect(f"{base}/ws?token={token}") as events,
        connect(f"{base}/graphql", subprotocols=["graphql-transport-ws"]) as gql,  # type: ignore[list-item]
    ):
        await asyncio.wait_for(events.recv(), 5)  # authenticated
        await events.send(json.dumps({"type": "subscribe", "event_type": "media.added"}))
        await asyncio.wait_for(events.recv(), 5)  # subscription_confirmed
        await gql.send(json.dumps({"type": "connection_init", "payload": {}}))
        await asyncio.wait_for(gql.recv(), 5)  # connection_ack
        subscribe = {"query": "subscription { mediaAdded { timestamp } }"}
        await gql.send(json.dumps({"type": "subscribe", "id": "1", "payload": subscribe}))
        await asyncio.sleep(0.3)
        during = await scrape(client)
    await asyncio.sleep(0.3)
    after = await scrape(client)

    def gauge(text: str, name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before, name, **labels)

    for route in ("/ws", "/graphql"):
        assert gauge(during, "apollonia_websocket_connections", route=route) == 1
        assert gauge(after, "apollonia_websocket_connections", route=route) == 0
    for protocol in ("ws", "graphql-transport-ws"):
        assert gauge(during, "apollonia_subscriptions", protocol=protocol) == 1
        assert gauge(after, "apollonia_subscriptions", protocol=protocol) == 0


async def test_job_figures(engine: GraphEngine, client: httpx.AsyncClient) -> None:
    kind = "metrics_probe"

    @jobs.handler(kind)
    async def probe(ctx: jobs.JobContext) -> dict[str, Any]:
        return {"ok": True}

    try:
        queued = await records.create_job(engine, kind, {}, None)
        text = await scrape(client)
        assert sample(text, "apollonia_job_records", kind=kind, status="queued") == 1

        async def publish(*_: Any) -> None:
            return None

        done = await jobs.execute(engine, queued["id"], publish, None, None, 0)  # type: ignore[arg-type]
        assert done is not None and done["status"] == "completed"
        text = await scrape(client)
        assert sample(text, "apollonia_job_records", kind=kind, status="completed") == 1
        assert sample(text, "apollonia_job_records", kind=kind, status="queued") == 0
        labels = {"kind": kind, "status": "completed"}
        assert REGISTRY.get_sample_value("apollonia_jobs_total", labels) == 1
        assert REGISTRY.get_sample_value("apollonia_job_duration_seconds_count", labels) == 1
    finally:
        jobs.HANDLERS.pop(kind, None)


def test_the_tally_hands_over_what_direct_observations_would_show() -> None:
    """`Tally` writes prometheus_client's bucket and sum values itself: the exposition must
    be the one that observing each value directly gives, edges of buckets included."""
    rng = random.Random(5)
    values = [rng.choice([0.005, 0.01, 2.5, 10.0, 1e9]) for _ in range(50)]
    values += [rng.uniform(0, 12) for _ in range(500)]
    direct, tallied = CollectorRegistry(), CollectorRegistry()
    figures = {}
    for registry in (direct, tallied):
        counter = Counter("t_requests", "requests", ["route"], registry=registry)
        histogram = Histogram("t_seconds", "seconds", ["route"], registry=registry)
        figures[id(registry)] = (counter, histogram)
    counter, histogram = figures[id(direct)]
    for value in values:
        counter.labels("/a").inc()
        histogram.labels("/a").observe(value)
    tally = Tally()  # flushed by hand below
    counter, histogram = figures[id(tallied)]
    for value in values[:300]:
        tally.count(counter.labels("/a"))
        tally.observe(histogram.labels("/a"), value)
    assert generate_latest(tallied) != generate_latest(direct)  # nothing handed over yet
    tally.flush()
    for value in values[300:]:
        tally.count(counter.labels("/a"))
        tally.observe(histogram.labels("/a"), value)
    tally.flush()

    def samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
        # Creation times differ; sums are added in another order (rounding).
        return {
            (sample.name, str(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(generate_latest(registry).decode())
            for sample in family.samples
            if not sample.name.endswith("_created")
        }

    assert samples(tallied) == pytest.approx(samples(direct), rel=1e-12)
