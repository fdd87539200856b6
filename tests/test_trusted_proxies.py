"""Who the client is (issue 11, finding 8): `X-Forwarded-For` counts only from the
proxies in APOLLONIA_TRUSTED_PROXIES, and an account has one sign-in budget whether it
is named by its username or its email."""

from typing import Any

import httpx
import pytest

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.settings import HTTP_PROTOCOL, Settings
from tests.support import LiveServer, make_settings

PASSWORD = "correct horse battery"
REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { user { id } } }
"""
LOGIN = """
mutation Login($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { user { username } }
}
"""


def _code(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


async def _login(http: httpx.AsyncClient, login: str, password: str, ip: str) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"login": login, "password": password}},
        headers={"x-forwarded-for": ip},
    )


async def _serve(engine: GraphEngine, settings: Settings) -> LiveServer:
    server = LiveServer(engine, settings)
    await server.start()
    return server


async def test_forwarded_addresses_are_ignored_by_default(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> None:
    """The probe: 14 logins, each with its own X-Forwarded-For, all from 127.0.0.1."""
    server = await _serve(engine, make_settings(falkordb_server, rate_limit_login="10/minute"))
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            codes = [
                _code(await _login(http, f"nobody{n}", "guess", f"203.0.113.{n}"))
                for n in range(14)
            ]
    finally:
        await server.stop()
    assert codes == ["UNAUTHENTICATED"] * 10 + ["RATE_LIMITED"] * 4


async def test_forwarded_addresses_count_from_a_trusted_proxy(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> None:
    settings = make_settings(
        falkordb_server, rate_limit_login="2/minute", trusted_proxies=("127.0.0.1",)
    )
    server = await _serve(engine, settings)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            codes = [
                _code(await _login(http, f"nobody{n}", "guess", f"203.0.113.{n}")) for n in range(5)
            ]
            same = [_code(await _login(http, "nobody", "guess", "198.51.100.7")) for _ in range(3)]
    finally:
        await server.stop()
    assert codes == ["UNAUTHENTICATED"] * 5
    assert same == ["UNAUTHENTICATED"] * 2 + ["RATE_LIMITED"]


async def test_an_account_has_one_budget_by_username_and_email(
    engine: GraphEngine, falkordb_server: EmbeddedServer
) -> None:
    settings = make_settings(
        falkordb_server, rate_limit_login="3/minute", trusted_proxies=("127.0.0.1",)
    )
    server = await _serve(engine, settings)
    account = {"email": "lin@example.com", "username": "lin", "password": PASSWORD}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            made = await http.post(
                "/graphql",
                json={"query": REGISTER, "variables": {"input": account}},
                headers={"x-forwarded-for": "192.0.2.1"},
            )
            assert _code(made) is None, made.text
            wrong = [
                _code(await _login(http, login, "guess", f"192.0.2.{10 + n}"))
                for n, login in enumerate(("lin", "LIN@example.com", "lin@example.com"))
            ]
            right = await _login(http, "lin@example.com", PASSWORD, "192.0.2.99")
    finally:
        await server.stop()
    assert wrong == ["UNAUTHENTICATED"] * 3
    assert right.status_code == 429 and _code(right) == "RATE_LIMITED"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {},
            {
                "server_header": False,
                "http": HTTP_PROTOCOL,
                "proxy_headers": False,
                "forwarded_allow_ips": "",
            },
        ),
        (
            {"APOLLONIA_TRUSTED_PROXIES": "10.0.0.2, 10.1.0.0/16"},
            {
                "server_header": False,
                "http": HTTP_PROTOCOL,
                "proxy_headers": True,
                "forwarded_allow_ips": "10.0.0.2,10.1.0.0/16",
            },
        ),
    ],
)
def test_serve_hands_the_trusted_proxies_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: dict[str, Any]
) -> None:
    monkeypatch.delenv("APOLLONIA_TRUSTED_PROXIES", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().uvicorn_options() == expected
