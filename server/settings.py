"""One settings object, read from environment variables (and a `.env` file if present)."""

import os
from dataclasses import dataclass
from pathlib import Path

# uvicorn's httptools protocol, a response's writes sent as one (an import string: the
# API processes of `serve --workers N` import it themselves); APOLLONIA_COALESCE_WRITES=
# false keeps uvicorn's own.
HTTP_PROTOCOL = "server.http_protocol:CoalescingHttpToolsProtocol"


def _load_dotenv(path: Path = Path(".env")) -> None:
    """Set variables from `.env` that the environment does not already set."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        os.environ.setdefault(name.strip(), value.strip().strip("'\""))


def _bool(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():  # `NAME=` in .env means "the default"
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    data_dir: str = "./data"
    graph_url: str = ""
    graph_name: str = "apollonia"
    graph_database: str = ""  # Neo4j's database; empty: graph_name
    graph_username: str | None = None
    graph_password: str | None = None
    graph_fsync: str = "always"  # the embedded AOF: always | everysec | no
    graph_allocator: str = "mimalloc"  # the embedded server's malloc: mimalloc | libc
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    access_log: bool = True
    coalesce_writes: bool = True  # a response's headers and body in one write
    shared_reads: bool = True  # reads by key shared between requests (graph/_batch.py)
    log_format: str = ""  # json | text; empty: json in production, text otherwise
    explorer: bool = True
    introspection: bool = True
    document_cache_size: int = 1024
    redis_url: str = ""
    allow_anonymous_read: bool = True
    jwt_algorithm: str = "HS256"
    jwt_secret: str = ""
    jwt_private_key_file: str = ""
    jwt_public_key_file: str = ""
    jwt_issuer: str = "apollonia"
    jwt_audience: str = "apollonia-api"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 7 * 24 * 3600
    refresh_grace_seconds: float = 5.0  # a rotated token this recent: a lost race
    password_memory_kib: int = 19456
    password_time_cost: int = 2
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 5000
    rate_limit_query: str = "600/minute"
    rate_limit_mutation: str = "120/minute"
    rate_limit_login: str = "10/minute"
    max_body_bytes: int = 50 * 1024 * 1024
    ws_max_subscriptions: int = 100
    ws_init_timeout: float = 10.0
    ws_keepalive: float = 15.0
    ws_queue_size: int = 256
    media_dir: str = ""
    scan_roots: tuple[str, ...] = ()
    server_key: str = ""  # a Fernet key: signed stream URLs, encrypted Subsonic passwords
    stream_url_ttl: int = 6 * 3600
    transcode_concurrency: int = 2
    max_upload_bytes: int = 40 * 1024 * 1024
    max_batch_files: int = 20
    run_worker: bool = True
    worker_threads: int = 1
    web_workers: int = 1  # API processes of `apollonia serve` (--workers)
    persisted_queries: str = "auto"  # auto | allowlist | off (server/persisted.py)
    persisted_queries_file: str | None = None  # the allow-list manifest
    worker_heartbeat_ms: int = 60_000
    worker_maintenance_chance: int = 1_000
    job_min_backoff_ms: int = 1_000
    similarity_k: int = 10
    similarity_min_score: float = 0.5
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_allow_private: bool = False
    # Mail (password resets, e-mail verification): SMTP when set, else the outbox folder.
    smtp_url: str = ""
    mail_from: str = "Apollonia <no-reply@localhost>"
    mail_outbox: str = ""  # empty: <data_dir>/outbox
    public_url: str = "http://127.0.0.1:8000"  # the links in mails start with it
    webhook_secret: str = ""
    webhook_backoff_ms: int = 1_000
    worker_metrics_port: int = 0  # 0: a worker serves no /metrics of its own
    worker_metrics_host: str = "127.0.0.1"  # the address it listens on (0.0.0.0: all)
    compact_after: int = 10_000  # finished jobs after which a worker compacts (0: never)
    trusted_proxies: tuple[str, ...] = ()  # addresses/networks whose X-Forwarded-* count
    metrics_token: str = ""  # a bearer token /metrics and the full /health ask for

    @property
    def production(self) -> bool:
        return self.env == "production"

    def uvicorn_options(self) -> dict[str, object]:
        """uvicorn's settings that every way of serving shares (one process, N, the
        tests' live server): no `Server: uvicorn` header (what runs here is nobody's
        business), a response's headers and body in one write (server/http_protocol.py,
        unless `coalesce_writes` is off), and the proxy settings: `X-Forwarded-For` and
        `-Proto` are believed only from the configured proxies. uvicorn's own default
        trusts them from 127.0.0.1, which lets any local client name its own address (and
        so its rate-limit budget)."""
        options: dict[str, object] = {
            "server_header": False,
            "http": HTTP_PROTOCOL if self.coalesce_writes else "httptools",
        }
        if not self.trusted_proxies:
            return options | {"proxy_headers": False, "forwarded_allow_ips": ""}
        return options | {
            "proxy_headers": True,
            "forwarded_allow_ips": ",".join(self.trusted_proxies),
        }

    @property
    def resolved_log_format(self) -> str:
        """LOG_FORMAT, else JSON lines in production and plain text in development."""
        return self.log_format or ("json" if self.production else "text")

    @property
    def resolved_graph_url(self) -> str:
        return self.graph_url or f"falkordb-embedded://{self.data_dir}"

    @property
    def embedded_data_dir(self) -> str | None:
        """The data folder whose embedded server this configuration needs, if any: the
        graph's, or the default Redis's when no REDIS_URL is given."""
        url = self.resolved_graph_url
        if url.startswith("falkordb-embedded://"):
            return url.split("://", 1)[1] or "./data"
        return None if self.redis_url else self.data_dir

    @property
    def resolved_redis_url(self) -> str:
        """REDIS_URL, else the embedded server's unix socket."""
        if self.redis_url:
            return self.redis_url
        from graph.embedded import socket_path_of

        return f"unix://{socket_path_of(self.embedded_data_dir or self.data_dir)}"

    @property
    def resolved_media_dir(self) -> Path:
        """Where uploads are stored (content-addressed): MEDIA_DIR, else <data>/media."""
        return Path(self.media_dir or Path(self.data_dir) / "media").resolve()

    @property
    def resolved_mail_outbox(self) -> Path:
        return Path(self.mail_outbox or Path(self.data_dir) / "outbox").resolve()

    @property
    def resolved_scan_roots(self) -> tuple[Path, ...]:
        """The only folders a library scan may read (none: scans are refused)."""
        return tuple(Path(root).resolve() for root in self.scan_roots)

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Settings from the environment; keyword arguments (CLI flags) win."""
        _load_dotenv()
        env = os.environ.get("APOLLONIA_ENV", "development")
        production = env == "production"
        values: dict[str, object] = {
            "env": env,
            "data_dir": os.environ.get("APOLLONIA_DATA_DIR", "./data"),
            "graph_url": os.environ.get("GRAPH_URL", ""),
            "graph_name": os.environ.get("GRAPH_NAME", "apollonia"),
            "graph_database": os.environ.get("GRAPH_DATABASE", ""),
            "graph_username": os.environ.get("GRAPH_USERNAME") or os.environ.get("NEO4J_USER"),
            "graph_password": os.environ.get("GRAPH_PASSWORD") or os.environ.get("NEO4J_PASSWORD"),
            "graph_fsync": os.environ.get("APOLLONIA_GRAPH_FSYNC", "always"),
            "graph_allocator": os.environ.get("APOLLONIA_GRAPH_ALLOCATOR", "mimalloc"),
            "host": os.environ.get("APOLLONIA_HOST", "127.0.0.1"),
            "port": int(os.environ.get("APOLLONIA_PORT", "8000")),
            "log_level": os.environ.get("LOG_LEVEL", "info").lower(),
            "log_format": os.environ.get("LOG_FORMAT", "").lower(),
            "explorer": _bool(os.environ.get("APOLLONIA_EXPLORER"), not production),
            "introspection": _bool(os.environ.get("APOLLONIA_INTROSPECTION"), not production),
            "document_cache_size": int(os.environ.get("APOLLONIA_DOCUMENT_CACHE", "1024")),
            "redis_url": os.environ.get("REDIS_URL", ""),
            "allow_anonymous_read": _bool(
                os.environ.get("APOLLONIA_ALLOW_ANONYMOUS_READ"), not production
            ),
            "jwt_algorithm": os.environ.get("APOLLONIA_JWT_ALGORITHM", "HS256"),
            "jwt_secret": os.environ.get("APOLLONIA_JWT_SECRET", ""),
            "jwt_private_key_file": os.environ.get("APOLLONIA_JWT_PRIVATE_KEY_FILE", ""),
            "jwt_public_key_file": os.environ.get("APOLLONIA_JWT_PUBLIC_KEY_FILE", ""),
            "jwt_issuer": os.environ.get("APOLLONIA_JWT_ISSUER", "apollonia"),
            "jwt_audience": os.environ.get("APOLLONIA_JWT_AUDIENCE", "apollonia-api"),
            "access_token_ttl": int(os.environ.get("APOLLONIA_ACCESS_TOKEN_TTL", "900")),
            "refresh_token_ttl": int(os.environ.get("APOLLONIA_REFRESH_TOKEN_TTL", "604800")),
            "refresh_grace_seconds": float(os.environ.get("APOLLONIA_REFRESH_GRACE_SECONDS", "5")),
            "password_memory_kib": int(os.environ.get("APOLLONIA_PASSWORD_MEMORY_KIB", "19456")),
            "password_time_cost": int(os.environ.get("APOLLONIA_PASSWORD_TIME_COST", "2")),
            "max_depth": int(os.environ.get("APOLLONIA_MAX_DEPTH", "10")),
            "max_aliases": int(os.environ.get("APOLLONIA_MAX_ALIASES", "30")),
            "max_tokens": int(os.environ.get("APOLLONIA_MAX_TOKENS", "2000")),
            "max_cost": int(os.environ.get("APOLLONIA_MAX_COST", "5000")),
            "rate_limit_query": os.environ.get("APOLLONIA_RATE_LIMIT_QUERY", "600/minute"),
            "rate_limit_mutation": os.environ.get("APOLLONIA_RATE_LIMIT_MUTATION", "120/minute"),
            "rate_limit_login": os.environ.get("APOLLONIA_RATE_LIMIT_LOGIN", "10/minute"),
            "ws_max_subscriptions": int(os.environ.get("APOLLONIA_WS_MAX_SUBSCRIPTIONS", "100")),
            "ws_init_timeout": float(os.environ.get("APOLLONIA_WS_INIT_TIMEOUT", "10")),
            "ws_keepalive": float(os.environ.get("APOLLONIA_WS_KEEPALIVE", "15")),
            "ws_queue_size": int(os.environ.get("APOLLONIA_WS_QUEUE", "256")),
            "access_log": _bool(os.environ.get("APOLLONIA_ACCESS_LOG"), True),
            "coalesce_writes": _bool(os.environ.get("APOLLONIA_COALESCE_WRITES"), True),
            "shared_reads": _bool(os.environ.get("APOLLONIA_SHARED_READS"), True),
            "media_dir": os.environ.get("APOLLONIA_MEDIA_DIR", ""),
            "scan_roots": tuple(
                root
                for root in os.environ.get("APOLLONIA_SCAN_ROOTS", "").split(os.pathsep)
                if root
            ),
            "server_key": os.environ.get("APOLLONIA_SERVER_KEY", ""),
            "stream_url_ttl": int(os.environ.get("APOLLONIA_STREAM_URL_TTL", str(6 * 3600))),
            "transcode_concurrency": int(os.environ.get("APOLLONIA_TRANSCODE_CONCURRENCY", "2")),
            "max_upload_bytes": int(
                os.environ.get("APOLLONIA_MAX_UPLOAD_BYTES", str(40 * 1024 * 1024))
            ),
            "max_batch_files": int(os.environ.get("APOLLONIA_MAX_BATCH_FILES", "20")),
            "run_worker": _bool(os.environ.get("APOLLONIA_RUN_WORKER"), True),
            "worker_threads": int(os.environ.get("APOLLONIA_WORKER_THREADS", "1")),
            "web_workers": int(os.environ.get("APOLLONIA_WEB_WORKERS", "1")),
            "persisted_queries": os.environ.get("APOLLONIA_PERSISTED_QUERIES", "auto"),
            "persisted_queries_file": os.environ.get("APOLLONIA_PERSISTED_QUERIES_FILE") or None,
            "worker_heartbeat_ms": int(os.environ.get("APOLLONIA_WORKER_HEARTBEAT_MS", "60000")),
            "worker_maintenance_chance": int(
                os.environ.get("APOLLONIA_WORKER_MAINTENANCE_CHANCE", "1000")
            ),
            "job_min_backoff_ms": int(os.environ.get("APOLLONIA_JOB_MIN_BACKOFF_MS", "1000")),
            "similarity_k": int(os.environ.get("APOLLONIA_SIMILARITY_K", "10")),
            "similarity_min_score": float(os.environ.get("APOLLONIA_SIMILARITY_MIN_SCORE", "0.5")),
            "worker_metrics_port": int(os.environ.get("APOLLONIA_WORKER_METRICS_PORT", "0")),
            "worker_metrics_host": os.environ.get("APOLLONIA_WORKER_METRICS_HOST", "127.0.0.1"),
            "compact_after": int(os.environ.get("APOLLONIA_COMPACT_AFTER", "10000")),
            "webhook_allowed_hosts": tuple(
                host.strip()
                for host in os.environ.get("APOLLONIA_WEBHOOK_ALLOWED_HOSTS", "").split(",")
                if host.strip()
            ),
            "webhook_allow_private": _bool(
                os.environ.get("APOLLONIA_WEBHOOK_ALLOW_PRIVATE"), False
            ),
            "smtp_url": os.environ.get("APOLLONIA_SMTP_URL", ""),
            "mail_from": os.environ.get("APOLLONIA_MAIL_FROM", "Apollonia <no-reply@localhost>"),
            "mail_outbox": os.environ.get("APOLLONIA_MAIL_OUTBOX", ""),
            "public_url": os.environ.get("APOLLONIA_PUBLIC_URL", "http://127.0.0.1:8000"),
            "webhook_secret": os.environ.get("APOLLONIA_WEBHOOK_SECRET", ""),
            "webhook_backoff_ms": int(os.environ.get("APOLLONIA_WEBHOOK_BACKOFF_MS", "1000")),
            "trusted_proxies": tuple(
                proxy.strip()
                for proxy in os.environ.get("APOLLONIA_TRUSTED_PROXIES", "").split(",")
                if proxy.strip()
            ),
            "metrics_token": os.environ.get("APOLLONIA_METRICS_TOKEN", ""),
            "max_body_bytes": int(
                os.environ.get("APOLLONIA_MAX_BODY_BYTES", str(50 * 1024 * 1024))
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
