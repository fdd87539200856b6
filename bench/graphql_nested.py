"""GraphQL vs. raw Cypher: what the API layer costs on a lookup and on a nested page.

Run from the repository root:

    .venv/bin/python bench/graphql_nested.py --tracks 10000
    .venv/bin/python bench/graphql_nested.py --tracks 1000 --duration 2    # quick
    APOLLONIA_WEB_WORKERS=2 .venv/bin/python bench/graphql_nested.py ...  # 2 API processes

What it does:

1. Starts an embedded FalkorDB in a fresh data folder (a temporary one unless
   `--data-dir`), migrates it and imports `--tracks` tracks with `create_tracks`, 500 per
   transaction: about N/10 artists, N/10 albums and 20 genres, 1-2 artists and 1-2 genres
   per track (bench/_load.py); then writes the snapshot the load made due, so that no
   background save forks during the measurements (bench/_server.settle_persistence).
2. Starts the real server as a subprocess (`apollonia serve --data-dir D --port P` on
   127.0.0.1; LOG_LEVEL=warning, anonymous reads and a query rate limit too high to
   refuse anything, unless the environment says otherwise) over that data and waits
   for /health.
3. Measures, each for `--duration` seconds after a short warm-up and at most
   `--max-requests` requests, only against 127.0.0.1:
   - `track(id)` with random ids and the nested page
     `tracks(first: 50) { edges { node { id title duration year artists { name }
     album { title artist { name } } genres { name } } } }` over 20 different pages
     (4 sort orders x 5 cursors; one document text, so the server's document cache is
     used) at `--concurrency` closed-loop clients and sequentially (1 client): requests/s,
     p50/p99 latency and the server's own time (its `Server-Timing: app;dur=` header);
   - beside each, the single equivalent Cypher query sent through the same engine client
     (`FalkorDBEngine.read` on the same graph) from this process, at the same concurrency:
     for the page, ONE query that returns the 50 tracks with their artists, album (with
     its artist) and genres collected, selected by the same `tracks_page` clauses;
   - graph round trips per request, from the server's `apollonia_graph_queries_total`
     counter at /metrics before and after a known number of requests (and all commands
     the embedded FalkorDB/Redis server processed meanwhile: rate limiting and the like);
   - the pure graphql-core floor: the same page document executed by graphql-core over the
     same 50 tracks already held in plain dicts (the SDL made executable with a single
     root resolver returning a prebuilt connection; parsed once, no validation), median;
     the server's executor over the same rows and schema (server/plain_fields.py; its
     answer must equal graphql-core's); and the server's median time for the page,
     sequentially, against the floor;
   - each sort order's page alone, sequentially (server time and single Cypher), first
     as loaded, then after `apollonia compact` (the database reloaded in one piece, as
     after a restart: FalkorDB's node properties, scattered by the import's writes, lie
     together again; graph.embedded.compact). With several `--tracks` sizes every
     size's database and server stay up, and these pages are measured at the end side by
     side: `--rounds` rounds alternating between the sizes (their order reversed every
     other round), each size's figure the median of its rounds, so that the machine's
     drift over the minutes between sizes does not pass for growth; then the growth of
     both from the smallest size to the largest.
4. Prints a table and the targets (track(id) >= 1,000 req/s with p99 < 25 ms at 32
   clients; nested-page server time <= 1.5x the graphql-core floor), then stops the
   server and the embedded FalkorDB and removes the temporary folder. Exits 0 whether
   or not the targets are met; 2 if the benchmark itself could not run.

The load generator is a lean asyncio client (pre-encoded keep-alive HTTP/1.1 requests,
bench/_client.py) running in this process, separate from the server's. Before the
measurements it is compared on `track(id)` with httpx and, when installed, with `wrk`
(`--client` picks the one used for the concurrent HTTP runs; sequential runs always use
the lean client, which reads Server-Timing). The CPU column shows how busy the server,
the database and the client were, in % of one core: a client near 100% would be the
bottleneck.
"""

import argparse
import asyncio
import gc
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ariadne import QueryType, make_executable_schema
from graphql import ExecutionResult, Executor, execute, parse

from bench import _client, _load, _server
from bench._client import CpuMeter, Run
from bench._server import BenchError, ServerProcess
from graph.embedded import EmbeddedServer, compact, ensure_server
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from graph.pages import UNBOUNDED
from graph.queries.catalog import TRACK_SORT_KEYS, TrackFilter, tracks_window
from schema import load_sdl
from server.graphql_app import PlainFirstExecutor

GRAPH_NAME = "apollonia"
PAGE_SIZE = 50
SORTS = ("TITLE", "CREATED_AT", "YEAR", "DURATION")
PAGES_PER_SORT = 5
TRACK_ID_SAMPLE = 2000
ROUND_TRIP_REQUESTS = 20

TARGET_RATE = 1000.0
TARGET_P99_MS = 25.0
TARGET_FLOOR_RATIO = 1.5

TRACK_DOC = "query Track($id: ID!) { track(id: $id) { id title duration year trackNumber tags } }"
TRACK_CYPHER = (
    "MATCH (t:Track {id: $id}) "
    "RETURN t {.id, .title, .duration, .year, .track_number, .tags} AS row"
)
PAGE_DOC = (
    "query Page($after: String, $sort: TrackSort) {"
    f" tracks(first: {PAGE_SIZE}, after: $after, sort: $sort) {{ edges {{ node {{"
    " id title duration year artists { name } album { title artist { name } }"
    " genres { name } } } } }"
)
CURSORS_DOC = (
    "query Cursors($after: String, $sort: TrackSort) {"
    f" tracks(first: {PAGE_SIZE}, after: $after, sort: $sort) {{"
    " pageInfo { hasNextPage endCursor } edges { node { id } } } }"
)
# Replaces the RETURN of the page window query (`tracks_window`): the whole nested page
# in one query. (OPTIONAL MATCH + collect: pattern comprehensions cost FalkorDB about
# 1.5 ms each here.) The window's null row (it carries the window's size) stays null.
PAGE_RETURN = """OPTIONAL MATCH (t)-[:BY]->(a:Artist)
WITH t, collect(a {{.name}}) AS artists
OPTIONAL MATCH (t)-[:ON]->(al:Album)
OPTIONAL MATCH (al)-[:BY]->(x:Artist)
WITH t, artists, al {{.title, artist: x {{.name}}}} AS album
OPTIONAL MATCH (t)-[:IN_GENRE]->(g:Genre)
WITH t, artists, album, collect(g {{.name}}) AS genres
RETURN t {{.id, .title, .duration, .year, artists: artists, album: album, genres: genres}} AS row,
  [{columns}] AS sort_key, {ordered}
ORDER BY {order}"""

Query = tuple[str, dict[str, Any]]
# The per-sort pages are measured as loaded, then after `apollonia compact`.
COMPACTED = " compacted"
STATES = ("", COMPACTED)


def start_server(data_dir: Path, timeout: float = 120.0) -> ServerProcess:
    """`apollonia serve` over `data_dir`: the plain settings, quiet, with anonymous reads
    (the benchmark measures the API, not authentication); the caller's environment may
    override these. The rate limiter checks every request but never refuses one.

    No job worker unless the environment asks for one: the benches read, and a worker
    starting beside the server warms up its analysis (over a second of CPU) while the
    runs are measured, counted in the server's CPU (its descendants). Waiting on `/health`
    did not prevent that after a restart: the stopped worker's heartbeat still counted
    there (for APOLLONIA_WORKER_HEARTBEAT_MS)."""
    defaults = {
        "LOG_LEVEL": "warning",
        "APOLLONIA_ALLOW_ANONYMOUS_READ": "true",
        "APOLLONIA_RATE_LIMIT_QUERY": "1000000000/minute",
        "APOLLONIA_RUN_WORKER": "false",
    }
    overrides = {"GRAPH_URL": f"falkordb-embedded://{data_dir}", "GRAPH_NAME": GRAPH_NAME}
    return _server.start_server(data_dir, defaults, overrides, timeout, "/health/ready")


def graph_queries(url: str) -> float:
    """The server's apollonia_graph_queries_total, summed over engines and operations."""
    text = httpx.get(f"{url}/metrics", timeout=10, trust_env=False).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("apollonia_graph_queries_total{")
    )


def graphql(url: str, document: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    body = {"query": document, "variables": dict(variables)}
    response = httpx.post(f"{url}/graphql", json=body, timeout=30, trust_env=False)
    result: dict[str, Any] = response.json()
    if response.status_code != 200 or result.get("errors"):
        raise BenchError(f"GraphQL request failed: {response.status_code} {result}")
    return result


# --- workloads --------------------------------------------------------------------------


@dataclass
class Workload:
    """One GraphQL document with its variable sets, and the equivalent Cypher of each."""

    name: str
    document: str
    variables: list[dict[str, Any]]
    cypher: list[Query]

    def bodies(self) -> list[bytes]:
        return [orjson.dumps({"query": self.document, "variables": v}) for v in self.variables]


def page_cypher(sort: str, after: list[Any] | None, far: int | None) -> Query:
    """The product's page selection (a `tracks_window` from the cursor's key to `far`,
    the window that holds exactly the page) returning the whole nested page."""
    query, params = tracks_window(
        TrackFilter(), sort, "ASC", after, after is not None, far is not None
    )
    lines = query.split("\n")
    if not lines[-1].startswith("RETURN "):
        raise BenchError(f"unexpected tracks_window query shape:\n{query}")
    columns = [f"t.{p}" for p in TRACK_SORT_KEYS[sort]] + ["t.id"]
    names = [f"k{i}" for i in range(len(columns))]
    page_return = PAGE_RETURN.format(
        columns=", ".join(columns),
        ordered=", ".join(f"{c} AS {n}" for c, n in zip(columns, names, strict=True)),
        order=", ".join(names),
    )
    params |= {
        "near": after[0] if after is not None else None,
        "far": far,
        "budget": UNBOUNDED,
        "limit": PAGE_SIZE + 1,
    }
    return "\n".join([*lines[:-1], page_return]), params


def page_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's rows: not the window's null row, not the row after the page."""
    return [r for r in rows if r["row"] is not None][:PAGE_SIZE]


async def page_workload(url: str, engine: FalkorDBEngine) -> tuple[Workload, int]:
    """PAGES_PER_SORT consecutive pages in each sort order, walked both through the API
    (by its cursors) and in Cypher (by the last row's sort key and id); and how many of
    these pages differ between the two (0 when the Cypher is equivalent)."""
    variables: list[dict[str, Any]] = []
    cypher: list[Query] = []
    differ = 0
    for sort in SORTS:
        order = {"field": sort, "direction": "ASC"}
        cursor: str | None = None
        position: list[Any] | None = None
        for _ in range(PAGES_PER_SORT):
            variables.append({"after": cursor, "sort": order})
            # An open window first (it reads the rest of the label), to find the page's
            # last key; the measured query's window ends right after it.
            rows = page_rows(await engine.read("bench", *page_cypher(sort, position, None)))
            far = rows[-1]["sort_key"][0] + 1 if rows else None
            cypher.append(page_cypher(sort, position, far))
            rows = page_rows(await engine.read("bench", *cypher[-1]))
            page = graphql(url, CURSORS_DOC, variables[-1])["data"]["tracks"]
            differ += [e["node"]["id"] for e in page["edges"]] != [r["row"]["id"] for r in rows]
            cursor = page["pageInfo"]["endCursor"]
            if not page["pageInfo"]["hasNextPage"] or not rows:
                break
            position = rows[-1]["sort_key"]
    return Workload("nested page", PAGE_DOC, variables, cypher), differ


def track_workload(ids: Sequence[str]) -> Workload:
    return Workload(
        "track(id)", TRACK_DOC, [{"id": i} for i in ids], [(TRACK_CYPHER, {"id": i}) for i in ids]
    )


async def run_cypher(
    label: str,
    engine: FalkorDBEngine,
    queries: Sequence[Query],
    concurrency: int,
    duration: float,
    max_requests: int,
    seed: int = 1,
) -> Run:
    """The closed loop of bench/_client.py, calling the engine instead of HTTP."""
    run = Run(label, concurrency, 0.0)

    async def client(index: int, more: Callable[[], bool], out: Run) -> None:
        rnd = random.Random(seed * 1000 + index)
        while more():
            query, params = queries[rnd.randrange(len(queries))]
            sent = time.perf_counter()
            rows = await engine.read("bench", query, params)
            out.latencies_ms.append((time.perf_counter() - sent) * 1000)
            if not rows:
                out.errors += 1

    await _client.closed_loop(concurrency, duration, max_requests, client, run)
    return run


# --- the graphql-core floor -----------------------------------------------------------


def plain(value: Any) -> Any:
    """Driver maps (OrderedDicts) as plain dicts, recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def graphql_floor(
    nodes: list[dict[str, Any]], seconds: float, executor: type[Executor[Any]] | None = None
) -> tuple[float, dict[str, Any]]:
    """Median ms for graphql-core to execute PAGE_DOC over `nodes`, and the result data;
    with `executor`, that executor class instead of graphql-core's own (the server's,
    server/plain_fields.py, over the same rows and schema)."""
    connection = {
        "edges": [{"cursor": f"c{i}", "node": node} for i, node in enumerate(nodes)],
        "page_info": {"has_next_page": True, "end_cursor": f"c{len(nodes) - 1}"},
    }
    query = QueryType()

    def resolve_tracks(*_: Any, **__: Any) -> dict[str, Any]:
        return connection

    query.set_field("tracks", resolve_tracks)
    schema = make_executable_schema(load_sdl(), query, convert_names_case=True)
    document = parse(PAGE_DOC)
    variables = {"after": None, "sort": {"field": "TITLE", "direction": "ASC"}}

    def once() -> ExecutionResult:
        result = execute(schema, document, variable_values=variables, executor_class=executor)
        if not isinstance(result, ExecutionResult) or result.errors or result.data is None:
            raise BenchError(f"the graphql-core floor failed: {result}")
        return result

    for _ in range(20):
        data = once().data
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < 5000 and (time.perf_counter() < deadline or len(times) < 50):
        started = time.perf_counter()
        once()
        times.append((time.perf_counter() - started) * 1000)
    return _client.percentile(times, 50), data or {}


def normalized(data: dict[str, Any]) -> list[Any]:
    """A page's nodes with their artist and genre lists sorted (their order may differ)."""
    nodes = [edge["node"] for edge in data["tracks"]["edges"]]
    return [
        node
        | {
            "artists": sorted(a["name"] for a in node["artists"]),
            "genres": sorted(g["name"] for g in node["genres"]),
        }
        for node in nodes
    ]


# --- reporting ------------------------------------------------------------------------


def fmt(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def ratio(a: float, b: float) -> str:
    return "-" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}x"


def cpu(run: Run) -> str:
    return "/".join(
        "-" if math.isnan(run.cpu.get(k, math.nan)) else f"{run.cpu[k]:.0f}"
        for k in ("server", "db", "client", "others")
    )


HEADER = (
    f"{'':38}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'server ms':>11}"
    f"{'errors':>8}  cpu % srv/db/cli/other"
)


def row(title: str, run: Run) -> str:
    return (
        f"  {title:36}{run.concurrency:>8}{fmt(run.rate, 0):>10}{fmt(run.p50):>9}"
        f"{fmt(run.p99):>9}{fmt(run.server_p50):>11}{run.errors:>8}  {cpu(run)}"
    )


def ratio_row(title: str, api: Run, raw: Run) -> str:
    return (
        f"  {title:36}{'':>8}{ratio(api.rate, raw.rate):>10}{ratio(api.p50, raw.p50):>9}"
        f"{ratio(api.p99, raw.p99):>9}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# --- the run --------------------------------------------------------------------------


@dataclass
class Options:
    tracks: int
    duration: float
    concurrency: int
    max_requests: int
    client: str
    client_check: bool
    data_dir: Path


class Bench:
    def __init__(self, options: Options, db: EmbeddedServer) -> None:
        self.o = options
        self.db = db
        self.server: ServerProcess | None = None
        self.engine: FalkorDBEngine | None = None
        self.load_average = math.nan
        # Figures compared across sizes: per sort order (server ms, Cypher ms), the
        # floor, and track(id) at --concurrency clients.
        self.summary: dict[str, Any] = {}
        self.page: Workload | None = None

    def meter(self) -> CpuMeter:
        pids = {"db": self.db.pid, "client": os.getpid()}
        if self.server is not None:
            pids["server"] = self.server.process.pid
        return CpuMeter(pids)

    async def measure(
        self, run: Callable[[float], Awaitable[Run]], duration: float | None = None
    ) -> Run:
        """`run(seconds)` once to warm up, then for `--duration` seconds, recording the CPU
        use of the server, the database, this process and the rest of the machine.

        This process's garbage collector is off during the measured run, so that its
        pauses do not show in the latencies it measures (the server's own pauses do).
        """
        seconds = self.o.duration if duration is None else duration
        await run(min(1.0, seconds / 5))
        meter = self.meter()
        gc.collect()
        gc.disable()
        meter.start()
        try:
            result = await run(seconds)
        finally:
            used = meter.stop()
            gc.enable()
        cpu = used | result.cpu  # wrk reports its own CPU as "client"
        ours = sum(cpu.get(k, 0.0) for k in ("server", "db", "client"))
        cpu["others"] = max(0.0, cpu.pop("machine") - ours)
        result.cpu = cpu
        return result

    async def http(
        self,
        workload: Workload,
        concurrency: int,
        client: str = "raw",
        duration: float | None = None,
    ) -> Run:
        """`workload` over HTTP with the `client` load generator."""
        assert self.server is not None
        port = self.server.port
        bodies = workload.bodies()
        requests = [_client.http_request(port, b) for b in bodies]
        label = f"{workload.name} GraphQL"
        limit = self.o.max_requests

        async def run(seconds: float) -> Run:
            if client == "wrk":
                return _client.run_wrk(label, port, bodies, concurrency, seconds)
            if client == "httpx":
                return await _client.run_httpx(label, port, bodies, concurrency, seconds, limit)
            return await _client.run_raw(label, port, requests, concurrency, seconds, limit)

        result = await self.measure(run, duration)
        result.client = client
        return result

    async def cypher(
        self, workload: Workload, concurrency: int, duration: float | None = None
    ) -> Run:
        """The Cypher equivalents of `workload` through the engine, from this process."""
        engine = self.engine
        assert engine is not None

        async def run(seconds: float) -> Run:
            return await run_cypher(
                f"{workload.name} Cypher",
                engine,
                workload.cypher,
                concurrency,
                seconds,
                self.o.max_requests,
            )

        result = await self.measure(run, duration)
        result.cpu.pop("server", None)
        return result

    async def round_trips(self, workload: Workload) -> tuple[float, float]:
        """Graph queries and Redis commands (all, graph queries too) per request."""
        assert self.server is not None
        requests = [_client.http_request(self.server.port, b) for b in workload.bodies()]
        with redis.Redis(unix_socket_path=str(self.db.socket_path)) as db:

            def commands() -> int:
                return int(db.info("stats")["total_commands_processed"])

            queries, processed = graph_queries(self.server.url), commands()
            run = await _client.run_raw(
                "round trips", self.server.port, requests, 1, 600, ROUND_TRIP_REQUESTS
            )
            queries = graph_queries(self.server.url) - queries
            processed = commands() - processed - 1  # less the first INFO
        return queries / run.count, processed / run.count

    async def load(self) -> list[str]:
        self.engine = FalkorDBEngine.from_socket(self.db.socket_path, GRAPH_NAME)
        await migrate(self.engine)
        inputs = _load.catalogue(self.o.tracks)
        step = max(_load.BATCH, self.o.tracks // 10 // _load.BATCH * _load.BATCH)

        def progress(done: int, seconds: float) -> None:
            if done % step == 0 or done == len(inputs):
                print(f"  loaded {done:,} tracks in {seconds:.1f} s", flush=True)

        seconds = await _load.load(self.engine, inputs, progress)
        counts = await _load.counts(self.engine)
        print(
            f"load: {self.o.tracks:,} tracks in {seconds:.1f} s "
            f"({self.o.tracks / seconds:,.0f} tracks/s); graph: "
            + ", ".join(
                f"{counts.get(k, 0):,} {k.lower()}s" for k in ("Track", "Artist", "Album", "Genre")
            ),
            flush=True,
        )
        seconds = _server.settle_persistence(self.db)
        print(f"database snapshot written before measuring: {seconds:.1f} s", flush=True)
        rows = await self.engine.read("bench_ids", "MATCH (t:Track) RETURN t.id AS id")
        ids = [str(r["id"]) for r in rows]
        return random.Random(3).sample(ids, min(TRACK_ID_SAMPLE, len(ids)))

    async def main(self, alone: bool = True) -> None:
        """The whole benchmark at this size; the per-sort pages too when `alone` (with
        several sizes, `side_by_side` measures them across the sizes instead)."""
        o = self.o
        ids = await self.load()
        assert self.engine is not None
        self.server = start_server(o.data_dir)
        print(
            f"server: {self.server.url} (pid {self.server.process.pid}), "
            f"embedded FalkorDB pid {self.db.pid}",
            flush=True,
        )

        track = track_workload(ids)
        page, differ = await page_workload(self.server.url, self.engine)
        first_page = graphql(self.server.url, PAGE_DOC, page.variables[0])["data"]
        graphql(self.server.url, TRACK_DOC, track.variables[0])
        c = o.concurrency
        self.load_average = os.getloadavg()[0]
        print(
            f"measuring: {o.duration:g} s per run, {c} clients, {len(page.variables)} pages, "
            f"{len(track.variables):,} track ids",
            flush=True,
        )

        client = o.client
        notes: list[str] = []
        if differ:
            notes.append(
                f"WARNING: {differ} of {len(page.variables)} pages differ between "
                "the API and the raw Cypher"
            )
        if client == "wrk" and not _client.wrk_available():
            notes.append("wrk is not installed: used the lean asyncio client instead")
            client = "raw"
        check: list[Run] = []
        if o.client_check:
            for name in ("raw", "httpx", "wrk"):
                if name == "wrk" and not _client.wrk_available():
                    notes.append("load generator check: wrk not installed (apt-get install wrk)")
                    continue
                check.append(await self.http(track, c, name))

        results: dict[str, list[Run]] = {}
        for workload in (track, page):
            # The check's run of the chosen client on track(id) is that measurement already.
            done = [r for r in check if r.client == client and workload is track]
            api = done[0] if done else await self.http(workload, c, client)
            raw = await self.cypher(workload, c)
            api1 = await self.http(workload, 1, "raw")
            raw1 = await self.cypher(workload, 1)
            results[workload.name] = [api, raw, api1, raw1]
        trips = {w.name: await self.round_trips(w) for w in (track, page)}

        cypher_page = page_rows(await self.engine.read("bench", *page.cypher[0]))
        nodes = [plain(r["row"]) for r in cypher_page]
        floor_ms, floor_data = graphql_floor(nodes, max(1.0, o.duration / 2))
        if normalized(floor_data) != normalized(first_page):
            notes.append("WARNING: the raw Cypher page differs from the API's page")
        plain_ms, plain_data = graphql_floor(nodes, max(1.0, o.duration / 2), PlainFirstExecutor)
        if plain_data != floor_data:
            notes.append("WARNING: the server's executor answered otherwise than graphql-core")
        self.summary["plain"] = plain_ms

        self.report(results, trips, floor_ms, check, client, notes)
        self.page = page
        if alone:
            await self.per_sort(page, "")
            self.compact()
            await self.per_sort(page, COMPACTED)
        api, raw = results["track(id)"][0], results["track(id)"][1]
        self.summary |= {
            "floor": floor_ms,
            "track_ratio": api.p50 / raw.p50 if raw.p50 else math.nan,
            "track_p99": api.p99,
            "track_rate": api.rate,
            "load": self.load_average,
        }

    def compact(self) -> None:
        """The database as a fresh load holds its data (after a restart, or `apollonia
        compact`): graph.embedded.compact explains the difference."""
        done = compact(self.db.socket_path)
        print(
            f"\ncompacted the {self.o.tracks:,}-track database (apollonia compact) "
            f"in {done.seconds:.2f} s"
        )

    async def sort_page(self, sort: str, duration: float | None = None) -> tuple[Run, Run]:
        """The page workload's pages in `sort` order, sequentially: over HTTP (for the
        server's time) and as the single Cypher query."""
        page = self.page
        assert page is not None
        chosen = [i for i, v in enumerate(page.variables) if v["sort"]["field"] == sort]
        one = Workload(
            f"page {sort}",
            page.document,
            [page.variables[i] for i in chosen],
            [page.cypher[i] for i in chosen],
        )
        return await self.http(one, 1, "raw", duration), await self.cypher(one, 1, duration)

    async def per_sort(self, page: Workload, state: str) -> None:
        """Sequential nested pages of each sort order alone: the server's median time
        and the single Cypher query's."""
        print()
        print(
            "nested page per sort order, sequential: server ms (Server-Timing app) / of it "
            "waiting on the graph / Cypher ms" + (f", {state}" if state else ", as loaded")
        )
        for sort in SORTS:
            api1, raw1 = await self.sort_page(sort)
            self.summary[sort + state] = (api1.server_p50, raw1.p50, api1.graph_p50)
            print(f"  {sort:12} {api1.server_p50:8.2f} {api1.graph_p50:8.2f} {raw1.p50:8.2f}")

    def report(
        self,
        results: dict[str, list[Run]],
        trips: dict[str, tuple[float, float]],
        floor_ms: float,
        check: list[Run],
        client: str,
        notes: list[str],
    ) -> None:
        o = self.o
        print()
        print(
            f"Apollonia GraphQL benchmark: {o.tracks:,} tracks, {o.concurrency} clients, "
            f"{o.duration:g} s per run, HTTP client: {client}, {os.cpu_count()} CPUs, "
            f"API processes: {os.environ.get('APOLLONIA_WEB_WORKERS', '1')} "
            "(APOLLONIA_WEB_WORKERS), "
            f"load average before the runs {self.load_average:.2f}"
        )
        print(
            "(p50 = median; 'server ms' = median Server-Timing app;dur; cpu = % of one core "
            "used by the server (all its API processes) / the embedded FalkorDB / this client "
            "process / all other processes of the machine)"
        )
        if check:
            print()
            print("load generator check, track(id):")
            print(HEADER)
            for run in check:
                print(row(run.client, run))
        for name, (api, raw, api1, raw1) in results.items():
            doc = "track(id)" if name == "track(id)" else "tracks(first: 50) nested page"
            print()
            print(f"{doc}:")
            print(HEADER)
            print(row("GraphQL over HTTP", api))
            print(row("Cypher via FalkorDBEngine.read", raw))
            print(ratio_row("ratio GraphQL / Cypher", api, raw))
            print(row("GraphQL over HTTP, sequential", api1))
            print(row("Cypher, sequential", raw1))
            print(ratio_row("ratio GraphQL / Cypher, sequential", api1, raw1))
            graph, commands = trips[name]
            print(
                f"  round trips per request: {graph:.2f} graph queries "
                f"(apollonia_graph_queries_total); {commands:.2f} commands in all to the "
                "embedded FalkorDB/Redis server"
            )
        api, _, api1, _ = results["track(id)"]
        server_ms = results["nested page"][2].server_p50
        print()
        print(f"graphql-core floor, nested page over 50 prebuilt tracks: {floor_ms:.2f} ms")
        plain_ms = self.summary["plain"]
        print(
            f"the server's executor (plain fields) over the same tracks: {plain_ms:.2f} ms "
            f"= {ratio(plain_ms, floor_ms)} the floor"
        )
        print(
            f"server time, nested page, sequential (Server-Timing): {server_ms:.2f} ms "
            f"= {ratio(server_ms, floor_ms)} the floor"
        )
        print()
        print("targets:")
        targets = [
            (
                f"track(id) >= {TARGET_RATE:,.0f} req/s at {o.concurrency} clients",
                f"{api.rate:,.0f} req/s",
                api.rate >= TARGET_RATE,
            ),
            (
                f"track(id) p99 < {TARGET_P99_MS:g} ms at {o.concurrency} clients",
                f"{api.p99:.1f} ms",
                api.p99 < TARGET_P99_MS,
            ),
            (
                f"nested page server time <= {TARGET_FLOOR_RATIO}x graphql-core floor",
                ratio(server_ms, floor_ms),
                server_ms <= TARGET_FLOOR_RATIO * floor_ms,
            ),
        ]
        for title, value, ok in targets:
            print(f"  {title:55}{value:>14}   {verdict(ok)}")
        if o.concurrency != 32:
            print("  (the track(id) targets are defined at 32 clients)")
        runs = [*check, *(run for group in results.values() for run in group)]
        for run in runs:
            if run.errors:
                notes.append(
                    f"{run.errors} failed requests in '{run.label}' at "
                    f"{run.concurrency} clients, e.g.: {run.first_error}"
                )
        bound = [
            f"{run.label} at {run.concurrency} clients"
            for run in runs
            if run.cpu.get("client", 0) > 90 and run.client != "httpx"
        ]
        if bound:
            notes.append(
                "this process was near 100% of a core in "
                + ", ".join(bound)
                + ": there it measured its own client as much as the server or the "
                "database"
            )
        busiest = max((run.cpu.get("others", 0.0) for run in runs), default=0.0)
        if busiest > 25:
            notes.append(
                f"other processes used up to {busiest:.0f}% of a core during the runs "
                "(see the cpu column): these figures are pessimistic"
            )
        for note in dict.fromkeys(notes):
            print(f"note: {note}")

    async def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.engine is not None:
            await self.engine.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--tracks",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10_000],
        help="tracks to load; several sizes (1000,10000,100000) are run one after the "
        "other, each in a fresh database, and compared at the end",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="with several sizes: alternating rounds of the per-sort pages across the sizes",
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=500_000,
        help="at most this many requests per measurement",
    )
    parser.add_argument(
        "--client",
        choices=_client.CLIENTS,
        default="raw",
        help="load generator for the concurrent HTTP runs",
    )
    parser.add_argument(
        "--no-client-check",
        dest="client_check",
        action="store_false",
        help="skip comparing the load generators on track(id)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="an empty or new folder for the data (default: a temporary one, removed at the end)",
    )
    args = parser.parse_args(argv)
    if min(args.tracks) < PAGE_SIZE or args.duration <= 0 or args.concurrency < 1:
        parser.error("need --tracks >= 50, --duration > 0 and --concurrency >= 1")
    if args.rounds < 1:
        parser.error("need --rounds >= 1")
    return args


def growth(summaries: dict[int, dict[str, Any]], rounds: int) -> None:
    """The figures of every size side by side, and their growth from the smallest size."""
    sizes = sorted(summaries)
    small, large = summaries[sizes[0]], summaries[sizes[-1]]
    print()
    print(
        f"growth across sizes (one run; medians; the pages per sort order measured side by "
        f"side in {rounds} alternating rounds):"
    )
    print(f"  {'':44}" + "".join(f"{n:>12,}" for n in sizes) + f"{'growth':>10}")
    for state in STATES:
        for sort in SORTS:
            for column, what in (
                (0, "server ms"),
                (2, "server's graph wait ms"),
                (1, "single Cypher ms"),
            ):
                key = sort + state
                cells = "".join(f"{summaries[n][key][column]:12.2f}" for n in sizes)
                grew = ratio(large[key][column], small[key][column])
                print(f"  {'page ' + key + ' ' + what:44}{cells}{grew:>10}")
    for key, title in (
        ("floor", "graphql-core floor ms"),
        ("plain", "the server's executor, same rows, ms"),
        ("track_ratio", "track(id) GraphQL/Cypher p50"),
        ("track_p99", "track(id) p99 ms"),
        ("track_rate", "track(id) req/s"),
        ("load", "load average before"),
    ):
        cells = "".join(f"{summaries[n][key]:12.2f}" for n in sizes)
        print(f"  {title:44}{cells}")
    print()
    print("targets:")
    for state in STATES:
        worst = max(large[sort + state][0] / small[sort + state][0] for sort in SORTS)
        floor_plus = max(
            large[sort + state][0] / (large["floor"] + large[sort + state][1]) for sort in SORTS
        )
        when = state.strip() or "as loaded"
        print(
            f"  page server time growth, worst sort <= 1.2x ({when}): {worst:.2f}x   "
            f"{verdict(worst <= 1.2)}"
        )
        print(
            f"  page server time <= 1.5x (floor + single Cypher) at {sizes[-1]:,} ({when}): "
            f"{floor_plus:.2f}x   {verdict(floor_plus <= 1.5)}"
        )
    print(
        f"  track(id) GraphQL/Cypher p50 <= 4x at {sizes[-1]:,}: {large['track_ratio']:.2f}x   "
        f"{verdict(large['track_ratio'] <= 4)}"
    )
    print(
        f"  track(id) p99 < 25 ms at {sizes[-1]:,}: {large['track_p99']:.1f} ms   "
        f"{verdict(large['track_p99'] < 25)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run_sizes(args))
    return asyncio.run(run_sizes(args), loop_factory=uvloop.new_event_loop)


def data_folder(args: argparse.Namespace, tracks: int) -> tuple[Path, bool]:
    """The fresh folder for `tracks` tracks, and whether it is a temporary one."""
    if args.data_dir is None:
        return Path(tempfile.mkdtemp(prefix="apollonia-bench-")).resolve(), True
    data_dir = (args.data_dir / str(tracks) if len(args.tracks) > 1 else args.data_dir).resolve()
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BenchError(f"{data_dir} is not empty; the benchmark needs a fresh data folder")
    return data_dir, False


async def run_sizes(args: argparse.Namespace) -> int:
    """The whole benchmark at each size, each in its own fresh data folder; with several
    sizes, every database and server stays up until the end, where `side_by_side`
    measures the per-sort pages across them."""
    benches: list[Bench] = []
    temporary: list[Path] = []
    try:
        for tracks in args.tracks:
            data_dir, made = data_folder(args, tracks)
            if made:
                temporary.append(data_dir)
            options = Options(
                tracks,
                args.duration,
                args.concurrency,
                args.max_requests,
                args.client,
                args.client_check,
                data_dir,
            )
            benches.append(Bench(options, ensure_server(data_dir)))
            await benches[-1].main(alone=len(args.tracks) == 1)
        if len(benches) > 1:
            await side_by_side(benches, args.rounds)
            growth({bench.o.tracks: bench.summary for bench in benches}, args.rounds)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        for bench in benches:
            # The server first: it must not outlive the database it uses.
            await bench.close()
            bench.db.stop()
        for folder in temporary:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


async def side_by_side(benches: Sequence[Bench], rounds: int) -> None:
    """Each sort order's pages, sequentially, at every size in turn, `rounds` times (the
    order of the sizes reversed every other round), as loaded and then compacted; each
    size's figure is the median of its rounds' medians. Sizes measured minutes apart
    differ by the machine's drift as much as by their size: on this 2-core VM the same
    server's page time moved by 15-30% from one minute to the next."""
    seconds = max(0.5, benches[0].o.duration / 4)
    for state in STATES:
        if state == COMPACTED:
            for bench in benches:
                bench.compact()
        samples: dict[tuple[int, str], list[tuple[float, float]]] = {}
        for turn in range(rounds):
            for sort in SORTS:
                for bench in benches if turn % 2 == 0 else reversed(benches):
                    api, raw = await bench.sort_page(sort, seconds)
                    key = (bench.o.tracks, sort)
                    samples.setdefault(key, []).append((api.server_p50, raw.p50, api.graph_p50))
        print()
        print(
            "nested page per sort order, sequential, the sizes side by side "
            f"({rounds} alternating rounds of {seconds:g} s each, median of the rounds): "
            "server ms (Server-Timing app) / of it waiting on the graph (graph) / Cypher ms, "
            + (state.strip() or "as loaded")
        )
        print(f"  {'':12}" + "".join(f"{bench.o.tracks:>28,}" for bench in benches))
        for sort in SORTS:
            cells = []
            for bench in benches:
                taken = samples[(bench.o.tracks, sort)]
                server = statistics.median(t[0] for t in taken)
                single = statistics.median(t[1] for t in taken)
                waited = statistics.median(t[2] for t in taken)
                bench.summary[sort + state] = (server, single, waited)
                cells.append(f"{server:10.2f} /{waited:7.2f} /{single:7.2f}")
            print(f"  {sort:12}" + "".join(f"{c:>28}" for c in cells))


if __name__ == "__main__":
    sys.exit(main())
