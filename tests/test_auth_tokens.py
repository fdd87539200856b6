"""Forged and broken JWTs are refused by the middleware with 401 UNAUTHENTICATED, on an
HS256 server and on an RS256 one; the server's own tokens are accepted."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from graph.embedded import EmbeddedServer
from graph.engine import GraphEngine
from server.auth.keys import token_config
from server.auth.tokens import ACCESS, REFRESH, REQUIRED_CLAIMS, Tokens
from server.settings import Settings
from tests.support import TEST_JWT_SECRET, GraphQLClient, LiveServer, make_settings, user_token

ME = "{ me { id role } }"
REFRESH_TOKEN = """
mutation Refresh($token: String!) { refreshToken(token: $token) { accessToken refreshToken } }
"""
REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken user { id } }
}
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_input(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def hs256(claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 JWT made by hand: PyJWT itself refuses a PEM key as an HMAC secret."""
    signing_input = _signing_input({"alg": "HS256", "typ": "JWT"}, claims)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unsigned(claims: dict[str, Any]) -> str:
    return _signing_input({"alg": "none", "typ": "JWT"}, claims) + "."


def _replace_middle(segment: str) -> str:
    """`segment` with one character in its middle changed (the last one may only carry
    padding bits, so changing it may not change the decoded bytes)."""
    i = len(segment) // 2
    return segment[:i] + ("A" if segment[i] != "A" else "B") + segment[i + 1 :]


@dataclass(frozen=True)
class RsaKey:
    private_pem: bytes
    public_pem: bytes


def new_rsa_key() -> RsaKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RsaKey(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


@pytest.fixture(scope="module")
def attacker_key() -> RsaKey:
    return new_rsa_key()


@dataclass(frozen=True)
class Forge:
    """Makes tokens for `subject` that claim the admin role."""

    settings: Settings
    subject: str
    key: RsaKey

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        values: dict[str, Any] = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": self.subject,
            "iat": now,
            "nbf": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
            "typ": ACCESS,
            "role": "admin",
        }
        return values | changes

    def without(self, claim: str) -> dict[str, Any]:
        values = self.claims()
        del values[claim]
        return values

    def signed(self, claims: dict[str, Any]) -> str:
        """Signed with the server's real secret: only the claims are wrong."""
        return hs256(claims, TEST_JWT_SECRET.encode())


def _tampered_signature(f: Forge) -> str:
    head, body, signature = f.signed(f.claims()).split(".")
    return f"{head}.{body}.{_replace_middle(signature)}"


def _tampered_payload(f: Forge) -> str:
    head, _, signature = f.signed(f.claims(role="guest")).split(".")
    return f"{head}.{_b64(json.dumps(f.claims()).encode())}.{signature}"


def _refresh_as_access(f: Forge) -> str:
    tokens = Tokens(token_config(f.settings))
    return tokens.issue(f.subject, REFRESH, fam="fam_01JD7Q3N4V3Y0R6K8W9X2Z5A1B").token


PAST = int(time.time()) - 3600
FORGERIES: dict[str, Callable[[Forge], str]] = {
    "alg none": lambda f: unsigned(f.claims()),
    "alg none with the real signature": lambda f: (
        unsigned(f.claims()) + f.signed(f.claims()).rsplit(".", 1)[1]
    ),
    "empty signature": lambda f: f.signed(f.claims()).rsplit(".", 1)[0] + ".",
    "HS256 with an RSA public PEM as secret": lambda f: hs256(f.claims(), f.key.public_pem),
    "RS256 with an attacker key": lambda f: jwt.encode(
        f.claims(), f.key.private_pem, algorithm="RS256"
    ),
    "HS256 with another secret": lambda f: hs256(f.claims(), b"another-secret-" + b"y" * 40),
    "expired": lambda f: f.signed(f.claims(iat=PAST, nbf=PAST, exp=int(time.time()) - 60)),
    "nbf in the future": lambda f: f.signed(f.claims(nbf=int(time.time()) + 300)),
    "wrong aud": lambda f: f.signed(f.claims(aud="another-api")),
    "wrong iss": lambda f: f.signed(f.claims(iss="someone-else")),
    "unknown typ": lambda f: f.signed(f.claims(typ="id")),
    "refresh token as access token": _refresh_as_access,
    "tampered signature": _tampered_signature,
    "tampered payload": _tampered_payload,
    "not a JWT": lambda f: "not-a-token",
} | {
    f"missing {claim}": (lambda f, claim=claim: f.signed(f.without(claim)))
    for claim in REQUIRED_CLAIMS
}


def _outcome(response: httpx.Response) -> tuple[int, Any]:
    body = response.json()
    code = body["errors"][0]["extensions"]["code"] if body.get("errors") else None
    return response.status_code, code


async def _call(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}
    )


async def test_a_well_formed_token_is_accepted(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient, attacker_key: RsaKey
) -> None:
    """The forgeries below differ from this token in one thing each."""
    user_id, _ = await user_token(engine, settings, "user")
    forge = Forge(settings, user_id, attacker_key)
    response = await _call(client, forge.signed(forge.claims(role="user")))
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"id": user_id, "role": "USER"}}}


async def test_forged_and_broken_tokens_get_401(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient, attacker_key: RsaKey
) -> None:
    user_id, _ = await user_token(engine, settings, "user")
    forge = Forge(settings, user_id, attacker_key)
    outcomes = {
        name: _outcome(await _call(client, make(forge))) for name, make in FORGERIES.items()
    }
    assert outcomes == {name: (401, "UNAUTHENTICATED") for name in FORGERIES}


async def test_refusal_shape(client: httpx.AsyncClient) -> None:
    response = await _call(client, unsigned({"sub": "usr_01JD7Q3N4V3Y0R6K8W9X2Z5A1B"}))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert list(body) == ["errors"]
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_other_schemes_and_empty_bearer_are_refused_not_ignored(
    client: httpx.AsyncClient,
) -> None:
    for authorization in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer " + "a" * 5000):
        response = await client.post(
            "/graphql", json={"query": ME}, headers={"authorization": authorization}
        )
        assert _outcome(response) == (401, "UNAUTHENTICATED"), authorization


async def test_access_token_is_not_a_refresh_token(
    engine: GraphEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    _, access = await user_token(engine, settings, "user")
    error = await GraphQLClient(client).error(REFRESH_TOKEN, {"token": access})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


# An RS256 server ------------------------------------------------------------------------


@pytest.fixture
async def rs256(
    engine: GraphEngine, falkordb_server: EmbeddedServer, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, RsaKey]]:
    key = new_rsa_key()
    (tmp_path / "jwt.key").write_bytes(key.private_pem)
    (tmp_path / "jwt.pub").write_bytes(key.public_pem)
    settings = make_settings(
        falkordb_server,
        jwt_algorithm="RS256",
        jwt_private_key_file=str(tmp_path / "jwt.key"),
        jwt_public_key_file=str(tmp_path / "jwt.pub"),
    )
    server = LiveServer(engine, settings)
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http, key
    await server.stop()


async def test_rs256_server_accepts_its_own_tokens(
    rs256: tuple[httpx.AsyncClient, RsaKey],
) -> None:
    http, _ = rs256
    anonymous = GraphQLClient(http)
    registered = (
        await anonymous.query(
            REGISTER,
            {"input": {"email": "rs@example.com", "username": "rs256", "password": "a" * 12}},
        )
    )["register"]
    assert jwt.get_unverified_header(registered["accessToken"])["alg"] == "RS256"
    me = await anonymous.as_(registered["accessToken"]).query(ME)
    assert me["me"]["id"] == registered["user"]["id"]
    refreshed = await anonymous.query(REFRESH_TOKEN, {"token": registered["refreshToken"]})
    me = await anonymous.as_(refreshed["refreshToken"]["accessToken"]).query(ME)
    assert me["me"]["id"] == registered["user"]["id"]


async def test_rs256_server_refuses_hs256_signed_with_its_public_key(
    engine: GraphEngine, settings: Settings, rs256: tuple[httpx.AsyncClient, RsaKey]
) -> None:
    http, key = rs256
    user_id, hs_token = await user_token(engine, settings, "admin")
    forge = Forge(settings, user_id, key)
    public_pem = key.public_pem
    forgeries = {
        "public PEM": hs256(forge.claims(), public_pem),
        "public PEM, stripped": hs256(forge.claims(), public_pem.strip()),
        "alg none": unsigned(forge.claims()),
        "the HS256 server's token": hs_token,
    }
    outcomes = {name: _outcome(await _call(http, token)) for name, token in forgeries.items()}
    assert outcomes == {name: (401, "UNAUTHENTICATED") for name in forgeries}
