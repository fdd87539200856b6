"""One settings object, read from environment variables (and a `.env` file if present)."""

import os
from dataclasses import dataclass
from pathlib import Path


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
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    data_dir: str = "./data"
    graph_url: str = ""
    graph_name: str = "apollonia"
    graph_username: str | None = None
    graph_password: str | None = None
    graph_fsync: str = "everysec"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    explorer: bool = True
    introspection: bool = True
    document_cache_size: int = 1024

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def resolved_graph_url(self) -> str:
        return self.graph_url or f"falkordb-embedded://{self.data_dir}"

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
            "graph_username": os.environ.get("GRAPH_USERNAME") or os.environ.get("NEO4J_USER"),
            "graph_password": os.environ.get("GRAPH_PASSWORD") or os.environ.get("NEO4J_PASSWORD"),
            "graph_fsync": os.environ.get("APOLLONIA_GRAPH_FSYNC", "everysec"),
            "host": os.environ.get("APOLLONIA_HOST", "127.0.0.1"),
            "port": int(os.environ.get("APOLLONIA_PORT", "8000")),
            "log_level": os.environ.get("LOG_LEVEL", "info").lower(),
            "explorer": _bool(os.environ.get("APOLLONIA_EXPLORER"), not production),
            "introspection": _bool(os.environ.get("APOLLONIA_INTROSPECTION"), not production),
            "document_cache_size": int(os.environ.get("APOLLONIA_DOCUMENT_CACHE", "1024")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
