"""The `apollonia` command: serve, migrate, demo."""

import argparse
import asyncio
import getpass
import logging
import os
import sys

from graph.embedded import EmbeddedServer
from graph.errors import DomainError
from server.settings import Settings

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
    from graph.embedded import ensure_server

    return ensure_server(folder, appendfsync=settings.graph_fsync)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    settings = _settings(args)
    server = _embedded_server(settings)
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down, which ends the process
    # before a `finally` here could run: the database stops in the app's shutdown.
    stop = server.stop if server is not None and server.started_here else None
    try:
        uvicorn.run(
            create_app(settings, on_shutdown=stop),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=not settings.production,
        )
    finally:
        if stop is not None:
            stop()  # start-up failed, or uvicorn returned normally
    return 0


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


async def _with_engine(settings: Settings, args: argparse.Namespace) -> None:
    from graph.engine import connect
    from graph.migrations import migrate

    engine = await connect(
        settings.resolved_graph_url,
        graph_name=settings.graph_name,
        username=settings.graph_username,
        password=settings.graph_password,
    )
    try:
        await migrate(engine)
        if args.command == "create-admin":
            await _create_admin(settings, engine, args)
        elif args.command == "demo":
            from workers.demo import load_demo

            created = await load_demo(engine)
            print(
                f"demo catalogue: {created} tracks added"
                if created
                else "demo catalogue already loaded"
            )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apollonia", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the API on the embedded default")
    serve_cmd.add_argument("--host", default=None, help="bind address (127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, default=None, help="port (8000)")
    serve_cmd.add_argument("--data-dir", default=None, help="data folder (./data)")
    serve_cmd.set_defaults(run=serve)
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
