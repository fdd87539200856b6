"""Webhook deliveries connect to the address that was checked, never to a second
lookup of the name (DNS rebinding): the name here (`hooks.invalid`, a reserved name no
resolver knows) is resolved by webhooks' own lookup only, standing in for a DNS server
that cannot run here; the receivers are real HTTP and TLS servers on 127.0.0.1."""

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.settings import Settings
from workers import webhooks

NAME = "hooks.invalid"


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()  # a client that gave up on the handshake
            return
        headers = {
            k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)
        }
        await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((head[0], headers))
        writer.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for NAME only (not for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """What webhooks' lookup answers, per name; any other name fails as unknown."""
    answers: dict[str, list[str]] = {}

    async def lookup(host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            pass
        if host not in answers:
            raise OSError(f"unknown name {host}")
        return answers[host]

    monkeypatch.setattr(webhooks, "_addresses", lookup)
    return answers


async def _serving(receiver: Receiver, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0, ssl=tls)
    async with server:
        yield int(server.sockets[0].getsockname()[1])


async def test_a_delivery_goes_to_the_checked_address(resolver: dict[str, list[str]]) -> None:
    receiver = Receiver()
    resolver[NAME] = ["127.0.0.1"]
    async for port in _serving(receiver):
        allowed = Settings(webhook_allow_private=True)
        delivered = await webhooks.deliver(f"http://{NAME}:{port}/hook", {"a": 1}, allowed, 0.01)
        assert delivered  # httpx, resolving the name itself, would not find it
        assert (
            receiver.requests == [("POST /hook HTTP/1.1", receiver.requests[0][1])]
            and receiver.requests[0][1]["host"] == f"{NAME}:{port}"
        )
        # Without private addresses allowed, the same answer is refused, and nothing sent.
        refused = await webhooks.deliver(f"http://{NAME}:{port}/hook", {"a": 2}, Settings(), 0.01)
        assert not refused and len(receiver.requests) == 1


async def test_tls_checks_the_name_not_the_address(
    resolver: dict[str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    receiver = Receiver()
    resolver[NAME] = ["127.0.0.1"]
    allowed = Settings(webhook_allow_private=True)
    async for port in _serving(receiver, tls):
        assert await webhooks.deliver(f"https://{NAME}:{port}/hook", {"a": 1}, allowed, 0.01)
        assert receiver.requests[0][1]["host"] == f"{NAME}:{port}"
        # The certificate names NAME only: a URL naming the address itself fails to verify.
        assert not await webhooks.deliver(f"https://127.0.0.1:{port}/hook", {}, allowed, 0.01)
        assert len(receiver.requests) == 1


async def test_one_internal_answer_refuses_the_name(resolver: dict[str, list[str]]) -> None:
    resolver["mixed.example"] = ["93.184.215.14", "127.0.0.1"]
    resolver["public.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert await webhooks._target("mixed.example", 443, Settings()) is None
    assert await webhooks._target("public.example", 443, Settings()) == "93.184.215.14"
    url, host, extensions = webhooks._pinned("https://public.example:8443/h?x=1", "2606::1")
    assert url == "https://[2606::1]:8443/h?x=1" and host == {"host": "public.example:8443"}
    assert extensions == {"sni_hostname": "public.example"}
