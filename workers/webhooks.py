"""Webhooks: a job given a `webhookUrl` POSTs its outcome there when it ends.

The URL is checked when the job is submitted and again before each delivery (a name
may resolve elsewhere by then): http or https only, a host allowed by
`APOLLONIA_WEBHOOK_ALLOWED_HOSTS` (none: any public host), and no private, loopback,
link-local or otherwise internal address unless `APOLLONIA_WEBHOOK_ALLOW_PRIVATE=true`;
the delivery then connects to the address checked, not to a new lookup of the name.
The body is signed with HMAC-SHA256 under `APOLLONIA_WEBHOOK_SECRET`, sent as
`X-Apollonia-Signature: sha256=<hex>`. A delivery that fails (no answer, or not 2xx)
is retried 3 times with doubling backoff; failing for good is logged, and never fails
the job.
"""

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from music.errors import ValidationError

log = logging.getLogger("apollonia.webhooks")

RETRIES = 3
TIMEOUT = 10.0
SIGNATURE_HEADER = "X-Apollonia-Signature"
MAX_URL = 2048


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def _allowed_host(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return not allowed or any(
        host == a or (a.startswith(".") and host.endswith(a)) for a in (x.lower() for x in allowed)
    )


def check_url(url: str, settings: Any) -> str:
    """`url` if a webhook may be sent there (syntax and host rules only, no DNS);
    VALIDATION_ERROR otherwise."""
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("'webhookUrl' must be an http(s) URL.", field="webhookUrl")
    if not _allowed_host(parts.hostname, tuple(settings.webhook_allowed_hosts)):
        raise ValidationError("'webhookUrl' names a host that is not allowed.", field="webhookUrl")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and _internal(str(literal)) and not settings.webhook_allow_private:
        raise ValidationError("'webhookUrl' names an internal address.", field="webhookUrl")
    if parts.hostname.lower() in ("localhost",) and not settings.webhook_allow_private:
        raise ValidationError("'webhookUrl' names an internal address.", field="webhookUrl")
    return url


async def _addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to now (an address literal: itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def _target(host: str, port: int, settings: Any) -> str | None:
    """The address to connect to: the first that `host` resolves to, None when any of
    them is internal (unless private addresses are allowed). The delivery connects to
    this very address: were the client to resolve the name again, a name that answers
    a public address to this check and 127.0.0.1 to the next lookup (DNS rebinding,
    TTL 0) would reach an internal service."""
    found = await _addresses(host, port)
    if not found:
        return None
    if not settings.webhook_allow_private and any(_internal(a) for a in found):
        return None
    return found[0]


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`url` sent to `address`: the URL with the address for its host, the Host header
    it would have sent, and for https the name that TLS verifies (SNI and the
    certificate's name: httpx's `sni_hostname` extension)."""
    parts = urlsplit(url)
    host = str(parts.hostname)

    def netloc(name: str) -> str:
        bracketed = f"[{name}]" if ":" in name else name
        return bracketed if parts.port is None else f"{bracketed}:{parts.port}"

    extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc(address)).geturl(), {"host": netloc(host)}, extensions


async def deliver(url: str, payload: dict[str, Any], settings: Any, backoff: float = 1.0) -> bool:
    """POST `payload` to `url`, signed; retried RETRIES times. True once delivered."""
    body = orjson.dumps(payload)
    headers = {"content-type": "application/json", "user-agent": "apollonia-webhooks"}
    if settings.webhook_secret:
        headers[SIGNATURE_HEADER.lower()] = sign(settings.webhook_secret, body)
    # Imported here: the API process checks webhook URLs but never delivers, and httpx
    # brings ~100 modules (rich, pygments for its command line) it would not use.
    import httpx

    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        for attempt in range(RETRIES + 1):
            if attempt:
                await asyncio.sleep(backoff * 2 ** (attempt - 1))
            try:
                check_url(url, settings)
                parts = urlsplit(url)
                port = parts.port or (443 if parts.scheme == "https" else 80)
                address = await _target(str(parts.hostname), port, settings)
                if address is None:
                    log.warning("webhook to %s refused: it resolves to an internal address", url)
                    return False
                target, host, extensions = _pinned(url, address)
                response = await client.post(
                    target, content=body, headers=headers | host, extensions=extensions
                )
                if 200 <= response.status_code < 300:
                    return True
                log.info("webhook attempt %d: HTTP %d", attempt + 1, response.status_code)
            except ValidationError:
                log.warning("webhook to %s refused by configuration", url)
                return False
            except (httpx.HTTPError, OSError) as e:
                log.info("webhook attempt %d failed: %s", attempt + 1, type(e).__name__)
    log.warning("webhook to %s not delivered after %d attempts", url, RETRIES + 1)
    return False


async def notify(ctx: Any, result: Any, error: dict[str, str] | None = None) -> None:
    """Deliver a finished job's result (or, with `error`, why it failed for good) to its
    `webhookUrl`, if it has one."""
    url = (ctx.job.get("params") or {}).get("webhookUrl")
    if not url:
        return
    payload = {
        "event": "job.failed" if error else "job.completed",
        "jobId": ctx.job["id"],
        "kind": ctx.job["kind"],
        "status": "failed" if error else "completed",
        "result": result,
        "error": error,
        "timestamp": int(time.time() * 1000),
    }
    settings = ctx.settings
    await deliver(url, payload, settings, settings.webhook_backoff_ms / 1000)
