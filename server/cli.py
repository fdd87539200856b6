"""The `apollonia` command: serve, worker, scan, reanalyze, migrate, demo, create-admin."""

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.embedded import EmbeddedServer
from music.errors import DomainError
from server.settings import Settings

if TYPE_CHECKING:
    from graph.engine import GraphEngine

log = logging.getLogger("apollonia")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
    )


def _embedded_server(settings: Settings) -> "EmbeddedServer | None":
    """Start (or find) the embedded FalkorDB when the graph or the Redis needs it."""
    folder = settings.embedded_data_dir
    if folder is None:
        return None
    from graph.embedded import ALLOCATORS, FSYNC_POLICIES, ensure_server

    for variable, value, allowed in (
        ("APOLLONIA_GRAPH_FSYNC", settings.graph_fsync, FSYNC_POLICIES),
        ("APOLLONIA_GRAPH_ALLOCATOR", settings.graph_allocator, ALLOCATORS),
    ):
        if value not in allowed:  # a message naming the setting, before anything starts
            raise SystemExit(f"{variable} must be one of: {', '.join(allowed)}")
    return ensure_server(
        folder, appendfsync=settings.graph_fsync, allocator=settings.graph_allocator
    )


def _spawn_worker(settings: Settings) -> "subprocess.Popen[bytes]":
    """`apollonia worker` beside the server, on the same data folder and environment."""
    command = [sys.executable, "-m", "server.cli", "worker", "--data-dir", settings.data_dir]
    return subprocess.Popen(command, env=os.environ.copy())


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.processes import serve_processes

    settings = _settings(args)
    server = _embedded_server(settings)
    supervisor = None
    if server is not None:
        from graph.embedded import Supervisor

        # Also a server found running (one a killed `serve` left): restarted if it dies.
        supervisor = Supervisor(
            server, appendfsync=settings.graph_fsync, allocator=settings.graph_allocator
        ).start()
    worker = _spawn_worker(settings) if settings.run_worker and not args.no_worker else None

    stopped: list[bool] = []

    def stop() -> None:
        if stopped:
            return
        stopped.append(True)
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(35)
            except subprocess.TimeoutExpired:
                worker.kill()
        # The server running now, maybe a restarted one: stopped if this process started
        # it, or if whoever did has ended (a killed `serve`, or this one's worker, which
        # may start it again in the moment after it dies). A server whose starter still
        # runs is that process's to stop.
        current = supervisor.stop() if supervisor is not None else server
        if current is not None and current.ours_to_stop:
            current.stop()

    processes = args.workers or settings.web_workers
    if processes < 1:
        log.error("--workers must be at least 1")
        stop()
        return 2
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down, which ends the process
    # before a `finally` here could run: the worker and database stop in the app's shutdown.
    try:
        if processes > 1:
            # N API processes on one socket, each building the app from the environment
            # (so from this data folder), over the same embedded database and Redis;
            # this process supervises them and keeps the database and the job worker.
            os.environ["APOLLONIA_DATA_DIR"] = settings.data_dir
            # Their metrics go to files that /metrics of any of them sums (prometheus'
            # multi-process mode), emptied first: figures of an earlier run would count.
            metrics_dir = Path(settings.data_dir) / "metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
            config = uvicorn.Config(
                "server.app:create_app",
                factory=True,
                workers=processes,
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                access_log=settings.access_log,
                # As the single process: X-Forwarded-For only from APOLLONIA_TRUSTED_PROXIES
                # (uvicorn's default believes 127.0.0.1), and no Server header.
                **settings.uvicorn_options(),  # type: ignore[arg-type]
            )
            # A listening socket per process (server/processes.py), so that kept-alive
            # connections spread over the processes instead of piling onto one.
            serve_processes(config)
            return 0
        uvicorn.run(
            create_app(settings, on_shutdown=stop),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.access_log,  # redacted by server/logs.py
            **settings.uvicorn_options(),  # type: ignore[arg-type]
        )
    finally:
        stop()  # start-up failed, or uvicorn returned normally
    return 0


def worker(args: argparse.Namespace) -> int:
    from server.logs import configure_logging
    from workers.worker import run_worker

    settings = _settings(args)
    configure_logging(settings.resolved_log_format, settings.log_level)
    server = _embedded_server(settings)
    try:
        return run_worker(settings, args.threads or settings.worker_threads)
    finally:
        if server is not None and server.started_here:
            server.stop()


async def _create_admin(settings: Settings, engine: object, args: argparse.Namespace) -> None:
    from server.auth.keys import token_config
    from server.auth.passwords import Passwords
    from server.auth.service import AuthService
    from server.auth.tokens import Tokens
    from server.redis import connect_redis

    password = os.environ.get("APOLLONIA_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    redis = connect_redis(settings.resolved_redis_url)
    try:
        auth = AuthService(
            engine,  # type: ignore[arg-type]
            redis,
            Tokens(token_config(settings)),
            Passwords(settings.password_memory_kib, settings.password_time_cost),
        )
        user = await auth.create_user(args.email, args.username, password, "admin")
        print(f"admin {user['username']} created: {user['id']}")
    finally:
        await redis.aclose()


async def _demo(settings: Settings, engine: "GraphEngine") -> None:
    """The demo catalogue, each track with a few seconds of synthesised audio, queued
    for analysis (the worker of `apollonia serve` runs it)."""
    from taskqueue import JobQueue, broker_for
    from workers.demo import load_demo

    created, queued = await load_demo(engine, settings.resolved_media_dir)
    if queued:
        queue = JobQueue(broker_for(settings))
        try:
            for track_id in queued:
                await queue.submit(engine, "analyze", {"trackId": track_id}, None, track_id)
        finally:
            queue.close()
    if created:
        print(f"demo catalogue: {created} tracks added, {len(queued)} queued for analysis")
    elif queued:
        print(f"demo catalogue already loaded; audio added to {len(queued)} tracks")
    else:
        print("demo catalogue already loaded")


async def _with_engine(settings: Settings, args: argparse.Namespace) -> None:
    from graph.engine import connect
    from graph.migrations import migrate

    engine = await connect(
        settings.resolved_graph_url,
        graph_name=settings.graph_name,
        username=settings.graph_username,
        password=settings.graph_password,
        database=settings.graph_database or None,
    )
    try:
        await migrate(engine)
        if args.command == "create-admin":
            await _create_admin(settings, engine, args)
        elif args.command == "demo":
            await _demo(settings, engine)
        else:
            print("migrations applied")
    finally:
        await engine.close()


def run_with_engine(args: argparse.Namespace) -> int:
    settings = _settings(args)
    server = _embedded_server(settings)
    try:
        asyncio.run(_with_engine(settings, args))
    except DomainError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    finally:
        # Leave a server that `apollonia serve` runs alone; stop one we started.
        if server is not None and server.started_here:
            server.stop()
    return 0


async def _scan(settings: Settings, path: str, roots: tuple[Path, ...]) -> dict[str, object]:
    from tqdm import tqdm

    from graph.engine import connect
    from graph.migrations import migrate
    from taskqueue import JobQueue, broker_for
    from workers import library_scan
    from workers.library import scan_folder

    root = library_scan.resolve_root(path, roots)
    engine = await connect(
        settings.resolved_graph_url,
        graph_name=settings.graph_name,
        username=settings.graph_username,
        password=settings.graph_password,
        database=settings.graph_database or None,
    )
    queue = JobQueue(broker_for(settings))
    bar = tqdm(total=0, unit="file", desc=f"scanning {root}")
    try:
        await migrate(engine)

        async def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        async def enqueue(track_id: str) -> None:
            await queue.submit(engine, "analyze", {"trackId": track_id}, None, track_id)

        return await scan_folder(engine, root, progress, enqueue)
    finally:
        bar.close()
        queue.close()
        await engine.close()


def compact(args: argparse.Namespace) -> int:
    """Reload the running embedded database's data in one piece (graph.embedded.compact)."""
    import redis

    from graph.embedded import _answers, socket_path_of
    from graph.embedded import compact as compact_server

    settings = _settings(args)
    folder = settings.embedded_data_dir
    if folder is None:
        print(
            "error: compact works on the embedded FalkorDB only; GRAPH_URL names another "
            "server (restarting that server has the same effect)",
            file=sys.stderr,
        )
        return 2
    socket_path = socket_path_of(folder)
    if not _answers(socket_path):
        print(f"the database in {folder} is not running: its next start loads it compact")
        return 0
    try:
        done = compact_server(socket_path)
    except redis.ResponseError as e:
        if "DEBUG command not allowed" not in str(e):
            raise
        print(
            "error: the running database was started by an older version; restart "
            "`apollonia serve` once (a restart compacts it too)",
            file=sys.stderr,
        )
        return 1
    mb = 1024 * 1024
    print(
        f"compacted in {done.seconds:.2f} s; memory {done.memory_before / mb:.1f} MB -> "
        f"{done.memory_after / mb:.1f} MB"
    )
    return 0


def scan(args: argparse.Namespace) -> int:
    settings = _settings(args)
    server = _embedded_server(settings)
    try:
        # The operator names the folder on the command line: with no roots configured, it
        # is its own root; with roots configured, it must lie inside one of them.
        path = os.path.abspath(args.path)
        roots = settings.resolved_scan_roots or (Path(path).resolve(),)
        summary = asyncio.run(_scan(settings, path, roots))
    except DomainError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1
    finally:
        if server is not None and server.started_here:
            server.stop()
    print(
        "scan done: {added} added, {updated} updated, {unchanged} unchanged, "
        "{missing} missing, {refused} refused; analysis queued for the worker".format(**summary)
    )
    return 0


async def _wait(engine: "GraphEngine", job_ids: list[str], bar: Any) -> dict[str, int]:
    """Poll the jobs until every one has ended, moving `bar` one step per ended job."""
    from graph import jobs as job_records

    pending, outcome = list(job_ids), {"completed": 0, "failed": 0}
    while pending:
        rows = await job_records.jobs_by_id(engine, pending)
        still = []
        for job_id, row in zip(pending, rows, strict=True):
            status = row["status"] if row is not None else "failed"
            if status in outcome:
                outcome[status] += 1
                bar.update(1)
            else:
                still.append(job_id)
        pending = still
        if pending:
            await asyncio.sleep(0.5)
    return outcome


async def _reanalyze(settings: Settings) -> dict[str, object]:
    from tqdm import tqdm

    from graph import analysis_store
    from graph.engine import connect
    from graph.migrations import migrate
    from taskqueue import JobQueue, broker_for

    engine = await connect(
        settings.resolved_graph_url,
        graph_name=settings.graph_name,
        username=settings.graph_username,
        password=settings.graph_password,
    )
    queue = JobQueue(broker_for(settings))
    try:
        await migrate(engine)
        track_ids = await analysis_store.tracks_with_files(engine)
        submitted = [
            (await queue.submit(engine, "analyze", {"trackId": t}, None, t))["id"]
            for t in track_ids
        ]
        with tqdm(total=len(submitted), unit="track", desc="reanalysing") as bar:
            outcome = await _wait(engine, submitted, bar)
        rebuild = (await queue.submit(engine, "rebuild_similarity", {}, None))["id"]
        with tqdm(total=1, unit="job", desc="rebuilding similarity") as bar:
            rebuilt = await _wait(engine, [rebuild], bar)
        return {"tracks": len(track_ids), **outcome, "rebuilt": rebuilt["completed"] == 1}
    finally:
        queue.close()
        await engine.close()


def reanalyze(args: argparse.Namespace) -> int:
    """Analyse every catalogued file again (after a change of the analysis), then rebuild
    the similarity graph. The jobs run on the worker(s): `apollonia serve` runs one."""
    settings = _settings(args)
    server = _embedded_server(settings)
    try:
        summary = asyncio.run(_reanalyze(settings))
    except DomainError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1
    finally:
        if server is not None and server.started_here:
            server.stop()
    print(
        "reanalysis done: {tracks} tracks, {completed} analysed, {failed} failed; "
        "similarity rebuilt: {rebuilt}".format(**summary)
    )
    return 0 if summary["rebuilt"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apollonia", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the API on the embedded default")
    serve_cmd.add_argument("--host", default=None, help="bind address (127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, default=None, help="port (8000)")
    serve_cmd.add_argument("--data-dir", default=None, help="data folder (./data)")
    serve_cmd.add_argument(
        "--no-worker", action="store_true", help="do not run a worker beside the server"
    )
    serve_cmd.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API processes sharing the port (APOLLONIA_WEB_WORKERS, 1)",
    )
    serve_cmd.set_defaults(run=serve)
    worker_cmd = commands.add_parser("worker", help="run queued jobs (analysis, scans, …)")
    worker_cmd.add_argument("--threads", type=int, default=None, help="worker threads (1)")
    worker_cmd.add_argument("--data-dir", default=None, help="data folder (./data)")
    worker_cmd.set_defaults(run=worker)
    scan_cmd = commands.add_parser("scan", help="scan a music folder into the catalogue")
    scan_cmd.add_argument("path", help="folder to scan (inside APOLLONIA_SCAN_ROOTS if set)")
    scan_cmd.add_argument("--data-dir", default=None, help="data folder (./data)")
    scan_cmd.set_defaults(run=scan)
    reanalyze_cmd = commands.add_parser(
        "reanalyze", help="analyse every catalogued file again, then rebuild similarity"
    )
    reanalyze_cmd.add_argument("--data-dir", default=None, help="data folder (./data)")
    reanalyze_cmd.set_defaults(run=reanalyze)
    compact_cmd = commands.add_parser(
        "compact", help="reload the running embedded database in one piece (faster reads)"
    )
    compact_cmd.add_argument("--data-dir", default=None, help="data folder (./data)")
    compact_cmd.set_defaults(run=compact)
    for name, text in (
        ("migrate", "apply constraints and indexes (idempotent)"),
        ("demo", "load a small demo catalogue"),
    ):
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("--data-dir", default=None, help="data folder (./data)")
        cmd.set_defaults(run=run_with_engine)
    admin = commands.add_parser(
        "create-admin",
        help="create an admin user (password from APOLLONIA_ADMIN_PASSWORD or a prompt)",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--username", required=True)
    admin.add_argument("--data-dir", default=None, help="data folder (./data)")
    admin.set_defaults(run=run_with_engine)
    args = parser.parse_args(argv)
    from server.logs import configure_logging

    configured = Settings.from_env()
    configure_logging(configured.resolved_log_format, configured.log_level)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
