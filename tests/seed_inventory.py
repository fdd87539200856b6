"""Every in-domain endpoint and WebSocket message type of the seed documents
(`../shared/seeds/`), each with the conformance test that checks its status, shape and
field names as the seed shows them.

A test is named `module::function`, or `module::function[case]` for one case of the
table in tests/test_seed_conformance.py. `test_every_seed_endpoint_has_a_conformance_test`
holds the table to the code: every test named here exists, every case there is listed
here, and every REST path is served. `python -m tests.seed_inventory` prints the counts
per seed.

Paths are ours (`/api/v1` prefix, `{id}` for the seeds' `{track_id}`, `:id`, `{media_id}`,
`{user_id}`). Seed 001 writes its paths without a prefix; we serve them under `/api/v1`.
"""

import importlib
from dataclasses import dataclass

CONFORMANCE = "tests.test_seed_conformance::test_seed_endpoint"
V1 = "/api/v1"


@dataclass(frozen=True)
class Endpoint:
    seed: str
    method: str  # an HTTP method, WS for a WebSocket endpoint, MSG for a message type
    path: str  # for MSG: the message's `type`
    test: str

    @property
    def case(self) -> str:
        return f"{self.seed} {self.method} {self.path}"


def _case(seed: str, method: str, path: str) -> Endpoint:
    """An endpoint checked by its own case of the conformance table."""
    endpoint = Endpoint(seed, method, path, "")
    return Endpoint(seed, method, path, f"{CONFORMANCE}[{endpoint.case}]")


def _by(test: str, seed: str, method: str, path: str) -> Endpoint:
    """An endpoint checked by a test of its own elsewhere (it needs set-up the table has
    not: a worker, an upload, a mailbox, a socket)."""
    return Endpoint(seed, method, path, test)


WS = "tests.test_seed_websocket"
PREDICTIONS = "tests.test_seed_002_predictions"
ACCOUNT = "tests.test_seed_003_account"
FIRST_WS = f"{WS}::test_client_id_path_channel_subscribe_and_media_added"

ENDPOINTS: tuple[Endpoint, ...] = (
    # --- 000: the Apollonia media API -------------------------------------------------
    _case("000", "POST", f"{V1}/auth/login"),
    _case("000", "POST", f"{V1}/auth/register"),
    _case("000", "POST", f"{V1}/auth/refresh"),
    _case("000", "GET", f"{V1}/media"),
    _case("000", "GET", f"{V1}/media/{{id}}"),
    _case("000", "POST", f"{V1}/media/upload"),
    _case("000", "PUT", f"{V1}/media/{{id}}"),
    _case("000", "DELETE", f"{V1}/media/{{id}}"),
    _case("000", "GET", f"{V1}/search"),
    _case("000", "GET", f"{V1}/search/suggest"),
    _case("000", "GET", f"{V1}/analytics/stats"),
    _case("000", "GET", f"{V1}/analytics/trends"),
    _case("000", "GET", f"{V1}/analytics/similar/{{id}}"),
    _case("000", "GET", "/docs"),
    _case("000", "GET", "/redoc"),
    _case("000", "GET", "/openapi.json"),
    _by(f"{WS}::test_client_id_path_channel_subscribe_and_media_added", "000", "WS", "/ws"),
    _by(f"{WS}::test_client_id_path_channel_subscribe_and_media_added", "000", "MSG", "subscribe"),
    _by(FIRST_WS, "000", "MSG", "unsubscribe"),
    _by(FIRST_WS, "000", "MSG", "ping"),
    _by(FIRST_WS, "000", "MSG", "pong"),
    _by(
        f"{WS}::test_client_id_path_channel_subscribe_and_media_added",
        "000",
        "MSG",
        "subscription_confirmed",
    ),
    _by(
        f"{WS}::test_client_id_path_channel_subscribe_and_media_added", "000", "MSG", "media.added"
    ),
    _by(f"{WS}::test_processing_update_events", "000", "MSG", "processing.update"),
    _by("tests.test_realtime_ws::test_admins_get_system_status", "000", "MSG", "system.status"),
    # --- 001: the music server (paths under /api/v1) -----------------------------------
    _case("001", "GET", f"{V1}/tracks"),
    _case("001", "GET", f"{V1}/tracks/{{id}}"),
    _case("001", "POST", f"{V1}/tracks"),
    _case("001", "PUT", f"{V1}/tracks/{{id}}"),
    _case("001", "DELETE", f"{V1}/tracks/{{id}}"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/audio-features"),
    _case("001", "POST", f"{V1}/tracks/{{id}}/audio-features"),
    _case("001", "PUT", f"{V1}/tracks/{{id}}/audio-features"),
    _case("001", "DELETE", f"{V1}/tracks/{{id}}/audio-features"),
    _case("001", "GET", f"{V1}/audio-features/search"),
    _case("001", "GET", f"{V1}/audio-features/statistics"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/similar-by-features"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/embeddings"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/embeddings/{{type}}"),
    _case("001", "POST", f"{V1}/tracks/{{id}}/embeddings"),
    _case("001", "PUT", f"{V1}/tracks/{{id}}/embeddings/{{type}}"),
    _case("001", "DELETE", f"{V1}/tracks/{{id}}/embeddings/{{type}}"),
    _case("001", "POST", f"{V1}/embeddings/search"),
    _case("001", "POST", f"{V1}/tracks/{{id}}/embeddings/search-similar"),
    _case("001", "GET", f"{V1}/embeddings/statistics"),
    _case("001", "GET", f"{V1}/tracks/without-embeddings"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/metadata"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/metadata/{{key}}"),
    _case("001", "POST", f"{V1}/tracks/{{id}}/metadata"),
    _case("001", "PUT", f"{V1}/tracks/{{id}}/metadata/{{key}}"),
    _case("001", "DELETE", f"{V1}/tracks/{{id}}/metadata/{{key}}"),
    _case("001", "GET", f"{V1}/metadata/search"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/metadata-by-source"),
    _case("001", "POST", f"{V1}/tracks/{{id}}/metadata-batch"),
    _case("001", "GET", f"{V1}/tracks/{{id}}/metadata-stats"),
    _case("001", "GET", f"{V1}/metadata/statistics"),
    _case("001", "GET", f"{V1}/tracks/without-metadata"),
    _case("001", "GET", f"{V1}/artists"),
    _case("001", "GET", f"{V1}/albums"),
    _case("001", "GET", f"{V1}/playqueue"),
    _case("001", "POST", f"{V1}/playqueue"),
    _case("001", "DELETE", f"{V1}/playqueue"),
    _case("001", "GET", f"{V1}/recommendations"),
    _case("001", "GET", f"{V1}/search"),
    _by(
        "tests.test_realtime_ws::test_token_in_query_then_subscribe_and_receive", "001", "WS", "/ws"
    ),
    _case("001", "POST", f"{V1}/scan"),
    _case("001", "GET", f"{V1}/settings"),
    _case("001", "PUT", f"{V1}/settings"),
    _case("001", "GET", "/api/docs"),
    _case("001", "GET", "/api/redoc"),
    # --- 002: genre prediction ---------------------------------------------------------
    _case("002", "GET", f"{V1}/health"),
    _case("002", "GET", f"{V1}/genres"),
    _case("002", "GET", "/docs"),
    _by(f"{PREDICTIONS}::test_prediction_and_batch_shapes", "002", "POST", f"{V1}/predict"),
    _by(f"{PREDICTIONS}::test_prediction_and_batch_shapes", "002", "POST", f"{V1}/batch-predict"),
    _by(
        f"{PREDICTIONS}::test_prediction_and_batch_shapes", "002", "GET", f"{V1}/prediction/{{id}}"
    ),
    _by(f"{PREDICTIONS}::test_prediction_and_batch_shapes", "002", "GET", f"{V1}/batch/{{id}}"),
    _case("002", "GET", f"{V1}/history"),
    _case("002", "GET", f"{V1}/stats"),
    _case("002", "GET", f"{V1}/models"),
    _case("002", "POST", f"{V1}/models/deploy"),
    _case("002", "GET", "/metrics"),
    _case("002", "POST", f"{V1}/auth/login"),
    # --- 003: API design principles (the YouTube product's routes are out of scope) ----
    _case("003", "POST", f"{V1}/auth/register"),
    _case("003", "POST", f"{V1}/auth/login"),
    _case("003", "POST", f"{V1}/auth/logout"),
    _case("003", "POST", f"{V1}/auth/refresh"),
    _by(
        f"{ACCOUNT}::test_password_reset_with_a_mailed_single_use_token",
        "003",
        "POST",
        f"{V1}/auth/password-reset",
    ),
    _by(
        f"{ACCOUNT}::test_sign_up_mails_a_verification_link_that_works_once",
        "003",
        "GET",
        f"{V1}/auth/verify-email",
    ),
    _case("003", "GET", f"{V1}/users/me"),
    _case("003", "PATCH", f"{V1}/users/me"),
    _case("003", "GET", f"{V1}/users/me/usage"),
    _case("003", "DELETE", f"{V1}/users/me"),
    _case("003", "GET", f"{V1}/users"),
    _case("003", "GET", "/health"),
    _case("003", "GET", "/health/ready"),
    _case("003", "GET", "/health/live"),
    _case("003", "GET", "/metrics"),
    # --- 004: the Pantstack reference --------------------------------------------------
    _case("004", "GET", "/health"),
    _case("004", "GET", "/metrics"),
    _case("004", "POST", f"{V1}/users"),
    _case("004", "GET", f"{V1}/users/{{id}}"),
    _case("004", "PUT", f"{V1}/users/{{id}}"),
    _case("004", "DELETE", f"{V1}/users/{{id}}"),
    _case("004", "POST", f"{V1}/auth/login"),
    _case("004", "POST", f"{V1}/auth/refresh"),
    _case("004", "POST", f"{V1}/auth/logout"),
    _case("004", "GET", f"{V1}/admin/system/status"),
    _case("004", "POST", f"{V1}/admin/maintenance"),
    _case("004", "GET", "/api/docs"),
    _case("004", "GET", "/api/redoc"),
    _by(f"{WS}::test_client_id_path_channel_subscribe_and_media_added", "004", "WS", "/ws/{id}"),
    _by(
        f"{WS}::test_client_id_path_channel_subscribe_and_media_added",
        "004",
        "MSG",
        "subscribe (channel)",
    ),
)

# Seed 003's routes of another product (channels, videos, their analytics and costs, the
# n8n/YouTube/Stripe webhooks), as the seeds' README says: listed so that the count of
# what was left out is visible too.
OUT_OF_SCOPE: tuple[tuple[str, str, str], ...] = tuple(
    ("003", method, f"{V1}{path}")
    for method, path in (
        ("GET", "/channels/"),
        ("POST", "/channels/"),
        ("GET", "/channels/{id}"),
        ("PATCH", "/channels/{id}"),
        ("DELETE", "/channels/{id}"),
        ("POST", "/channels/{id}/connect"),
        ("GET", "/channels/{id}/stats"),
        ("POST", "/videos/generate"),
        ("GET", "/videos/"),
        ("GET", "/videos/{id}"),
        ("PATCH", "/videos/{id}"),
        ("DELETE", "/videos/{id}"),
        ("POST", "/videos/{id}/publish"),
        ("POST", "/videos/{id}/retry"),
        ("GET", "/videos/{id}/cost"),
        ("GET", "/analytics/dashboard"),
        ("GET", "/analytics/channels/{id}"),
        ("GET", "/analytics/videos/{id}"),
        ("GET", "/analytics/costs"),
        ("GET", "/analytics/trends"),
        ("GET", "/analytics/reports/weekly"),
        ("POST", "/webhooks/n8n/video-complete"),
        ("POST", "/webhooks/n8n/youtube-upload"),
        ("POST", "/webhooks/n8n/cost-alert"),
        ("POST", "/webhooks/youtube/callback"),
        ("POST", "/webhooks/stripe/payment"),
    )
)

SEEDS = ("000", "001", "002", "003", "004")


def has_test(endpoint: Endpoint) -> bool:
    """Whether the test an endpoint names exists (for a case of the conformance table,
    the test and its case)."""
    if not endpoint.test:
        return False
    module_name, _, function = endpoint.test.partition("::")
    function, _, case = function.partition("[")
    module = importlib.import_module(module_name)
    if not callable(getattr(module, function, None)):
        return False
    return not case or case.rstrip("]") in getattr(module, "CASES", {})


def counts() -> dict[str, dict[str, int]]:
    """Per seed: REST endpoints and those with a conformance test, WebSocket endpoints
    and message types, and the routes left out of scope."""
    table: dict[str, dict[str, int]] = {}
    for seed in SEEDS:
        mine = [e for e in ENDPOINTS if e.seed == seed]
        rest = [e for e in mine if e.method not in ("WS", "MSG")]
        table[seed] = {
            "rest": len(rest),
            "rest_tested": sum(1 for e in rest if has_test(e)),
            "websocket_tested": sum(1 for e in mine if e.method == "WS" and has_test(e)),
            "messages_tested": sum(1 for e in mine if e.method == "MSG" and has_test(e)),
            "websocket": sum(1 for e in mine if e.method == "WS"),
            "messages": sum(1 for e in mine if e.method == "MSG"),
            "out_of_scope": sum(1 for o in OUT_OF_SCOPE if o[0] == seed),
        }
    return table


def main() -> None:
    print("seed  REST tested/in-domain  WS endpoints tested/all  WS messages tested/all  out")
    for seed, row in counts().items():
        rest = f"{row['rest_tested']}/{row['rest']}"
        sockets = f"{row['websocket_tested']}/{row['websocket']}"
        messages = f"{row['messages_tested']}/{row['messages']}"
        print(f"{seed}   {rest:>22}  {sockets:>23}  {messages:>22}  {row['out_of_scope']:>3}")
    distinct = {(e.method, e.path) for e in ENDPOINTS if e.method not in ("WS", "MSG")}
    print(f"distinct REST endpoints over all seeds: {len(distinct)}")


if __name__ == "__main__":
    main()
