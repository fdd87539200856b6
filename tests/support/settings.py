"""Settings for an app or a worker on the session's embedded server."""

from typing import Any

from graph.embedded import EmbeddedServer
from server.settings import Settings
from tests.support.engines import neo4j_settings

TEST_JWT_SECRET = "test-secret-" + "x" * 40
# A Fernet key (urlsafe base64 of 32 bytes), as production requires one.
TEST_SERVER_KEY = "dGVzdC1zZXJ2ZXIta2V5LXRlc3Qtc2VydmVyLWtleS0="


def make_settings(server: EmbeddedServer, **overrides: Any) -> Settings:
    """Settings for an app on the session's embedded server (graph and Redis)."""
    values: dict[str, Any] = {
        "env": "development",
        "redis_url": server.redis_url,
        "jwt_secret": TEST_JWT_SECRET,
        "server_key": TEST_SERVER_KEY,
        "data_dir": str(server.data_dir),
        **neo4j_settings(),
    }
    return Settings(**(values | overrides))
