"""Sending mail (password resets, e-mail verification): a small pluggable sender.

`APOLLONIA_SMTP_URL` (`smtp://user:password@host:587`, STARTTLS when the server offers
it; `smtps://…:465` for implicit TLS) sends through aiosmtplib. Without it, messages are
written as `.eml` files to the outbox folder (`<data dir>/outbox` by default), which is
what development and the tests read.
"""

import asyncio
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib


class MailSender(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


def message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail.set_content(body)
    return mail


class OutboxMail:
    """Writes each message to `folder` as an `.eml` file (development, tests)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        data = message(self.sender, to, subject, body).as_bytes()
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        await asyncio.to_thread(self._write, name, data)

    def _write(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(data)
        temporary.replace(self.folder / name)  # readers never see half a message


class SmtpMail:
    """Sends through an SMTP server with aiosmtplib."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("APOLLONIA_SMTP_URL must be smtp://host[:port] or smtps://…")
        self.hostname = parts.hostname
        self.implicit_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    async def send(self, to: str, subject: str, body: str) -> None:
        await aiosmtplib.send(
            message(self.sender, to, subject, body),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            start_tls=None if not self.implicit_tls else False,
            timeout=self.timeout,
        )


def mail_sender(smtp_url: str, outbox: Path, sender: str) -> MailSender:
    """SMTP when a URL is configured, else the outbox folder."""
    return SmtpMail(smtp_url, sender) if smtp_url else OutboxMail(outbox, sender)
