"""The `apollonia` command: serve, migrate, demo."""

import argparse
import asyncio
import logging
import sys

from server.settings import Settings

log = logging.getLogger("apollonia")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
    )


def _embedded_server(settings: Settings) -> object | None:
    """Start (or find) the embedded FalkorDB when the graph URL asks for it."""
    url = settings.resolved_graph_url
    if not url.startswith("falkordb-embedded://"):
        return None
    from graph.embedded import ensure_server

    return ensure_server(url.split("://", 1)[1], appendfsync=settings.graph_fsync)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    settings = _settings(args)
    server = _embedded_server(settings)
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=not settings.production,
        )
    finally:
        if server is not None and getattr(server, "started_here", False):
            server.stop()  # type: ignore[attr-defined]
    return 0


async def _with_engine(settings: Settings, action: str) -> None:
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
        if action == "demo":
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
        asyncio.run(_with_engine(settings, args.command))
    finally:
        # Leave a server that `apollonia serve` runs alone; stop one we started.
        if server is not None and getattr(server, "started_here", False):
            server.stop()  # type: ignore[attr-defined]
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
