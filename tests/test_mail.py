"""The mail senders: the development outbox, and SMTP through aiosmtplib against a
small SMTP server on 127.0.0.1 that records what it receives."""

import asyncio
import email
from pathlib import Path

from server.mail import OutboxMail, SmtpMail, mail_sender


class Receiver:
    """Enough of RFC 5321 to take one message: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.data = b""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        while line := await reader.readline():
            command = line.decode().strip()
            self.commands.append(command.split(" ", 1)[0].upper())
            verb = self.commands[-1]
            if verb == "EHLO":
                writer.write(b"250-test\r\n250 AUTH PLAIN\r\n")
            elif verb == "AUTH":
                writer.write(b"235 ok\r\n")
            elif verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                while (chunk := await reader.readline()) != b".\r\n":
                    self.data += chunk
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


async def test_smtp_sends_the_message() -> None:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        sender = mail_sender(f"smtp://me:secret@127.0.0.1:{port}", Path("unused"), "A <a@x.org>")
        assert isinstance(sender, SmtpMail)
        await sender.send("b@example.com", "Hello", "Body text\n")
    assert receiver.commands[:2] == ["EHLO", "AUTH"]
    assert {"MAIL", "RCPT", "DATA", "QUIT"} <= set(receiver.commands)
    got = email.message_from_bytes(receiver.data)
    assert (got["To"], got["Subject"], got["From"]) == ("b@example.com", "Hello", "A <a@x.org>")
    assert "Body text" in got.get_payload()


async def test_outbox_writes_one_eml_per_message(tmp_path: Path) -> None:
    sender = mail_sender("", tmp_path / "outbox", "A <a@x.org>")
    assert isinstance(sender, OutboxMail)
    await sender.send("b@example.com", "One", "1\n")
    await sender.send("c@example.com", "Two", "2\n")
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert [email.message_from_bytes(f.read_bytes())["Subject"] for f in files] == ["One", "Two"]
    assert not list((tmp_path / "outbox").glob(".*.tmp"))
