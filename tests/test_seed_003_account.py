"""Seed 003's password reset and e-mail verification: single-use tokens that expire,
mailed through the development outbox (one `.eml` file per message)."""

import dataclasses
import email
import hashlib
import re
import time
from pathlib import Path

import httpx
import pytest

from graph import users
from graph.engine import GraphEngine
from server.settings import Settings

V1 = "/api/v1"
PASSWORD = "a long password"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, mail_outbox=str(tmp_path / "outbox"))


def _mails(settings: Settings) -> list[email.message.Message]:
    folder = Path(settings.mail_outbox)
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes()) for f in files]


def _text(mail: email.message.Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def _register(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    body = {"email": f"{name}@example.com", "username": name, "password": PASSWORD}
    response = await client.post(f"{V1}/auth/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_sign_up_mails_a_verification_link_that_works_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    registered = await _register(client, "vera")
    assert registered["email_verified"] is False
    [mail] = _mails(settings)
    assert mail["To"] == "vera@example.com"
    link = re.search(r"http://\S+/api/v1/auth/verify-email\?token=(\S+)", _text(mail))
    assert link is not None
    verified = await client.get(f"{V1}/auth/verify-email", params={"token": link.group(1)})
    assert verified.status_code == 200, verified.text
    assert (
        verified.json()["email_verified"] is True and verified.json()["user"]["username"] == "vera"
    )
    me = await client.get(
        f"{V1}/users/me", headers={"authorization": f"Bearer {registered['access_token']}"}
    )
    assert me.json()["email_verified"] is True
    again = await client.get(f"{V1}/auth/verify-email", params={"token": link.group(1)})
    assert again.status_code == 401 and again.json()["error"]["code"] == "UNAUTHENTICATED"
    missing = await client.get(f"{V1}/auth/verify-email")
    assert missing.status_code == 422 and missing.json()["error"]["details"]["field"] == "token"


async def test_password_reset_with_a_mailed_single_use_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    registered = await _register(client, "rita")
    sent = len(_mails(settings))
    asked = await client.post(f"{V1}/auth/password-reset", json={"email": "RITA@example.com"})
    assert asked.status_code == 200, asked.text
    # An address without an account gets the same answer, and no mail goes out.
    nobody = await client.post(f"{V1}/auth/password-reset", json={"email": "no@example.com"})
    assert nobody.json() == asked.json()
    mails = _mails(settings)
    assert len(mails) == sent + 1 and mails[-1]["To"] == "rita@example.com"
    token = re.search(r"reset token \(valid for an hour, once\): (\S+)", _text(mails[-1]))
    assert token is not None
    new = {"token": token.group(1), "new_password": "another long password"}
    reset = await client.post(f"{V1}/auth/password-reset", json=new)
    assert reset.status_code == 200, reset.text
    # Every session ended; the new password signs in, the old one does not.
    old_session = await client.post(
        f"{V1}/auth/refresh", json={"refresh_token": registered["refresh_token"]}
    )
    assert old_session.status_code == 401
    login = {"login": "rita", "password": "another long password"}
    assert (await client.post(f"{V1}/auth/login", json=login)).status_code == 200
    stale = {"login": "rita", "password": PASSWORD}
    assert (await client.post(f"{V1}/auth/login", json=stale)).status_code == 401
    reused = await client.post(f"{V1}/auth/password-reset", json=new)
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "UNAUTHENTICATED"
    for body, field in (
        ({}, "email"),
        ({"token": "x"}, "new_password"),
        ({"new_password": "another long password"}, "token"),
        ({"token": "x", "new_password": "short"}, "new_password"),
    ):
        refused = await client.post(f"{V1}/auth/password-reset", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"]["details"]["field"] == field


async def test_an_expired_token_is_refused(
    client: httpx.AsyncClient, engine: GraphEngine, settings: Settings
) -> None:
    registered = await _register(client, "exp")
    token = "expired-token-value"
    past = int(time.time() * 1000) - 1
    digest = hashlib.sha256(token.encode()).hexdigest()
    await users.create_account_token(engine, registered["id"], digest, "password_reset", past)
    body = {"token": token, "new_password": "another long password"}
    refused = await client.post(f"{V1}/auth/password-reset", json=body)
    assert refused.status_code == 401
